import type { GateResult } from '../core/phases/gates.js';

/** A phase advance request as stored, apart from the service, so the messages that show it depend on it alone. */
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
  status: 'open' | 'checking' | 'advanced' | 'blocked' | 'failed' | 'expired';
  gates?: GateResult[];
  outcome?: string;
  settledAt?: string;
  channel: string;
  ts: string;
}

export type PhaseRequests = Record<string, PhaseRequest>;
