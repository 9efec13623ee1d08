import { randomUUID } from 'node:crypto';
import type { GroupRecord } from '../../alerting/group-record.js';
import type { Actor, AlertNotifier } from '../../alerting/ports.js';
import type { DueEscalation } from '../../core/alerts/escalation.js';
import type { GroupChange } from '../../core/alerts/group.js';
import {
  acknowledgedNote,
  changesNote,
  escalationDm,
  escalationNote,
  silencedNote,
  unsilencedNote,
} from './alert-notes.js';
import type { Outbox } from './outbox.js';
import type { OutboxJob } from './outbox-journal.js';

/** What the outbox carries for alerting (and announcements). */
export type SlackJob =
  | { kind: 'group-message'; groupId: string }
  | { kind: 'thread'; groupId: string; text: string }
  | { kind: 'dm'; user: string; text: string }
  | { kind: 'post'; channel: string; text: string };

/** Alert news as outbox jobs, all keyed by group so they reach Slack in order. */
export class SlackAlertNotifier implements AlertNotifier {
  constructor(
    private readonly outbox: Pick<Outbox<SlackJob>, 'enqueue'>,
    private readonly options: { channel: string; oncall?: string },
  ) {}

  groupChanged(record: GroupRecord, changes: readonly GroupChange[]): Promise<void> {
    if (changes.length === 0 && record.message) return Promise.resolve(); // a plain resend
    const note = changesNote(record, changes, this.options.oncall);
    return this.outbox.enqueue([messageJob(record), ...(note ? [threadJob(record, note)] : [])]);
  }

  acknowledged(record: GroupRecord, by: Actor): Promise<void> {
    return this.outbox.enqueue([messageJob(record), threadJob(record, acknowledgedNote(by.id))]);
  }

  silenced(record: GroupRecord, by: Actor, until: number): Promise<void> {
    const id = record.state.silence?.id ?? '?';
    return this.outbox.enqueue([messageJob(record), threadJob(record, silencedNote(by.id, until, id))]);
  }

  unsilenced(record: GroupRecord, by: Actor): Promise<void> {
    return this.outbox.enqueue([messageJob(record), threadJob(record, unsilencedNote(by.id))]);
  }

  /** Job ids derive from the fencing key: queued twice (a crash in between), they are sent once. */
  escalated(record: GroupRecord, due: readonly DueEscalation[]): Promise<void> {
    const jobs: OutboxJob<SlackJob>[] = [];
    for (const tier of due) {
      jobs.push({
        ...threadJob(record, escalationNote(tier)),
        id: `${tier.key}#thread`,
        fence: tier.key,
      });
      for (const user of tier.notify.filter((id) => /^[UW]/.test(id))) {
        jobs.push({
          id: `${tier.key}#dm:${user}`,
          key: keyOf(record),
          priority: 0,
          fence: tier.key,
          payload: { kind: 'dm', user, text: escalationDm(record, tier, this.options.channel) },
        });
      }
    }
    return this.outbox.enqueue(jobs);
  }

  refresh(record: GroupRecord): Promise<void> {
    return this.outbox.enqueue([messageJob(record)]);
  }
}

const keyOf = (record: GroupRecord) => `group:${record.id}`;

function messageJob(record: GroupRecord): OutboxJob<SlackJob> {
  return {
    id: randomUUID(),
    key: keyOf(record),
    priority: 1,
    coalesce: `message:${record.id}`,
    payload: { kind: 'group-message', groupId: record.id },
  };
}

function threadJob(record: GroupRecord, text: string): OutboxJob<SlackJob> {
  return {
    id: randomUUID(),
    key: keyOf(record),
    priority: 0,
    payload: { kind: 'thread', groupId: record.id, text },
  };
}
