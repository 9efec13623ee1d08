import {
  chainOf,
  DEFAULT_TIER_NAMES,
  type EscalationTier,
  nextEscalationAt,
  tierName,
} from './alerts/escalation.js';
import type { AlertGroupState } from './alerts/group.js';

/**
 * Who is on call, as data (issue 14 item 4): the seed's chain — the on-call engineer at once, then
 * the configured tiers by role — and, for an open sev1 group, which tier is paged next and when.
 */

export { DEFAULT_TIER_NAMES };
export const ONCALL_ROLE = 'On-call engineer';

/** A configured tier, with the role name the config may give it (`escalation.tiers[].name`). */
export type NamedTier = EscalationTier;

export interface ChainStep {
  /** The configured tier's index; undefined for the on-call engineer (paged when the group opens). */
  tierIndex?: number;
  name: string;
  /** ms after the group opened. */
  after: number;
  /** Slack user (U…/W…) and user-group (S…) IDs. */
  notify: string[];
}

/** The whole chain, in order: the on-call engineer, then each tier. */
export function escalationChain(oncall: string | undefined, tiers: readonly NamedTier[]): ChainStep[] {
  return [
    { name: ONCALL_ROLE, after: 0, notify: oncall ? [oncall] : [] },
    ...tiers.map((tier, tierIndex) => ({
      tierIndex,
      name: tierName(tier, tierIndex),
      after: tier.after,
      notify: [...tier.notify],
    })),
  ];
}

export interface NextPage {
  tierIndex: number;
  name: string;
  notify: string[];
  /** When (ms): the tier's time, or the end of a silence if later; may be past (the timer is due). */
  at: number;
}

/**
 * Who is paged next for a group and when: the unsent tier of the group's own chain (`chainOf`: the
 * snapshot taken when it opened) due first; the time is the escalation rule's own
 * (`nextEscalationAt`). Undefined when the group does not escalate (not sev1, resolved,
 * acknowledged) or every tier was paged.
 */
export function nextPage(
  state: AlertGroupState,
  configured: readonly NamedTier[],
  sentTierIndexes: readonly number[],
): NextPage | undefined {
  const at = nextEscalationAt(state, configured, sentTierIndexes);
  if (at === undefined) return undefined;
  const tiers = chainOf(state, configured);
  const sent = new Set(sentTierIndexes);
  let best: number | undefined;
  tiers.forEach((tier, index) => {
    if (sent.has(index) || !Number.isFinite(tier.after)) return;
    if (best === undefined || tier.after < tiers[best]!.after) best = index;
  });
  if (best === undefined) return undefined;
  const tier = tiers[best]!;
  return { tierIndex: best, name: tierName(tier, best), notify: [...tier.notify], at };
}

/** What `/oncall` shows (the service gathers it, the messages layer renders it). */
/** Someone a tier reaches: a user, or a user group with its members (or why they are unknown). */
export interface OncallTarget {
  id: string;
  members?: string[];
  error?: string;
}

export interface OpenSev1 {
  id: string;
  title: string;
  openedAt: number;
  acknowledged?: { by: string; at: number };
  silencedUntil?: number;
  /** Undefined when nobody more will be paged (acknowledged, or every tier paged). */
  next?: NextPage & { targets: OncallTarget[] };
  message?: { channel: string; ts: string };
}

export interface OncallView {
  now: number;
  chain: Array<ChainStep & { targets: OncallTarget[] }>;
  open: OpenSev1[];
}
