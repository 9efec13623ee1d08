import { UserError } from '../commanding/reply.js';
import type { FlagCatalog, FlagValues } from '../core/flags/catalog.js';
import { type FlagChange, ruleViolations } from '../core/flags/rules.js';
import { readFlagData, writeFlagData } from '../core/rollout/flags.js';
import type { Logger } from '../logger.js';
import { type Cluster, ClusterError } from '../ports/cluster.js';
import type { FlagService, FlagSink } from './flag-service.js';

export interface ClusterFlagsOptions {
  configMap: string;
  /** How often the ConfigMap is compared with the bot's state. */
  intervalMs: number;
  /** Several replicas: only the leader compares (and records drift); default always. */
  leading?: () => boolean;
  /** Says something in the channel (a problem a person should see). */
  notify?: (text: string) => Promise<void>;
  /** Writes retried on 409 Conflict before giving up. */
  maxAttempts?: number;
  /** How long the drift check waits for the ConfigMap (it holds the flag lock meanwhile). */
  readTimeoutMs?: number;
}

export const CLUSTER_ACTOR = { id: 'cluster' } as const;

/**
 * The flags in the cluster: every change the bot makes is written to the ConfigMap (the owned
 * `MESSAGING_*` keys only, one update, guarded by resourceVersion and retried from a fresh read on a
 * conflict), and a change someone made to the ConfigMap by hand is recorded as drift, not reverted.
 */
export class ClusterFlags implements FlagSink {
  private readonly keys: Array<{ key: string; envVar: string }>;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private readonly reported = new Set<string>();
  /** Audited changes the ConfigMap may lack (the bot died between the audit and the cluster write). */
  private readonly unsynced = new Set<string>();

  constructor(
    private readonly cluster: Cluster,
    private readonly flags: FlagService,
    catalog: FlagCatalog,
    private readonly options: ClusterFlagsOptions,
    private readonly log: Logger,
  ) {
    this.keys = catalog.flags.map((flag) => ({ key: flag.key, envVar: flag.envVar }));
  }

  /**
   * The FlagSink: runs inside the flag lock, after the audit lines are durable and before the change
   * counts; a throw makes the store take the audit lines back, so nothing changed anywhere.
   */
  async apply(values: FlagValues, changes: readonly FlagChange[]): Promise<void> {
    try {
      let wanted: Record<string, boolean> = Object.fromEntries(
        changes.map((change) => [change.key, change.to]),
      );
      if (this.flags.shared) {
        // Several replicas: a later change to the same flag may have been committed by another one
        // meanwhile (and written already); this older value must not land after it.
        const now = (await this.flags.snapshot()).values;
        wanted = Object.fromEntries(Object.entries(wanted).filter(([key, to]) => now[key] === to));
      }
      await this.write(wanted, values);
    } catch (error) {
      throw new UserError(
        `The cluster did not take the change, so nothing was changed: ${describe(error)}`,
        `Check the bot's access to ConfigMap ${this.cluster.namespace}/${this.options.configMap}, then try again.`,
      );
    }
  }

  /** Compares once now (drift found at start is recorded), then every `intervalMs`. */
  async start(): Promise<void> {
    for (const key of this.flags.unsyncedFlags()) this.unsynced.add(key);
    await this.check();
    this.timer = setInterval(() => {
      if (!this.polling) this.polling = this.check().finally(() => (this.polling = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  /** One comparison of the ConfigMap with the bot's state; never throws. */
  async check(): Promise<void> {
    if (this.options.leading && !this.options.leading()) return;
    try {
      await this.compare();
    } catch (error) {
      this.log.warn({ err: error, configMap: this.options.configMap }, 'flag ConfigMap check failed');
    }
  }

  /**
   * Reads the ConfigMap and compares it under the flag lock (FlagService.reconcileExternal): the
   * bot's own writes happen under that lock too, so none is ever half-done while the map is read,
   * and whatever differs from the state was changed by someone else. Notices are posted after the
   * lock is released, so a slow Slack never holds up a flag change.
   */
  private async compare(): Promise<void> {
    const name = this.options.configMap;
    const notices: Array<{ key: string; text: string }> = [];
    const recorded = await this.flags.reconcileExternal(
      async (values) => {
        // With several replicas, a change another one is making is not drift: the map gets the state's value.
        for (const key of this.flags.unsyncedFlags()) this.unsynced.add(key);
        if (this.unsynced.size > 0) await this.pushUnsynced(values);
        const current = await withTimeout(
          this.cluster.readConfigMap(name),
          this.options.readTimeoutMs ?? 10_000,
          `reading ConfigMap ${name}`,
        );
        if (!current) {
          const failed = await this.createFromState(values);
          if (failed) notices.push(failed);
          return undefined;
        }
        const reading = readFlagData(this.keys, current.data);
        notices.push(...reading.invalid.map((entry) => this.invalidNotice(entry)));
        if (reading.missing.length > 0) await this.fillMissing(reading.missing, values);
        // A change of the bot's own still on its way to the map is not someone else's edit.
        for (const key of this.unsynced) delete reading.values[key];
        return reading.values;
      },
      (_drift, after) => {
        const broken = ruleViolations(this.flags.catalog, after);
        const reason = `ConfigMap ${this.cluster.namespace}/${name} edited outside Switchyard${
          broken.length > 0 ? `; it now breaks the flag rules: ${broken.join('; ')}` : ''
        }`;
        return { actor: { ...CLUSTER_ACTOR }, via: 'cluster', reason };
      },
    );
    if (recorded.length > 0) this.log.warn({ drift: recorded, configMap: name }, 'flag drift recorded');
    for (const notice of notices) await this.once(notice.key, notice.text);
  }

  /**
   * Writes the values of audited changes the map may have missed (replayed at start), so the cluster
   * agrees with the audit log; until it succeeds, those keys are not taken for drift.
   */
  private async pushUnsynced(values: FlagValues): Promise<void> {
    const keys = [...this.unsynced];
    try {
      const pushed = Object.fromEntries(keys.map((key) => [key, values[key] ?? false]));
      await this.write(pushed, values);
      for (const key of keys) this.unsynced.delete(key);
      await this.flags.markApplied(pushed);
      this.log.info(
        { configMap: this.options.configMap, keys },
        'wrote audited changes the ConfigMap had missed',
      );
    } catch (error) {
      this.log.warn(
        { err: error, configMap: this.options.configMap },
        'could not write audited changes to the ConfigMap yet',
      );
    }
  }

  /** Keys the bot owns but the map lacks (a new flag, a deleted line): written from the bot's state. */
  private async fillMissing(missing: readonly string[], values: FlagValues): Promise<void> {
    try {
      await this.write(Object.fromEntries(missing.map((key) => [key, values[key] ?? false])), values);
      this.log.info({ configMap: this.options.configMap, keys: missing }, 'wrote missing flag keys');
    } catch (error) {
      // Drift is still recorded; the keys are tried again at the next check.
      this.log.warn({ err: error, configMap: this.options.configMap }, 'could not write missing flag keys');
    }
  }

  private async write(wanted: Record<string, boolean>, allValues: FlagValues): Promise<void> {
    const name = this.options.configMap;
    const attempts = this.options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const current = await this.cluster.readConfigMap(name);
      if (!current) {
        await this.cluster.createConfigMap(name, writeFlagData(this.keys, {}, allValues));
        return;
      }
      const next = writeFlagData(this.keys, current.data, wanted);
      if (Object.entries(next).every(([key, value]) => current.data[key] === value)) return;
      try {
        await this.cluster.replaceConfigMap(name, next, current.resourceVersion);
        return;
      } catch (error) {
        if (!(error instanceof ClusterError && error.kind === 'conflict') || attempt >= attempts) throw error;
        this.log.info(
          { configMap: name, attempt },
          'flag ConfigMap changed under us; retrying from a fresh read',
        );
      }
    }
  }

  /** Creates the map from the state; on failure, returns the notice to post. */
  private async createFromState(values: FlagValues): Promise<{ key: string; text: string } | undefined> {
    try {
      await this.cluster.createConfigMap(this.options.configMap, writeFlagData(this.keys, {}, values));
      this.log.info({ configMap: this.options.configMap }, 'created the flag ConfigMap from the bot state');
      return undefined;
    } catch (error) {
      return {
        key: `create:${describe(error)}`,
        text: `:warning: The flag ConfigMap \`${this.cluster.namespace}/${this.options.configMap}\` does not exist and I could not create it (${describe(error)}). Flag changes will fail until it exists: apply \`deploy/kubernetes/flags-configmap.yaml\`.`,
      };
    }
  }

  private invalidNotice(entry: { key: string; envVar: string; value: string }) {
    return {
      key: `invalid:${entry.envVar}=${entry.value}`,
      text: `:warning: ConfigMap \`${this.options.configMap}\` has \`${entry.envVar}: "${entry.value.slice(0, 40)}"\`, which is neither \`true\` nor \`false\`. I keep treating \`${entry.key}\` as before; fix the value in the ConfigMap or set it with \`/flags\`.`,
    };
  }

  private async once(key: string, text: string): Promise<void> {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.log.warn({ configMap: this.options.configMap }, text);
    try {
      await this.options.notify?.(text);
    } catch (error) {
      this.log.error({ err: error }, 'could not post a cluster notice');
    }
  }
}

/** A hung API server must not hold the flag lock (and with it the kill switch) forever. */
function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
