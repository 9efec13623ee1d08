import { createHash } from 'node:crypto';
import { z } from 'zod';
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
  /** The firing groups only, from an index: cost grows with them, not with every group kept. */
  firing(): GroupRecord[];
  readonly firingCount: number;
  /**
   * Runs `change` alone for this group. A returned `next` is in memory once its data is written and
   * on disk (fsynced) before this resolves; `after` runs as soon as it is in memory, alongside the
   * fsyncs, still alone for the group (so what it queues sees the state just written), and this
   * resolves when both are done. Without a `next`, `after` runs with the current record.
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
  /**
   * Shared stores (several replicas): reads one group from the store itself, for a record another
   * replica wrote that this one has not heard of yet (a job for it may arrive first).
   */
  refresh?(id: string): Promise<GroupRecord | undefined>;
}

/** A group store that tells listeners after each write or deletion (the App Home shows open groups). */
export interface ObservableGroupStore extends GroupStore {
  /** `listener` runs (synchronously, must not throw) after a group was written or forgotten. */
  onChange(listener: () => void): void;
  /** Shared stores: a full re-read (a replica that comes to lead starts from what the store holds). */
  resync?(): Promise<void>;
}

export interface Change<R> {
  next?: GroupRecord;
  result: R;
  after?: (saved: GroupRecord) => Promise<void>;
}

const text = z.record(z.string(), z.string());
const alertSchema = z.object({
  fingerprint: z.string(),
  status: z.enum(['firing', 'resolved']),
  labels: text,
  annotations: text,
  startsAt: z.string(),
  endsAt: z.string(),
  generatorURL: z.string().optional(),
});

/** A group file as it must be to be used at start (checked field by field; a bad file is quarantined). */
export const groupRecordSchema = z.looseObject({
  id: z.string().regex(/^[0-9a-f]{24}$/, 'expected a 24-digit hex id'),
  state: z.looseObject({
    groupKey: z.string().min(1),
    receiver: z.string(),
    groupLabels: text,
    commonLabels: text,
    commonAnnotations: text,
    alerts: z.record(z.string(), alertSchema),
    truncatedAlerts: z.number().int().nonnegative(),
    openedAt: z.number(),
    // Newer fields: optional, so records written before them still load.
    receivedAt: z.number().optional(),
    chain: z
      .array(z.object({ after: z.number(), notify: z.array(z.string()), name: z.string().optional() }))
      .optional(),
    externalURL: z.string().optional(),
    status: z.enum(['firing', 'resolved']),
    severity: z.enum(['sev1', 'sev2', 'sev3']),
    acknowledged: z.object({ by: z.string(), at: z.number() }).optional(),
    silence: z
      .object({ id: z.string(), by: z.string(), until: z.number(), at: z.number().optional() })
      .optional(),
    resolvedAt: z.number().optional(),
    lastNotificationAt: z.number(),
  }),
  message: z.object({ channel: z.string(), ts: z.string() }).optional(),
  sentEscalations: z.array(z.string()),
}) satisfies z.ZodType<GroupRecord>;
