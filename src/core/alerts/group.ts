import { DEFAULT_SEVERITY_MAPPING, groupSeverity } from './severity.js';
import type { Alert, AlertNotification, AlertStatus, EscalationTier, Severity } from './types.js';

/**
 * What Switchyard knows about one Alertmanager aggregation group. Plain data: it is stored as JSON
 * and rebuilt from the notifications; times are epoch ms.
 */
export interface AlertGroupState {
  groupKey: string;
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  /** Every alert seen in the group, by fingerprint, in its last known state. */
  alerts: Record<string, Alert>;
  /** `truncatedAlerts` of the latest notification. */
  truncatedAlerts: number;
  /**
   * Start of the current firing episode: the earliest `startsAt` among the firing alerts of the
   * notification that opened (or reopened) it, never later than the time it was received. Fixed for
   * the episode, so that escalation times and fencing keys stay stable.
   */
  openedAt: number;
  /**
   * When the bot first received the current episode (the notification that opened or reopened it).
   * Escalation counts from here, not from `startsAt`. Absent in records written before it existed.
   */
  receivedAt?: number;
  /**
   * The escalation chain as configured when the episode opened: a config change does not rewrite a
   * running chain. Absent in records written before it existed (the configured chain applies).
   */
  chain?: EscalationTier[];
  /** Alertmanager's `externalURL` from the latest notification (its UI: the silences page). */
  externalURL?: string;
  status: AlertStatus;
  severity: Severity;
  acknowledged?: { by: string; at: number };
  /** `at`: when it was made (absent in records written before the incident timeline). */
  silence?: { id: string; by: string; until: number; at?: number };
  /** When the episode ended: the latest `endsAt` of its alerts (the receipt time when unknown). */
  resolvedAt?: number;
  lastNotificationAt: number;
}

export type GroupChange =
  | { kind: 'opened' }
  | { kind: 'reopened' }
  | { kind: 'alert-firing'; fingerprint: string }
  | { kind: 'alert-resolved'; fingerprint: string }
  | { kind: 'severity-changed'; from: Severity; to: Severity }
  | { kind: 'group-resolved' };

export interface ApplyOptions {
  /** `severity` label value → level; defaults to critical→sev1, warning→sev2, else sev3. */
  severityMapping?: Readonly<Record<string, Severity>>;
  /**
   * The escalation chain to snapshot into a new or reopened episode (see `AlertGroupState.chain`);
   * `snapshotChain` of the configured tiers. Unset: no snapshot, the configured chain applies.
   */
  chain?: readonly EscalationTier[];
}

export interface ApplyResult {
  state: AlertGroupState;
  /** What is new, in order: opened/reopened first, group-resolved last. Empty for a plain resend. */
  changes: GroupChange[];
}

/** Epoch ms of an RFC 3339 time; undefined for an unparsable time or Alertmanager's zero time. */
function epochMs(text: string): number | undefined {
  const ms = Date.parse(text);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

function copyAlert(alert: Alert): Alert {
  return { ...alert, labels: { ...alert.labels }, annotations: { ...alert.annotations } };
}

function earliestStart(alerts: readonly Alert[], fallback: number): number {
  let earliest: number | undefined;
  for (const alert of alerts) {
    const ms = epochMs(alert.startsAt);
    if (ms !== undefined && (earliest === undefined || ms < earliest)) earliest = ms;
  }
  return earliest ?? fallback;
}

function latestEnd(alerts: readonly Alert[], fallback: number): number {
  let latest: number | undefined;
  for (const alert of alerts) {
    const ms = epochMs(alert.endsAt);
    if (ms !== undefined && (latest === undefined || ms > latest)) latest = ms;
  }
  return latest ?? fallback;
}

/**
 * Folds one webhook notification into the group's state. Pure and idempotent: the same notification
 * applied again gives no changes and the same state (apart from `lastNotificationAt`).
 *
 * Alerts absent from the notification keep their last known state: Alertmanager sends the whole group
 * each time, but `max_alerts` can leave some out (`truncatedAlerts`), and silenced alerts are omitted.
 * A resolved group that fires again is reopened: a new episode with a new `openedAt`, the
 * acknowledgement cleared, escalation counted afresh, and the last episode's resolved alerts that the
 * notification does not mention dropped.
 */
export function applyNotification(
  previous: AlertGroupState | undefined,
  notification: AlertNotification,
  now: number,
  options: ApplyOptions = {},
): ApplyResult {
  if (previous !== undefined && previous.groupKey !== notification.groupKey) {
    throw new RangeError(
      `notification for group ${JSON.stringify(notification.groupKey)} applied to group ${JSON.stringify(previous.groupKey)}`,
    );
  }
  const mapping = options.severityMapping ?? DEFAULT_SEVERITY_MAPPING;

  const merged = new Map<string, Alert>(Object.entries(previous?.alerts ?? {}));
  const alertChanges: GroupChange[] = [];
  const incoming = new Map<string, Alert>();
  for (const alert of notification.alerts) incoming.set(alert.fingerprint, alert); // the last copy wins
  for (const [fingerprint, alert] of incoming) {
    const known = merged.get(fingerprint);
    merged.set(fingerprint, copyAlert(alert));
    if (known?.status === alert.status) continue;
    alertChanges.push(
      alert.status === 'firing'
        ? { kind: 'alert-firing', fingerprint }
        : { kind: 'alert-resolved', fingerprint },
    );
  }

  const anyFiring = [...merged.values()].some((alert) => alert.status === 'firing');
  if (previous?.status === 'resolved' && anyFiring) {
    // Reopening: the resolved alerts of the last episode that this notification does not mention
    // belong to that episode, and are dropped (so a long-lived group does not grow without end).
    for (const [fingerprint, alert] of merged) {
      if (alert.status === 'resolved' && !incoming.has(fingerprint)) merged.delete(fingerprint);
    }
  }
  const all = [...merged.values()];
  const firing = all.filter((alert) => alert.status === 'firing');
  const status: AlertStatus = firing.length > 0 ? 'firing' : 'resolved';
  const severity = groupSeverity(all, mapping);

  const base = {
    groupKey: notification.groupKey,
    receiver: notification.receiver,
    groupLabels: { ...notification.groupLabels },
    commonLabels: { ...notification.commonLabels },
    commonAnnotations: { ...notification.commonAnnotations },
    alerts: Object.fromEntries(merged),
    truncatedAlerts: notification.truncatedAlerts,
    ...(notification.externalURL && { externalURL: notification.externalURL }),
    status,
    severity,
    lastNotificationAt: now,
  };
  // A new episode: received now, along the chain configured now.
  const episode = {
    receivedAt: now,
    ...(options.chain && { chain: options.chain.map((tier) => ({ ...tier, notify: [...tier.notify] })) }),
  };
  // A running episode keeps both.
  const running = (p: AlertGroupState) => ({
    ...(p.receivedAt !== undefined && { receivedAt: p.receivedAt }),
    ...(p.chain && { chain: p.chain }),
  });
  const resolvedAt = (openedAt: number) => Math.max(openedAt, Math.min(now, latestEnd(all, now)));

  if (previous === undefined) {
    if (all.length === 0) return { state: { ...base, openedAt: now }, changes: [] };
    if (status === 'firing') {
      const openedAt = Math.min(now, earliestStart(firing, now));
      return { state: { ...base, openedAt, ...episode }, changes: [{ kind: 'opened' }, ...alertChanges] };
    }
    // First heard of when already resolved (say, the bot was down while it fired).
    const openedAt = Math.min(now, earliestStart(all, now));
    return {
      state: { ...base, openedAt, resolvedAt: resolvedAt(openedAt) },
      changes: [...alertChanges, { kind: 'group-resolved' }],
    };
  }

  const { acknowledged, silence } = previous;
  const kept = { ...(acknowledged && { acknowledged }), ...(silence && { silence }) };
  const severityChange: GroupChange[] =
    previous.severity === severity
      ? []
      : [{ kind: 'severity-changed', from: previous.severity, to: severity }];

  if (previous.status === 'resolved' && status === 'firing') {
    // A new episode. Its start must differ from the last one's, or escalations of the new episode
    // would be fenced off as already sent.
    const openedAt = Math.max(Math.min(now, earliestStart(firing, now)), previous.openedAt + 1);
    return {
      state: { ...base, openedAt, ...episode, ...(silence && { silence }) },
      changes: [{ kind: 'reopened' }, ...alertChanges],
    };
  }
  if (previous.status === 'firing' && status === 'resolved') {
    return {
      state: {
        ...base,
        openedAt: previous.openedAt,
        ...running(previous),
        ...kept,
        resolvedAt: resolvedAt(previous.openedAt),
      },
      changes: [...alertChanges, ...severityChange, { kind: 'group-resolved' }],
    };
  }
  return {
    state: {
      ...base,
      openedAt: previous.openedAt,
      ...running(previous),
      ...kept,
      ...(previous.resolvedAt !== undefined && status === 'resolved' && { resolvedAt: previous.resolvedAt }),
    },
    changes: [...alertChanges, ...severityChange],
  };
}

/** Records who acknowledged the current episode. The first acknowledgement stands: a second one returns `state` as is. */
export function acknowledge(state: AlertGroupState, by: string, at: number): AlertGroupState {
  if (state.acknowledged !== undefined) return state;
  return { ...state, acknowledged: { by, at } };
}

/** Records the Alertmanager silence created for the group (replacing an earlier one). */
export function recordSilence(
  state: AlertGroupState,
  silence: { id: string; by: string; until: number; at?: number },
): AlertGroupState {
  const { id, by, until, at } = silence;
  return { ...state, silence: { id, by, until, ...(at !== undefined && { at }) } };
}

export function clearSilence(state: AlertGroupState): AlertGroupState {
  if (state.silence === undefined) return state;
  const { silence: _silence, ...rest } = state;
  return rest;
}

/** True while a recorded silence has not yet ended. */
export function isSilenced(state: AlertGroupState, now: number): boolean {
  return state.silence !== undefined && state.silence.until > now;
}
