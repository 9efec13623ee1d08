import type { AuditEntry, FlagState } from '../core/flags/state.js';

/** Where flag values and their audit trail live. */
export interface FlagStore {
  /**
   * Other writers (replicas) share this store: the state is read for every use, and `commit` throws
   * `StateConflict` when the state it was planned on is no longer the latest (plan again).
   */
  readonly shared?: boolean;
  /** The current state, with any audit entries newer than the saved state replayed. */
  load(): Promise<FlagState>;
  /**
   * One change as one transaction: the audit entries are made durable (the commit point), then
   * `applyExternally` runs (the cluster takes the values; a throw takes the entries back and fails the
   * change), then the state that reflects them is saved.
   */
  commit(
    state: FlagState,
    entries: readonly AuditEntry[],
    applyExternally?: () => Promise<void>,
  ): Promise<void>;
  /** Flags whose audit entries were replayed at load (a crash mid-change): the cluster may lack them. */
  unsyncedFlags?(): string[];
  /** The cluster has these values now: flags whose state still holds them are no longer unsynced. */
  markApplied?(applied: Readonly<Record<string, boolean>>): Promise<void>;
  /** Newest first. */
  history(filter: { flag?: string; limit: number }): Promise<AuditEntry[]>;
  /** Whether a write would succeed now (readiness). */
  checkWritable(): Promise<void>;
}
