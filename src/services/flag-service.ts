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
import { flagDrift } from '../core/rollout/flags.js';
import type { FlagStore } from '../ports/flag-store.js';

export interface ChangeMeta {
  actor: Actor;
  via: ChangeChannel;
  reason?: string;
  correlationId?: string;
}

export type SetFlagResult =
  | { status: 'changed'; changes: FlagChange[] }
  | { status: 'unchanged' }
  | { status: 'refused'; error: string; hint: string }
  | { status: 'needs-confirmation'; changes: FlagChange[]; why: string };

export interface FlagsChanged {
  action: AuditAction;
  changes: FlagChange[];
  meta: ChangeMeta;
  values: FlagValues;
}

/** Something that must accept the new values before they count (e.g. the cluster's ConfigMap). */
export interface FlagSink {
  apply(values: FlagValues, changes: readonly FlagChange[]): Promise<void>;
}

type Listener = (event: FlagsChanged) => void | Promise<void>;

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

  constructor(
    readonly catalog: FlagCatalog,
    private readonly store: FlagStore,
    private readonly now: () => Date = () => new Date(),
    private readonly onListenerError: (error: unknown) => void = () => undefined,
  ) {}

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  addSink(sink: FlagSink): void {
    this.sinks.push(sink);
  }

  async snapshot(): Promise<FlagState> {
    if (!this.state) this.state = await this.store.load();
    return this.state;
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

  /** Sets one flag. A change that needs confirmation is not made unless `confirmed`. */
  async set(key: string, enabled: boolean, meta: ChangeMeta, confirmed = false): Promise<SetFlagResult> {
    return this.mutex.runExclusive(async () => {
      const state = await this.snapshot();
      const plan = planFlagChange(this.catalog, state.values, key, enabled);
      if (!plan.ok) return { status: 'refused', error: plan.error, hint: plan.hint };
      if (plan.changes.length === 0) return { status: 'unchanged' };
      if (plan.needsConfirmation && !confirmed) {
        return { status: 'needs-confirmation', changes: plan.changes, why: plan.confirmationReason ?? '' };
      }
      await this.commit(state, plan.changes, enabled ? 'enable' : 'disable', meta);
      return { status: 'changed', changes: plan.changes };
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
    return this.mutex.runExclusive(async () => {
      const state = await this.snapshot();
      const changes = plan(state.values).filter((change) => state.values[change.key] !== change.to);
      if (changes.length > 0) await this.commit(state, changes, action, meta);
      return changes;
    });
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
    return this.mutex.runExclusive(async () => {
      const state = await this.snapshot();
      const outside = await read(state.values);
      if (!outside) return [];
      const drift = flagDrift(state.values, outside);
      if (drift.length > 0) {
        await this.commit(state, drift, 'drift', meta(drift, applyChanges(state.values, drift)), false);
      }
      return drift;
    });
  }

  /** Flags whose latest audit entries may not have reached the sinks (a crash mid-change). */
  unsyncedFlags(): string[] {
    return this.store.unsyncedFlags?.() ?? [];
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
  ): Promise<void> {
    const values = applyChanges(state.values, changes);
    const at = this.now().toISOString();
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
    const event: FlagsChanged = { action, changes, meta, values };
    for (const listener of this.listeners) {
      Promise.resolve()
        .then(() => listener(event))
        .catch(this.onListenerError);
    }
  }
}
