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
