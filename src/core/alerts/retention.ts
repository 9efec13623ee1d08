import type { AlertGroupState } from './group.js';

/**
 * How long a resolved alert group is remembered (config `alerts.retention`, default 7 days). After
 * that it is forgotten: its record is deleted and, should the same group key fire again, it opens a
 * new group with a new top-level message (the old message stays in the channel as history).
 * A firing group is never forgotten.
 */
export const DEFAULT_RETENTION_MS = 7 * 86_400_000;

/**
 * When a resolved group may be forgotten: `retentionMs` after the later of its resolution and the last
 * notification received for it (a late or repeated resolved notification restarts the clock, so a
 * group is never forgotten while Alertmanager may still be telling us about it). Undefined while the
 * group is firing, or when the retention is not finite (keep forever). A negative or NaN retention
 * counts as zero.
 */
export function expiresAt(
  state: Pick<AlertGroupState, 'status' | 'resolvedAt' | 'lastNotificationAt'>,
  retentionMs: number,
): number | undefined {
  if (state.status !== 'resolved' || retentionMs === Number.POSITIVE_INFINITY) return undefined;
  const retention = Number.isNaN(retentionMs) ? 0 : Math.max(retentionMs, 0);
  const resolved = Math.max(state.resolvedAt ?? state.lastNotificationAt, state.lastNotificationAt);
  return resolved + retention;
}

/** True when the group is resolved and its retention has run out at `now`. */
export function isExpired(
  state: Pick<AlertGroupState, 'status' | 'resolvedAt' | 'lastNotificationAt'>,
  retentionMs: number,
  now: number,
): boolean {
  const at = expiresAt(state, retentionMs);
  return at !== undefined && at <= now;
}

/** Of the given items, those whose group has expired at `now`, in their order. */
export function expiredOf<
  T extends { state: Pick<AlertGroupState, 'status' | 'resolvedAt' | 'lastNotificationAt'> },
>(items: Iterable<T>, retentionMs: number, now: number): T[] {
  return [...items].filter((item) => isExpired(item.state, retentionMs, now));
}

/** How often to look for expired groups: once a minute, or more often for a retention under a minute (tests). */
export function sweepInterval(retentionMs: number): number {
  if (!(retentionMs > 0)) return 1_000;
  return Math.min(60_000, Math.max(1_000, Math.floor(retentionMs / 2)));
}
