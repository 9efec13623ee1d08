import type { AuditEntry, FlagState } from '../core/flags/state.js';

/** Where flag values and their audit trail live. */
export interface FlagStore {
  /** The current state, with any audit entries newer than the saved state replayed. */
  load(): Promise<FlagState>;
  /** Makes the audit entries durable first, then the state that reflects them. */
  commit(state: FlagState, entries: readonly AuditEntry[]): Promise<void>;
  /** Newest first. */
  history(filter: { flag?: string; limit: number }): Promise<AuditEntry[]>;
  /** Whether a write would succeed now (readiness). */
  checkWritable(): Promise<void>;
}
