import { randomUUID } from 'node:crypto';
import type { DueEscalation } from '../../core/alerts/escalation.js';
import type { GroupChange } from '../../core/alerts/group.js';
import {
  acknowledgedNote,
  changesNote,
  escalationNote,
  silencedNote,
  unsilencedNote,
} from '../../messages/alert-notes.js';
import type { GroupRecord } from '../../ports/alert-groups.js';
import type { Actor, AlertNotifier } from '../../ports/alerting.js';
import type { Outbox } from './outbox.js';
import { PRIORITY, type SlackJob } from './outbox-chat.js';
import type { OutboxJob } from './outbox-journal.js';

export type { SlackJob } from './outbox-chat.js';

/**
 * Alert news as outbox jobs, all keyed by group so they reach Slack in order. A new group's message
 * and escalation pings are urgent; a refresh after a restart comes last.
 */
export class SlackAlertNotifier implements AlertNotifier {
  constructor(
    private readonly outbox: Pick<Outbox<SlackJob>, 'enqueue'>,
    private readonly options: { channel: string; oncall?: string },
  ) {}

  groupChanged(record: GroupRecord, changes: readonly GroupChange[]): Promise<void> {
    if (changes.length === 0 && record.message) return Promise.resolve(); // a plain resend
    const note = changesNote(record, changes, this.options.oncall);
    // Sent while the group's record and this journal entry are synced (see GroupStore.update).
    return this.outbox.enqueue([messageJob(record), ...(note ? [threadJob(record, note)] : [])], {
      early: true,
    });
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
        priority: PRIORITY.urgent,
        fence: tier.key,
      });
      for (const user of tier.notify.filter((id) => /^[UW]/.test(id))) {
        jobs.push({
          id: `${tier.key}#dm:${user}`,
          key: keyOf(record),
          priority: PRIORITY.urgent,
          fence: tier.key,
          payload: {
            kind: 'page',
            user,
            groupId: record.id,
            tier: { tierIndex: tier.tierIndex, name: tier.name },
          },
        });
      }
    }
    return this.outbox.enqueue(jobs);
  }

  refresh(record: GroupRecord): Promise<void> {
    // A group whose message was never posted (a crash came first) is still new news.
    return this.outbox.enqueue([messageJob(record, record.message ? PRIORITY.refresh : PRIORITY.urgent)]);
  }
}

const keyOf = (record: GroupRecord) => `group:${record.id}`;

/** A group never posted yet is new (urgent: a sev1's message carries the on-call ping); else an update. */
function messageJob(record: GroupRecord, priority?: number): OutboxJob<SlackJob> {
  return {
    id: randomUUID(),
    key: keyOf(record),
    priority: priority ?? (record.message ? PRIORITY.update : PRIORITY.urgent),
    coalesce: `message:${record.id}`,
    payload: { kind: 'group-message', groupId: record.id },
  };
}

function threadJob(record: GroupRecord, text: string): OutboxJob<SlackJob> {
  return {
    id: randomUUID(),
    key: keyOf(record),
    priority: PRIORITY.post,
    payload: { kind: 'thread', groupId: record.id, text },
  };
}
