import { createHash } from 'node:crypto';
import type { AlertGroupState } from '../core/alerts/group.js';

/** What Switchyard keeps per Alertmanager group: the core's state plus where its Slack message is. */
export interface GroupRecord {
  /** Short, stable id of the group key: safe in file names and button values. */
  id: string;
  state: AlertGroupState;
  /** The channel and `ts` of the group's top-level message, once posted. */
  message?: { channel: string; ts: string };
  /** Fencing keys of the escalations already handed to the outbox (see `escalationKey`). */
  sentEscalations: string[];
}

export function groupIdOf(groupKey: string): string {
  return createHash('sha256').update(groupKey).digest('hex').slice(0, 24);
}

/** Durable group records: every write is on disk before it returns. */
export interface GroupStore {
  load(): Promise<void>;
  get(id: string): GroupRecord | undefined;
  all(): GroupRecord[];
  /**
   * Runs `change` alone for this group. A returned `next` is written before anything else happens;
   * then `after` runs, still alone for the group (so what it queues sees the state just written).
   */
  update<R>(
    id: string,
    change: (current: GroupRecord | undefined) => Change<R> | Promise<Change<R>>,
  ): Promise<R>;
  /**
   * Deletes the group's record (on disk first, then in memory) when `when(current)` holds, checked
   * alone for the group, so a notification arriving at the same moment is never lost. True when deleted.
   */
  forget(id: string, when: (current: GroupRecord) => boolean): Promise<boolean>;
}

export interface Change<R> {
  next?: GroupRecord;
  result: R;
  after?: (saved: GroupRecord) => Promise<void>;
}
