import { z } from 'zod';
import type { FlagCatalog } from '../../../core/flags/catalog.js';
import {
  type AuditEntry,
  type FlagState,
  initialFlagState,
  reconcileWithCatalog,
  replayAudit,
} from '../../../core/flags/state.js';
import type { Logger } from '../../../logger.js';
import type { FlagStore } from '../../../ports/flag-store.js';
import { StateConflict } from '../../../ports/state-conflict.js';
import { auditEntrySchema, firstIssue, flagStateFileSchema } from '../state-schemas.js';
import type { KubeStateObjects, StateObject } from './state-objects.js';

export const FLAGS_KIND = 'flags';
export const FLAGS_OBJECT = 'switchyard-flags';
const STATE_KEY = 'state.json';
const AUDIT_KEY = 'audit.json';

/** The audit the cluster keeps: the newest entries only (the JSON log stream keeps every one). */
export const AUDIT_KEEP = 500;
/** …and never more bytes than this, whatever the reasons' length: the object stays far below 1 MiB. */
export const AUDIT_MAX_BYTES = 400 * 1024;

const stateDocumentSchema = z.object({
  state: flagStateFileSchema,
  /** Flags of a change committed but not yet confirmed applied to the cluster. */
  pendingApply: z.array(z.string()),
  /** The newest entry of every flag ever changed: the values follow from them even once pruned. */
  latest: z.record(z.string(), auditEntrySchema),
});
type StateDocument = z.infer<typeof stateDocumentSchema>;

interface Stored {
  object: StateObject | undefined;
  document: StateDocument | undefined;
  audit: AuditEntry[];
  state: FlagState;
}

export interface KubeFlagStoreOptions {
  auditKeep?: number;
  auditMaxBytes?: number;
}

/**
 * Flag values and their recent audit in one ConfigMap (`switchyard-flags`), shared by every replica.
 * A commit is one write carrying the resourceVersion read and accepted only on top of the state the
 * change was planned on (else `StateConflict`: the service re-reads and plans again). Every audit
 * entry is also logged (`{audit}`, 'flag audit') for long-term retention.
 */
export class KubeFlagStore implements FlagStore {
  readonly shared = true;
  private unsynced: string[] | undefined;
  private lastRead: Stored | undefined;
  private readonly auditKeep: number;
  private readonly auditMaxBytes: number;

  constructor(
    private readonly objects: KubeStateObjects,
    private readonly catalog: FlagCatalog,
    private readonly log: Logger,
    options: KubeFlagStoreOptions = {},
  ) {
    this.auditKeep = options.auditKeep ?? AUDIT_KEEP;
    this.auditMaxBytes = options.auditMaxBytes ?? AUDIT_MAX_BYTES;
  }

  /**
   * Flags of changes committed but not yet seen applied to the cluster, as of the latest load: a change
   * another replica is making right now, or one whose replica died between the two steps. Either way the
   * cluster should get the state's value (the drift check writes it, see `markApplied`).
   */
  unsyncedFlags(): string[] {
    return this.unsynced ?? [];
  }

  async load(): Promise<FlagState> {
    const stored = await this.read();
    this.lastRead = stored;
    this.unsynced = stored.document?.pendingApply ?? [];
    return stored.state;
  }

  /** The cluster has these values now (written by the drift check). */
  async markApplied(applied: Readonly<Record<string, boolean>>): Promise<void> {
    await this.clearPending(applied);
  }

  async commit(state: FlagState, entries: readonly AuditEntry[], applyExternally?: () => Promise<void>) {
    const base = state.seq - entries.length;
    // What `load` read is usually what the change was planned on: the write's resourceVersion
    // still proves nobody wrote since, so it need not be read again.
    const stored = this.lastRead?.state.seq === base ? this.lastRead : await this.read();
    this.lastRead = undefined;
    // Planned on the state as it was before these entries: anything else means another replica
    // committed since, and this change must be planned again on the newer state.
    if (stored.state.seq !== base) throw new StateConflict(FLAGS_OBJECT);
    const latest = { ...stored.document?.latest };
    for (const entry of entries) latest[entry.flag] = entry;
    const document: StateDocument = {
      state: { values: state.values, lastChange: state.lastChange, seq: state.seq },
      // Added to what is pending already: another replica's change may be between its two steps.
      pendingApply: applyExternally
        ? [...new Set([...(stored.document?.pendingApply ?? []), ...entries.map((entry) => entry.flag)])]
        : (stored.document?.pendingApply ?? []),
      latest,
    };
    const data = {
      [STATE_KEY]: JSON.stringify(document),
      [AUDIT_KEY]: JSON.stringify(this.bounded([...stored.audit, ...entries])),
    };
    // The commit point; a conflict here is another replica's commit in between.
    const saved = stored.object
      ? await this.objects.replace(stored.object, FLAGS_KIND, data)
      : await this.objects.create(FLAGS_OBJECT, FLAGS_KIND, data);
    if (applyExternally) {
      try {
        await applyExternally();
      } catch (error) {
        await this.takeBack(saved, stored.object, entries);
        throw error;
      }
      const applied = Object.fromEntries(
        entries.map((entry) => [entry.flag, state.values[entry.flag] ?? false]),
      );
      await this.clearPending(applied).catch((error: unknown) =>
        this.log.warn({ err: error }, 'could not clear the flags pending for the cluster; they are applied'),
      );
    }
    for (const entry of entries) this.log.info({ audit: entry }, 'flag audit');
  }

  /**
   * A flag is no longer pending once the cluster has the value the state holds now. Written another
   * value (a later change by another replica is between its commit and its own write), it stays
   * pending: otherwise the drift check would take the older value in the cluster for an outside edit.
   */
  private clearPending(applied: Readonly<Record<string, boolean>>): Promise<void> {
    return this.objects.mutate(FLAGS_OBJECT, FLAGS_KIND, (object) => {
      const current = object && this.decodeDocument(object);
      const done = (flag: string) =>
        flag in applied && (current?.state.values[flag] ?? false) === applied[flag];
      if (!object || !current?.pendingApply.some(done)) return { result: undefined };
      const pendingApply = current.pendingApply.filter((flag) => !done(flag));
      return {
        data: { ...object.data, [STATE_KEY]: JSON.stringify({ ...current, pendingApply }) },
        result: undefined,
      };
    });
  }

  async history(filter: { flag?: string; limit: number }): Promise<AuditEntry[]> {
    const stored = await this.read();
    const found = stored.audit.filter((entry) => !filter.flag || entry.flag === filter.flag).reverse();
    // A flag whose entries were all pruned still has its newest one.
    const latest = filter.flag ? stored.document?.latest[filter.flag] : undefined;
    if (latest && !found.some((entry) => entry.seq === latest.seq)) found.unshift(latest);
    return found.slice(0, filter.limit);
  }

  /** Writes the object back unchanged (the API server stores nothing new): proves reads and writes work. */
  async checkWritable(): Promise<void> {
    const object = await this.objects.get(FLAGS_OBJECT);
    if (object) await this.objects.replace(object, FLAGS_KIND, object.data);
  }

  /** The cluster refused the values: the flags go back to what they were, if nobody built on them yet. */
  private async takeBack(
    saved: StateObject,
    previous: StateObject | undefined,
    entries: readonly AuditEntry[],
  ): Promise<void> {
    try {
      if (previous) await this.objects.replace(saved, FLAGS_KIND, previous.data);
      else await this.objects.delete(FLAGS_OBJECT, saved.resourceVersion);
    } catch (error) {
      this.log.error(
        { err: error, seqs: entries.map((entry) => entry.seq) },
        'could not take back the audit entries of a flag change the cluster refused; they stay pending for the cluster',
      );
    }
  }

  /** Newest last; at most `auditKeep` entries and `auditMaxBytes` of JSON. */
  private bounded(audit: AuditEntry[]): AuditEntry[] {
    let kept = audit.slice(-this.auditKeep);
    let bytes = Buffer.byteLength(JSON.stringify(kept));
    while (bytes > this.auditMaxBytes && kept.length > 0) {
      const drop = Math.max(1, Math.ceil(kept.length / 10));
      kept = kept.slice(drop);
      bytes = Buffer.byteLength(JSON.stringify(kept));
    }
    return kept;
  }

  private async read(): Promise<Stored> {
    const object = await this.objects.get(FLAGS_OBJECT);
    const document = object && this.decodeDocument(object);
    const audit = object ? this.decodeAudit(object) : [];
    let state: FlagState;
    if (document) state = reconcileWithCatalog(this.catalog, document.state);
    else {
      // No state (or a damaged one): the recent audit tells what it can.
      const known = [...audit].sort((a, b) => a.seq - b.seq);
      state = reconcileWithCatalog(this.catalog, replayAudit(initialFlagState(this.catalog), known));
    }
    return { object, document, audit, state };
  }

  private decodeDocument(object: StateObject): StateDocument | undefined {
    const text = object.data[STATE_KEY];
    if (text === undefined) return undefined;
    try {
      const parsed = stateDocumentSchema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
      this.damaged(`${STATE_KEY} is not a flag state (${firstIssue(parsed.error)})`);
    } catch (error) {
      this.damaged(`${STATE_KEY} is not JSON (${(error as Error).message.slice(0, 80)})`);
    }
    return undefined;
  }

  private decodeAudit(object: StateObject): AuditEntry[] {
    const text = object.data[AUDIT_KEY];
    if (text === undefined) return [];
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.damaged(`${AUDIT_KEY} is not JSON (${(error as Error).message.slice(0, 80)})`);
      return [];
    }
    if (!Array.isArray(value)) return [];
    const entries: AuditEntry[] = [];
    for (const item of value) {
      const parsed = auditEntrySchema.safeParse(item);
      if (parsed.success && parsed.data.seq > (entries.at(-1)?.seq ?? 0)) entries.push(parsed.data);
    }
    if (entries.length < value.length) this.damaged(`${value.length - entries.length} damaged audit entries`);
    return entries;
  }

  private damaged(reason: string): void {
    this.log.error({ object: FLAGS_OBJECT, reason }, 'the flag state in the cluster is damaged');
  }
}
