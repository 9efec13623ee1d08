import {
  chainOf,
  dueEscalations,
  type EscalationTier,
  isEscalating,
  sentTierIndexes,
  snapshotChain,
} from '../core/alerts/escalation.js';
import {
  type AlertGroupState,
  acknowledge,
  applyNotification,
  clearSilence,
  recordSilence,
} from '../core/alerts/group.js';
import { expiredOf, isExpired } from '../core/alerts/retention.js';
import { severityOf } from '../core/alerts/severity.js';
import type { AlertNotification, Severity } from '../core/alerts/types.js';
import { formatDuration } from '../core/duration.js';
import { type GroupRecord, type GroupStore, groupIdOf } from '../ports/alert-groups.js';
import type { Actor, AlertNotifier, AlertObserver, SilenceApi, SilenceMatcher } from '../ports/alerting.js';

export interface AlertServiceOptions {
  store: GroupStore;
  notifier: AlertNotifier;
  /** Absent when ALERTMANAGER_URL is not set: silencing is then refused with a reason. */
  silences?: SilenceApi;
  tiers: readonly EscalationTier[];
  severityMapping?: Readonly<Record<string, Severity>>;
  observer?: AlertObserver;
  /**
   * How long a resolved group is remembered (`alerts.retention`); see `forgetExpired`. Unset: forever.
   */
  retentionMs?: number;
  /**
   * Holds back forgetting while it returns true (checked alone for the group, just before deleting):
   * the Slack adapter keeps records while posts are still queued, so no job finds its group gone.
   */
  holdRetention?: (record: GroupRecord) => boolean;
  now?: () => number;
}

const HOUR = 3_600_000;
/** Groups recovered at once after a restart. */
const RECOVER_BATCH = 256;

/** What a button click did, said to the person who clicked. */
export type ActionOutcome = { ok: boolean; text: string };

/**
 * The alerting use-cases: fold Alertmanager notifications into durable group records, acknowledge,
 * silence, and fire due escalations. Nothing here knows Slack; the notifier does.
 */
export class AlertService {
  private readonly now: () => number;

  constructor(private readonly options: AlertServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Records the notification durably and queues what it changes; resolves before the webhook answers. */
  async ingest(notification: AlertNotification): Promise<GroupRecord> {
    const id = groupIdOf(notification.groupKey);
    const mapping = this.options.severityMapping;
    const record = await this.options.store.update(id, async (current) => {
      const { state, changes } = applyNotification(current?.state, notification, this.now(), {
        ...(mapping && { severityMapping: mapping }),
        // A new episode escalates along the chain configured now, whatever the config says later.
        chain: snapshotChain(this.options.tiers),
      });
      const next: GroupRecord = { id, sentEscalations: [], ...current, state };
      // Queued after the record is written, so the message job renders this state or a later one. A
      // crash in between: no 200 yet, so Alertmanager resends; and `recover` refreshes the message.
      return { next, result: next, after: (saved) => this.options.notifier.groupChanged(saved, changes) };
    });
    for (const alert of notification.alerts) {
      this.options.observer?.received?.(alert.status, severityOf(alert.labels, mapping), 1);
    }
    this.reportActive();
    return record;
  }

  async acknowledge(id: string, by: Actor): Promise<ActionOutcome> {
    return this.options.store.update(id, async (current) => {
      if (!current) return { result: unknownGroup() };
      if (current.state.status === 'resolved')
        return {
          result: { ok: false, text: 'This alert group is already resolved; nothing to acknowledge.' },
        };
      if (current.state.acknowledged) {
        const { by: who } = current.state.acknowledged;
        return { result: { ok: false, text: `Already acknowledged by <@${who}>; escalation is stopped.` } };
      }
      const next = { ...current, state: acknowledge(current.state, by.id, this.now()) };
      return {
        next,
        result: { ok: true, text: 'Acknowledged: escalation stopped.' },
        after: (saved) => this.options.notifier.acknowledged(saved, by),
      };
    });
  }

  async silence(id: string, by: Actor, durationMs: number): Promise<ActionOutcome> {
    const api = this.options.silences;
    if (!api) {
      return {
        ok: false,
        text: 'Silencing needs `ALERTMANAGER_URL`, which is not set. Nothing was changed.',
      };
    }
    // A shared store runs the change again when another replica wrote the group meanwhile: the silence
    // made by the first run is kept, not made twice (a second one would outlive an unsilence).
    let made: { silenceId: string; until: number } | undefined;
    return this.options.store.update(id, async (current) => {
      if (!current) return { result: unknownGroup() };
      const matchers = matchersOf(current.state);
      if (matchers.length === 0) {
        return { result: { ok: false, text: 'This group has no labels to match, so I cannot silence it.' } };
      }
      const start = this.now();
      made ??= {
        silenceId: await this.createSilence(api, matchers, start, durationMs, by),
        until: start + durationMs,
      };
      const { silenceId, until } = made;
      const next = {
        ...current,
        state: recordSilence(current.state, { id: silenceId, by: by.id, until, at: this.now() }),
      };
      return {
        next,
        result: { ok: true, text: `Silenced for ${formatDuration(durationMs)} (silence ${silenceId}).` },
        after: (saved) => this.options.notifier.silenced(saved, by, until),
      };
    });
  }

  private createSilence(
    api: SilenceApi,
    matchers: SilenceMatcher[],
    start: number,
    durationMs: number,
    by: Actor,
  ): Promise<string> {
    return api.create({
      matchers,
      startsAt: new Date(start),
      endsAt: new Date(start + durationMs),
      createdBy: by.name ? `${by.name} (${by.id})` : by.id,
      comment: `Silenced from Slack by ${by.id} for ${formatDuration(durationMs)} (Switchyard)`,
    });
  }

  async unsilence(id: string, by: Actor): Promise<ActionOutcome> {
    const api = this.options.silences;
    if (!api) return { ok: false, text: 'Unsilencing needs `ALERTMANAGER_URL`, which is not set.' };
    // Expired once per click: a shared store runs the change again after a conflict, and Alertmanager
    // refuses to expire a silence that is expired already.
    const expired = new Set<string>();
    return this.options.store.update(id, async (current) => {
      if (!current) return { result: unknownGroup() };
      const silence = current.state.silence;
      if (!silence) return { result: { ok: false, text: 'This group is not silenced.' } };
      if (!expired.has(silence.id)) {
        await api.expire(silence.id);
        expired.add(silence.id);
      }
      const next = { ...current, state: clearSilence(current.state) };
      return {
        next,
        result: { ok: true, text: `Silence ${silence.id} expired.` },
        after: (saved) => this.options.notifier.unsilenced(saved, by),
      };
    });
  }

  /** Queues every escalation tier now due; returns how many. Safe to call concurrently and repeatedly. */
  async escalate(): Promise<number> {
    let fired = 0;
    for (const candidate of this.options.store.firing()) {
      if (!isEscalating(candidate.state, this.now())) continue;
      fired += await this.options.store.update(candidate.id, async (current) => {
        if (!current) return { result: 0 };
        const sent = sentTierIndexes(current.state, current.sentEscalations);
        const due = dueEscalations(current.state, this.options.tiers, sent, this.now());
        if (due.length === 0) return { result: 0 };
        // Journalled (with the fencing keys) before the keys are recorded: see `recover`.
        await this.options.notifier.escalated(current, due);
        for (const tier of due) this.options.observer?.escalated?.(tier.tierIndex);
        const next = { ...current, sentEscalations: [...current.sentEscalations, ...due.map((d) => d.key)] };
        return { next, result: due.length };
      });
    }
    return fired;
  }

  /**
   * After a restart: fencing keys found in the outbox journal (queued just before a crash, perhaps
   * before the record was written) count as sent; the message of every group that is firing, changed
   * within the last hour or was never posted is brought up to date (a crash may have come between a
   * record's write and its message job).
   */
  async recover(queuedFences: Iterable<string>): Promise<void> {
    const fences = [...queuedFences];
    // Groups are independent: recovered many at a time, so their refreshes share journal writes.
    const records = this.options.store.all();
    for (let start = 0; start < records.length; start += RECOVER_BATCH) {
      await Promise.all(
        records.slice(start, start + RECOVER_BATCH).map((record) => this.recoverOne(record, fences)),
      );
    }
    this.reportActive();
  }

  private recoverOne(record: GroupRecord, fences: readonly string[]): Promise<void> {
    return this.options.store.update(record.id, async (current) => {
      if (!current) return { result: undefined };
      // sentTierIndexes keeps only keys of this group's current episode.
      const mine = fences.filter(
        (key) => !current.sentEscalations.includes(key) && sentTierIndexes(current.state, [key]).length > 0,
      );
      const recent =
        !current.message ||
        current.state.status === 'firing' ||
        current.state.lastNotificationAt > this.now() - HOUR;
      const after = recent ? (saved: GroupRecord) => this.options.notifier.refresh(saved) : undefined;
      if (mine.length === 0) return { result: undefined, after };
      return {
        next: { ...current, sentEscalations: [...current.sentEscalations, ...mine] },
        result: undefined,
        after,
      };
    });
  }

  /**
   * Forgets every resolved group whose retention has run out (`isExpired`): record file deleted,
   * dropped from memory. A firing group is never forgotten. Should the same group key fire again later,
   * it is a new group with a new top-level message. Returns how many were forgotten.
   */
  async forgetExpired(): Promise<number> {
    const retention = this.options.retentionMs;
    if (retention === undefined) return 0;
    const hold = this.options.holdRetention;
    let forgotten = 0;
    for (const candidate of expiredOf(this.options.store.all(), retention, this.now())) {
      // Checked again alone for the group: a notification may have reopened it meanwhile.
      const gone = await this.options.store.forget(
        candidate.id,
        (current) => isExpired(current.state, retention, this.now()) && !hold?.(current),
      );
      if (gone) forgotten += 1;
    }
    return forgotten;
  }

  get(id: string): GroupRecord | undefined {
    return this.options.store.get(id);
  }

  /**
   * Whether `user` was paged by name (a user ID in a tier already sent) in the group's current
   * episode: the person a page reaches may acknowledge it from the page, operator or not.
   */
  wasPaged(id: string, user: string): boolean {
    const record = this.options.store.get(id);
    if (!record) return false;
    const chain = chainOf(record.state, this.options.tiers);
    return sentTierIndexes(record.state, record.sentEscalations).some(
      (index) => chain[index]?.notify.includes(user) ?? false,
    );
  }

  activeGroups(): number {
    return this.options.store.firingCount;
  }

  private reportActive(): void {
    this.options.observer?.activeGroups?.(this.activeGroups());
  }
}

function unknownGroup(): ActionOutcome {
  return { ok: false, text: 'I do not know this alert group (any more). Nothing was changed.' };
}

/** Silence matchers: the group's labels (what Alertmanager grouped by), else the labels all alerts share. */
export function matchersOf(state: AlertGroupState): SilenceMatcher[] {
  const labels = Object.keys(state.groupLabels).length > 0 ? state.groupLabels : state.commonLabels;
  return Object.keys(labels)
    .sort()
    .map((name) => ({ name, value: labels[name]!, isRegex: false, isEqual: true }));
}
