import type { Baseline, GateResult } from './gates.js';

/** A phase advance request as the phase use-case keeps it (and the messages layer shows it). */
export interface PhaseRequest {
  id: string;
  from: { number: number; name: string };
  to: { number: number; name: string };
  /** The flags the advance would turn on, as planned when asked (re-planned under the lock when applied). */
  toEnable: string[];
  gateSummary: string[];
  requester: string;
  reason?: string;
  required: number;
  requestedAt: string;
  expiresAt: string;
  /** Users whose ✅ counts, in the order they came. */
  approvals: string[];
  status: 'open' | 'checking' | 'advanced' | 'blocked' | 'failed' | 'expired' | 'cancelled' | 'superseded';
  /** Gates that cannot be evaluated in this setup, said when the request is made. */
  gateWarnings?: string[];
  /** Who ended it (`/phase cancel`), or the request that superseded it. */
  cancelledBy?: string;
  supersededBy?: string;
  /**
   * The checklist of the phase being left, as it stood when asked (issue 14): the items not ticked,
   * and the override reason the requester gave to go ahead without them.
   */
  checklist?: PhaseRequestChecklist;
  gates?: GateResult[];
  /** What the "no degradation" checks compare with: the current phase's baseline, as the request found it. */
  baseline?: Baseline;
  /** Set when it advanced: the gates' values as the new phase began, its baseline for the next advance. */
  nextBaseline?: Baseline;
  outcome?: string;
  settledAt?: string;
  channel: string;
  ts: string;
}

export interface PhaseRequestChecklist {
  id: string;
  title: string;
  total: number;
  unticked: string[];
  override?: { reason: string; by: string };
}

/** Open or running its gate checks: it blocks a new request. */
export function isActive(request: PhaseRequest): boolean {
  return request.status === 'open' || request.status === 'checking';
}

/**
 * What a new request does about the active one: wait for it (`busy`), or replace it when it is older
 * than the request timeout (`supersede`). A request left `checking` past the timeout (the bot stopped
 * mid-check) is superseded too.
 */
export function newRequestVersus(active: PhaseRequest, now: number, timeoutMs: number): 'busy' | 'supersede' {
  return now - Date.parse(active.requestedAt) >= timeoutMs ? 'supersede' : 'busy';
}

/** `/phase cancel`: the requester or an operator may end an open request; nobody else. */
export function mayCancel(request: PhaseRequest, user: string, isOperator: boolean): boolean {
  return user === request.requester || isOperator;
}
