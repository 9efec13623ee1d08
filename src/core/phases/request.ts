import type { GateResult } from './gates.js';

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
  status: 'open' | 'checking' | 'advanced' | 'blocked' | 'failed' | 'expired';
  gates?: GateResult[];
  outcome?: string;
  settledAt?: string;
  channel: string;
  ts: string;
}
