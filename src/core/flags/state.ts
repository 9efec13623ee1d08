import type { FlagCatalog, FlagValues } from './catalog.js';
import type { FlagChange } from './rules.js';

export type ChangeChannel = 'slack' | 'api' | 'cluster' | 'system';

export interface Actor {
  /** Slack user ID, `api`, or `cluster` for a change made outside the bot. */
  id: string;
  name?: string;
}

export interface LastChange {
  by: Actor;
  at: string;
  via: ChangeChannel;
  reason?: string;
}

/** What the store keeps: values, who last touched each flag, and the audit sequence applied. */
export interface FlagState {
  values: FlagValues;
  lastChange: Record<string, LastChange>;
  /** Sequence number of the last audit entry reflected in `values`. */
  seq: number;
}

export type AuditAction = 'enable' | 'disable' | 'disable-all' | 'drift' | 'phase';

/** One line of the append-only audit log: one flag, before → after. */
export interface AuditEntry {
  seq: number;
  at: string;
  actor: Actor;
  via: ChangeChannel;
  action: AuditAction;
  flag: string;
  before: boolean;
  after: boolean;
  reason?: string;
  correlationId?: string;
}

export function initialFlagState(catalog: FlagCatalog): FlagState {
  return { values: catalog.defaults(), lastChange: {}, seq: 0 };
}

/** Audit entries for a set of changes, numbered after `state.seq`. */
export function auditEntriesFor(
  state: FlagState,
  changes: readonly FlagChange[],
  meta: Omit<AuditEntry, 'seq' | 'flag' | 'before' | 'after'>,
): AuditEntry[] {
  return changes.map((change, index) => ({
    seq: state.seq + index + 1,
    ...meta,
    flag: change.key,
    before: change.from,
    after: change.to,
  }));
}

/** Folds audit entries into the state: the audit log is the write-ahead log, so replay is recovery. */
export function replayAudit(state: FlagState, entries: readonly AuditEntry[]): FlagState {
  let next = state;
  for (const entry of entries) {
    if (entry.seq <= next.seq) continue;
    next = {
      values: { ...next.values, [entry.flag]: entry.after },
      lastChange: {
        ...next.lastChange,
        [entry.flag]: { by: entry.actor, at: entry.at, via: entry.via, reason: entry.reason },
      },
      seq: entry.seq,
    };
  }
  return next;
}

/** Keeps known flags only and fills new ones with defaults (the catalog may grow between versions). */
export function reconcileWithCatalog(catalog: FlagCatalog, state: FlagState): FlagState {
  const values: FlagValues = {};
  for (const flag of catalog.flags) values[flag.key] = state.values[flag.key] ?? flag.defaultEnabled;
  return { ...state, values };
}

/** The saved state file as read at start; `trusted` when its checksum proved it is what was written. */
export interface Checkpoint {
  state: FlagState;
  trusted: boolean;
}

export interface FlagRecovery {
  state: FlagState;
  /** Entries to append so that the audit explains every value kept from the checkpoint. */
  recovered: AuditEntry[];
  /** Flags changed by entries newer than the checkpoint: they may not have reached the cluster. */
  unsynced: string[];
  /** Why the checkpoint was not used (the audit log was, alone). */
  checkpointRejected?: string;
  /** Entries the checkpoint had seen but the audit log no longer holds (lost from its end or middle). */
  lost?: { after: number; upTo: number };
  /** Whether the checkpoint on disk must be rewritten. */
  rewrite: boolean;
}

export const RECOVERY_ACTOR: Actor = { id: 'switchyard', name: 'state recovery' };

/**
 * Start-up recovery of the flags. The audit log is the write-ahead log and the truth; the checkpoint
 * (`flags.json`) only saves replaying it, and is used only where the audit agrees with it. Entries newer
 * than the checkpoint are replayed (a crash before the state write). A checkpoint proven intact
 * (`trusted`) that holds values the audit no longer explains (lines lost) keeps them, and `recovered`
 * holds the entries that record them, so no value is ever served that no audit entry explains.
 * `entries` must be valid and in increasing `seq` order.
 */
export function recoverFlagState(
  catalog: FlagCatalog,
  checkpoint: Checkpoint | undefined,
  entries: readonly AuditEntry[],
  at: string,
): FlagRecovery {
  const auditLast = entries.at(-1)?.seq ?? 0;
  const fromAudit = reconcileWithCatalog(catalog, replayAudit(initialFlagState(catalog), entries));
  if (!checkpoint) return { state: fromAudit, recovered: [], unsynced: [], rewrite: true };
  const saved = reconcileWithCatalog(catalog, checkpoint.state);
  if (saved.seq < auditLast) {
    const prefix = entries.filter((entry) => entry.seq <= saved.seq);
    const expected = reconcileWithCatalog(catalog, replayAudit(initialFlagState(catalog), prefix));
    const newer = entries.filter((entry) => entry.seq > saved.seq);
    const unsynced = [...new Set(newer.map((entry) => entry.flag))];
    if (sameValues(expected.values, saved.values)) {
      return { state: replayAudit(saved, newer), recovered: [], unsynced, rewrite: true };
    }
    return {
      state: fromAudit,
      recovered: [],
      unsynced,
      rewrite: true,
      checkpointRejected: `its values at #${saved.seq} disagree with the audit log`,
    };
  }
  const lost = saved.seq > auditLast ? { after: auditLast, upTo: saved.seq } : undefined;
  if (sameValues(fromAudit.values, saved.values)) {
    return {
      state: { ...saved, seq: Math.max(saved.seq, auditLast) },
      recovered: [],
      unsynced: [],
      rewrite: !checkpoint.trusted,
      lost,
    };
  }
  if (!checkpoint.trusted) {
    return {
      state: fromAudit,
      recovered: [],
      unsynced: [],
      rewrite: true,
      lost,
      checkpointRejected: `it holds values at #${saved.seq} that the audit log does not explain, and has no valid checksum`,
    };
  }
  const recovered: AuditEntry[] = [];
  for (const flag of catalog.flags) {
    const kept = saved.values[flag.key]!;
    const audited = fromAudit.values[flag.key]!;
    if (kept === audited) continue;
    const last = saved.lastChange[flag.key];
    recovered.push({
      seq: saved.seq + recovered.length + 1,
      at,
      actor: RECOVERY_ACTOR,
      via: 'system',
      action: kept ? 'enable' : 'disable',
      flag: flag.key,
      before: audited,
      after: kept,
      reason: `audit entries lost; value kept from flags.json${
        last ? ` (last changed by ${last.by.name ?? last.by.id} via ${last.via} at ${last.at})` : ''
      }`,
    });
  }
  return {
    state: { ...saved, seq: saved.seq + recovered.length },
    recovered,
    unsynced: [],
    rewrite: true,
    lost,
  };
}

function sameValues(a: FlagValues, b: FlagValues): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
}
