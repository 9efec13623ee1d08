import { parseDuration } from '../duration.js';
import { type AlertGroupState, isSilenced } from './group.js';

/**
 * Escalation as data, after Grafana OnCall: the schedule is a function of the group's state and the
 * time; a fencing key per (group, episode, tier) makes a duplicate or stale timer harmless.
 *
 * Tier 0 of the seed's matrix (the on-call engineer, at once) is the initial ping when a group opens;
 * the tiers here are the config's `escalation.tiers`, counted from the episode's `openedAt`.
 */
export interface EscalationTier {
  /** ms after the episode opened. */
  after: number;
  /** Slack user (U…/W…) or user-group (S…) IDs. */
  notify: string[];
}

export interface DueEscalation {
  tierIndex: number;
  notify: string[];
  dueAt: number;
  /** `escalationKey(state, tierIndex)`: record it before sending, skip when already recorded. */
  key: string;
}

/** The seed's escalation matrix, while an alert is unacknowledged. */
export const SEED_ESCALATION_MATRIX = [
  { after: '0m', role: 'On-call engineer' },
  { after: '15m', role: 'Team lead' },
  { after: '60m', role: 'Engineering manager' },
  { after: '4h', role: 'VP Engineering' },
] as const;

/** Config tiers (`{after: '15m', notify: [...]}`) → tiers in ms. Throws naming the bad entry. */
export function parseEscalationTiers(
  config: ReadonlyArray<{ after: string; notify: readonly string[] }>,
): EscalationTier[] {
  return config.map((tier, index) => {
    const after = parseDuration(tier.after);
    if (after === undefined) {
      throw new Error(
        `escalation.tiers[${index}].after: expected a duration like 90s, 15m or 4h, got ${JSON.stringify(tier.after)}`,
      );
    }
    return { after, notify: [...tier.notify] };
  });
}

/** A group escalates while it is sev1, firing, unacknowledged and not silenced. */
export function isEscalating(state: AlertGroupState, now: number): boolean {
  return (
    state.severity === 'sev1' &&
    state.status === 'firing' &&
    state.acknowledged === undefined &&
    !isSilenced(state, now)
  );
}

/** The fencing key of one tier of one episode of one group. */
export function escalationKey(
  state: Pick<AlertGroupState, 'groupKey' | 'openedAt'>,
  tierIndex: number,
): string {
  // The group key goes last: it may hold any character, the numbers before it cannot hold ':'.
  return `escalation:${state.openedAt}:${tierIndex}:${state.groupKey}`;
}

/** Of the recorded fencing keys, the tier indexes already sent in the group's current episode. */
export function sentTierIndexes(
  state: Pick<AlertGroupState, 'groupKey' | 'openedAt'>,
  keys: Iterable<string>,
): number[] {
  const prefix = `escalation:${state.openedAt}:`;
  const suffix = `:${state.groupKey}`;
  const indexes = new Set<number>();
  for (const key of keys) {
    if (!key.startsWith(prefix) || !key.endsWith(suffix)) continue;
    const middle = key.slice(prefix.length, key.length - suffix.length);
    if (/^\d+$/.test(middle)) indexes.add(Number(middle));
  }
  return [...indexes].sort((a, b) => a - b);
}

/**
 * Every tier whose time has come and that is not in `sentTierIndexes`, in index order: after a long
 * outage (or a restart) all overdue tiers are returned at once. Empty unless `isEscalating`.
 */
export function dueEscalations(
  state: AlertGroupState,
  tiers: readonly EscalationTier[],
  sentTierIndexes: readonly number[],
  now: number,
): DueEscalation[] {
  if (!isEscalating(state, now)) return [];
  const sent = new Set(sentTierIndexes);
  const due: DueEscalation[] = [];
  tiers.forEach((tier, tierIndex) => {
    const dueAt = state.openedAt + tier.after;
    if (sent.has(tierIndex) || !Number.isFinite(dueAt) || dueAt > now) return;
    due.push({ tierIndex, notify: [...tier.notify], dueAt, key: escalationKey(state, tierIndex) });
  });
  return due;
}

/**
 * When the next unsent tier falls due (possibly already past), for a timer or for display; undefined
 * when the group does not escalate (not sev1, resolved, acknowledged) or every tier is sent. While
 * silenced, not before the silence ends.
 */
export function nextEscalationAt(
  state: AlertGroupState,
  tiers: readonly EscalationTier[],
  sentTierIndexes: readonly number[],
): number | undefined {
  if (state.severity !== 'sev1' || state.status !== 'firing' || state.acknowledged !== undefined)
    return undefined;
  const sent = new Set(sentTierIndexes);
  let next: number | undefined;
  tiers.forEach((tier, tierIndex) => {
    const dueAt = state.openedAt + tier.after;
    if (sent.has(tierIndex) || !Number.isFinite(dueAt)) return;
    if (next === undefined || dueAt < next) next = dueAt;
  });
  if (next === undefined) return undefined;
  return state.silence === undefined ? next : Math.max(next, state.silence.until);
}
