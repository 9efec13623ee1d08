import { Mutex } from 'async-mutex';
import type { FlagCatalog, FlagValues } from '../core/flags/catalog.js';
import { applyChanges, type FlagChange, planDisableAll, planFlagChange } from '../core/flags/rules.js';
import {
  type Actor,
  type AuditAction,
  type AuditEntry,
  auditEntriesFor,
  type ChangeChannel,
  type FlagState,
} from '../core/flags/state.js';
import {
  type AuditMark,
  cancelledBy,
  dueTimedChanges,
  planRevert,
  stillInEffect,
  type TimedChange,
  type TimedChanges,
  timedChange,
} from '../core/flags/timed.js';
import { flagDrift } from '../core/rollout/flags.js';
import type { DocumentStore } from '../ports/document-store.js';
import type { FlagStore } from '../ports/flag-store.js';
import { conflictBackoff, StateConflict } from '../ports/state-conflict.js';

/** Who reverts a timed change when its time is up. */
export const TIMER_ACTOR: Actor = { id: 'switchyard', name: 'timer' };

export interface ChangeMeta {
  actor: Actor;
  via: ChangeChannel;
  reason?: string;
  correlationId?: string;
}

export type SetFlagResult =
  /** `revertAt` (ms) for a timed change: when it goes back by itself. */
  | { status: 'changed'; changes: FlagChange[]; revertAt?: number }
  | { status: 'unchanged' }
  | { status: 'refused'; error: string; hint: string }
  | { status: 'needs-confirmation'; changes: FlagChange[]; why: string };

export interface FlagsChanged {
  action: AuditAction;
  changes: FlagChange[];
  meta: ChangeMeta;
  values: FlagValues;
  /** A timed change: when it reverts by itself (ms). */
  revertAt?: number;
  /** A revert: the timed change whose time ran out. */
  revertOf?: TimedChange;
}

/** What one run of `revertDue` did. */
export interface RevertOutcome {
  timed: TimedChange;
  changes: FlagChange[];
  skipped: Array<{ key: string; why: string }>;
}

/** Something that must accept the new values before they count (e.g. the cluster's ConfigMap). */
export interface FlagSink {
  apply(values: FlagValues, changes: readonly FlagChange[]): Promise<void>;
}

type Listener = (event: FlagsChanged) => void | Promise<void>;

/** How often a change is planned again when other replicas keep committing first (a shared store). */
const MAX_PLAN_ATTEMPTS = 20;

/**
 * The flag use-cases. Every change runs under one lock against the latest state, so concurrent
 * requests never lose an update; the audit entries are durable before the change is reported, and
 * the in-memory state moves only once the whole change (audit, cluster, state file) succeeded.
 */
export class FlagService {
  private readonly mutex = new Mutex();
  private state: FlagState | undefined;
  private readonly listeners: Listener[] = [];
  private readonly sinks: FlagSink[] = [];
  private timed: { store: DocumentStore<TimedChanges>; now: () => number } | undefined;

  constructor(
    readonly catalog: FlagCatalog,
    private readonly store: FlagStore,
    private readonly now: () => Date = () => new Date(),
    private readonly onListenerError: (error: unknown) => void = () => undefined,
  ) {}

  /** The store is shared with other replicas (every read goes to it; commits may conflict). */
  get shared(): boolean {
    return this.store.shared === true;
  }

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  addSink(sink: FlagSink): void {
    this.sinks.push(sink);
  }

  /** Enables timed changes (`--for`), kept durably in `store`, timed by `now` (ms). */
  useTimedChanges(store: DocumentStore<TimedChanges>, now: () => number): void {
    this.timed = { store, now };
  }

  /** The pending timed changes, by flag (empty when timed changes are not enabled). */
  async pendingTimed(): Promise<TimedChanges> {
    return this.timed ? this.timed.store.read() : {};
  }

  /** The current state; from a shared store (other replicas write too) it is read every time. */
  async snapshot(): Promise<FlagState> {
    if (!this.state || this.store.shared) this.state = await this.store.load();
    return this.state;
  }

  /**
   * Runs a change planned on `snapshot()`. With a shared store, another replica may commit between
   * the read and the commit (the store throws `StateConflict`): the change is read and planned again.
   */
  private async planned<R>(change: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await change();
      } catch (error) {
        if (!this.store.shared || !(error instanceof StateConflict) || attempt >= MAX_PLAN_ATTEMPTS)
          throw error;
        await conflictBackoff(attempt);
      }
    }
  }

  /** Re-reads the store (another writer, e.g. a restart recovered entries). */
  async reload(): Promise<FlagState> {
    return this.mutex.runExclusive(async () => {
      this.state = await this.store.load();
      return this.state;
    });
  }

  async preview(key: string, enabled: boolean) {
    return planFlagChange(this.catalog, (await this.snapshot()).values, key, enabled);
  }

  async previewDisableAll(): Promise<FlagChange[]> {
    return planDisableAll(this.catalog, (await this.snapshot()).values);
  }

  /**
   * Sets one flag. A change that needs confirmation is not made unless `confirmed`. With `forMs`, the
   * change reverts by itself after that long (see `revertDue`) unless the flag is changed meanwhile.
   */
  async set(
    key: string,
    enabled: boolean,
    meta: ChangeMeta,
    confirmed = false,
    forMs?: number,
  ): Promise<SetFlagResult> {
    return this.mutex.runExclusive(() =>
      this.planned(() => this.setNow(key, enabled, meta, confirmed, forMs)),
    );
  }

  private async setNow(
    key: string,
    enabled: boolean,
    meta: ChangeMeta,
    confirmed: boolean,
    forMs: number | undefined,
  ): Promise<SetFlagResult> {
    const state = await this.snapshot();
    const plan = planFlagChange(this.catalog, state.values, key, enabled);
    if (!plan.ok) return { status: 'refused', error: plan.error, hint: plan.hint };
    if (forMs !== undefined && !this.timed) {
      return {
        status: 'refused',
        error: 'Timed changes are not available here.',
        hint: 'change the flag without --for, and change it back by hand',
      };
    }
    if (plan.changes.length === 0) return { status: 'unchanged' };
    if (plan.needsConfirmation && !confirmed) {
      return { status: 'needs-confirmation', changes: plan.changes, why: plan.confirmationReason ?? '' };
    }
    const action = enabled ? 'enable' : 'disable';
    if (forMs === undefined || !this.timed) {
      await this.commit(state, plan.changes, action, meta);
      return { status: 'changed', changes: plan.changes };
    }
    // The record is durable before the change is: a crash in between leaves a record whose audit
    // entries never appeared, which `stillInEffect` refuses to revert.
    const setAt = this.timed.now();
    const at = this.now().toISOString();
    const record = timedChange({
      flag: key,
      changes: plan.changes,
      entries: plan.changes.map((change, index) => ({ flag: change.key, seq: state.seq + index + 1, at })),
      setAt,
      durationMs: forMs,
      by: meta.actor,
      via: meta.via,
      reason: meta.reason,
    });
    await this.timed.store.update((current) => ({
      next: { ...current, [key]: record },
      result: undefined,
    }));
    try {
      await this.commit(state, plan.changes, action, meta, true, { at, keep: record });
    } catch (error) {
      await this.dropTimed([key], record).catch(() => undefined);
      throw error;
    }
    return { status: 'changed', changes: plan.changes, revertAt: record.revertAt };
  }

  /**
   * Reverts every timed change whose time has come and that is still in effect (no later change to
   * any flag it changed, by the audit log); drops the others. Each revert is one audited change by
   * `TIMER_ACTOR`, announced like any other. Safe to call repeatedly: a revert is done once.
   */
  async revertDue(): Promise<RevertOutcome[]> {
    const timed = this.timed;
    if (!timed) return [];
    const due = dueTimedChanges(await timed.store.read(), timed.now());
    if (due.length === 0) return [];
    return this.mutex.runExclusive(async () => {
      const outcomes: RevertOutcome[] = [];
      for (const record of dueTimedChanges(await timed.store.read(), timed.now())) {
        // Checked again on a conflict: the change another replica committed may be to these flags.
        const plan = await this.planned(async () => {
          // The state first: a change landing after it makes the commit conflict (and this run again);
          // one landing before the history is read shows in the history (and cancels the revert).
          const state = await this.snapshot();
          const latest = new Map<string, AuditMark>();
          for (const mark of record.entries) {
            const [entry] = await this.store.history({ flag: mark.flag, limit: 1 });
            if (entry) latest.set(mark.flag, { flag: entry.flag, seq: entry.seq, at: entry.at });
          }
          if (!stillInEffect(record, (flag) => latest.get(flag))) return undefined;
          const plan = planRevert(this.catalog, state.values, record);
          if (plan.changes.length > 0) {
            const restoresOn = record.changes.every((change) => change.from);
            await this.commit(
              state,
              plan.changes,
              restoresOn ? 'enable' : 'disable',
              {
                actor: TIMER_ACTOR,
                via: 'system',
                reason: `timed change by ${record.by.name ?? record.by.id} ran out`,
              },
              true,
              { revertOf: record },
            );
          }
          return plan;
        });
        if (!plan) {
          await this.dropTimed([record.flag], record);
          continue;
        }
        await this.dropTimed([record.flag], record);
        outcomes.push({ timed: record, changes: plan.changes, skipped: plan.skipped });
      }
      return outcomes;
    });
  }

  /** Removes these timed changes (only the given record when `only` is set: not a newer one). */
  private async dropTimed(keys: readonly string[], only?: TimedChange): Promise<void> {
    if (!this.timed || keys.length === 0) return;
    await this.timed.store.update((current) => {
      const gone = keys.filter(
        (key) => current[key] && (!only || (current[key]!.setAt === only.setAt && key === only.flag)),
      );
      if (gone.length === 0) return { next: current, result: undefined };
      const next = { ...current };
      for (const key of gone) delete next[key];
      return { next, result: undefined };
    });
  }

  /** The kill switch: returns what actually changed (possibly nothing). */
  disableAll(meta: ChangeMeta): Promise<FlagChange[]> {
    return this.changeWith((values) => planDisableAll(this.catalog, values), 'disable-all', meta);
  }

  /**
   * A batch planned against the values current under the lock (not those shown in a confirmation
   * minutes ago), so what is committed always follows the rules. Returns what actually changed.
   */
  async changeWith(plan: (values: FlagValues) => FlagChange[], action: AuditAction, meta: ChangeMeta) {
    return this.mutex.runExclusive(() =>
      this.planned(async () => {
        const state = await this.snapshot();
        const changes = plan(state.values).filter((change) => state.values[change.key] !== change.to);
        if (changes.length > 0) await this.commit(state, changes, action, meta);
        return changes;
      }),
    );
  }

  /**
   * Compares values kept outside the bot (the cluster's ConfigMap) with the state and records each
   * difference as drift, all under the flag lock: no change of the bot's own can be half-made while
   * they are read (written to a sink, not yet committed), so the bot never takes its own write for
   * someone else's. Drift is audited and stored, not sent back to the sinks (it came from one).
   * `read` gets the values current under the lock (to repair the outside copy from them) and returns
   * the outside values, or undefined when there is nothing to compare. Returns the drift recorded.
   */
  async reconcileExternal(
    read: (values: FlagValues) => Promise<Record<string, boolean> | undefined>,
    meta: (drift: readonly FlagChange[], after: FlagValues) => ChangeMeta,
  ): Promise<FlagChange[]> {
    return this.mutex.runExclusive(() =>
      this.planned(async () => {
        const state = await this.snapshot();
        const outside = await read(state.values);
        if (!outside) return [];
        const drift = flagDrift(state.values, outside);
        if (drift.length > 0) {
          await this.commit(state, drift, 'drift', meta(drift, applyChanges(state.values, drift)), false);
        }
        return drift;
      }),
    );
  }

  /**
   * Flags whose latest audit entries may not have reached the sinks: a crash mid-change, or (a shared
   * store, several replicas) a change another replica is making right now, as of the latest read.
   */
  unsyncedFlags(): string[] {
    return this.store.unsyncedFlags?.() ?? [];
  }

  /** The sinks have these values now. */
  async markApplied(applied: Readonly<Record<string, boolean>>): Promise<void> {
    await this.store.markApplied?.(applied);
  }

  history(flag: string | undefined, limit: number): Promise<AuditEntry[]> {
    return this.store.history({ flag, limit });
  }

  private async commit(
    state: FlagState,
    changes: FlagChange[],
    action: AuditAction,
    meta: ChangeMeta,
    applyToSinks = true,
    extra: { at?: string; keep?: TimedChange; revertOf?: TimedChange } = {},
  ): Promise<void> {
    const values = applyChanges(state.values, changes);
    const at = extra.at ?? this.now().toISOString();
    const entries = auditEntriesFor(state, changes, {
      at,
      actor: meta.actor,
      via: meta.via,
      action,
      reason: meta.reason,
      correlationId: meta.correlationId,
    });
    const lastChange = { ...state.lastChange };
    for (const change of changes) {
      lastChange[change.key] = { by: meta.actor, at, via: meta.via, reason: meta.reason };
    }
    const next: FlagState = { values, lastChange, seq: state.seq + entries.length };
    // The cluster is written after the audit's commit point, so a change never goes live unaudited;
    // when the cluster refuses, the store takes the audit lines back and nothing changed anywhere.
    const applyExternally =
      applyToSinks && this.sinks.length > 0
        ? async () => {
            for (const sink of this.sinks) await sink.apply(values, changes);
          }
        : undefined;
    await this.store.commit(next, entries, applyExternally);
    this.state = next;
    // Any later change to a flag cancels the timed changes that changed it. Should this write fail,
    // the audit log still tells (`stillInEffect`): the revert is never made.
    if (this.timed) {
      await this.timed.store
        .read()
        .then((timed) => this.dropTimed(cancelledBy(timed, changes, extra.keep)))
        .catch(this.onListenerError);
    }
    const event: FlagsChanged = {
      action,
      changes,
      meta,
      values,
      ...(extra.keep && { revertAt: extra.keep.revertAt }),
      ...(extra.revertOf && { revertOf: extra.revertOf }),
    };
    for (const listener of this.listeners) {
      Promise.resolve()
        .then(() => listener(event))
        .catch(this.onListenerError);
    }
  }
}
