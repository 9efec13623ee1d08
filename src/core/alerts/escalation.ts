import { parseDuration } from '../duration.js';
import { type AlertGroupState, isSilenced } from './group.js';
import type { EscalationTier } from './types.js';

/**
 * Escalation as data, after Grafana OnCall: the schedule is a function of the group's state and the
 * time; a fencing key per (group, episode, tier) makes a duplicate or stale timer harmless.
 *
 * Tier 0 of the seed's matrix (the on-call engineer, at once) is the initial ping when a group opens;
 * the tiers here are the config's `escalation.tiers`, as snapshotted when the episode opened
 * (`chainOf`), counted from when the bot first received the episode (`escalationStart`): an alert
 * that fired for hours before it reached the bot (Alertmanager or the bot was down) does not page the
 * whole chain at once.
 */
export type { EscalationTier } from './types.js';

export interface DueEscalation {
  tierIndex: number;
  /** The tier's role name, e.g. Team Lead. */
  name: string;
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

/** The seed's role names of the configured tiers, in order (`escalation.tiers[].name` defaults). */
export const DEFAULT_TIER_NAMES = ['Team Lead', 'Engineering Manager', 'VP Engineering'] as const;

/** A tier's role name: its own, else the seed's for its place, else `Tier N`. */
export function tierName(tier: Pick<EscalationTier, 'name'>, tierIndex: number): string {
  return tier.name ?? DEFAULT_TIER_NAMES[tierIndex] ?? `Tier ${tierIndex + 1}`;
}

/** Config tiers (`{after: '15m', notify: [...]}`) → tiers in ms. Throws naming the bad entry. */
export function parseEscalationTiers(
  config: ReadonlyArray<{ after: string; notify: readonly string[]; name?: string }>,
): EscalationTier[] {
  return config.map((tier, index) => {
    const after = parseDuration(tier.after);
    if (after === undefined) {
      throw new Error(
        `escalation.tiers[${index}].after: expected a duration like 90s, 15m or 4h, got ${JSON.stringify(tier.after)}`,
      );
    }
    return { after, notify: [...tier.notify], ...(tier.name !== undefined && { name: tier.name }) };
  });
}

/**
 * When escalation of the current episode starts counting: when the bot first received it. Group
 * records written before `receivedAt` existed fall back to `openedAt`, as they always counted.
 */
export function escalationStart(state: Pick<AlertGroupState, 'receivedAt' | 'openedAt'>): number {
  return state.receivedAt ?? state.openedAt;
}

/**
 * The chain the episode escalates along: the snapshot taken when it opened, so that a config change
 * does not rewrite a running chain; `configured` for records written before snapshots existed.
 */
export function chainOf(
  state: Pick<AlertGroupState, 'chain'>,
  configured: readonly EscalationTier[],
): readonly EscalationTier[] {
  return state.chain ?? configured;
}

/** A copy of the configured chain for a new episode's state (role names resolved). */
export function snapshotChain(tiers: readonly EscalationTier[]): EscalationTier[] {
  return tiers.map((tier, index) => ({
    after: tier.after,
    notify: [...tier.notify],
    name: tierName(tier, index),
  }));
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
 * Every tier of the episode's chain (`chainOf`) whose time has come and that is not in `sentTierIndexes`, in index order: after a long
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
  const start = escalationStart(state);
  chainOf(state, tiers).forEach((tier, tierIndex) => {
    const dueAt = start + tier.after;
    if (sent.has(tierIndex) || !Number.isFinite(dueAt) || dueAt > now) return;
    due.push({
      tierIndex,
      name: tierName(tier, tierIndex),
      notify: [...tier.notify],
      dueAt,
      key: escalationKey(state, tierIndex),
    });
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
  const start = escalationStart(state);
  chainOf(state, tiers).forEach((tier, tierIndex) => {
    const dueAt = start + tier.after;
    if (sent.has(tierIndex) || !Number.isFinite(dueAt)) return;
    if (next === undefined || dueAt < next) next = dueAt;
  });
  if (next === undefined) return undefined;
  return state.silence === undefined ? next : Math.max(next, state.silence.until);
}
