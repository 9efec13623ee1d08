import { UserError } from '../commanding/reply.js';
import type { FlagCatalog, FlagValues } from '../core/flags/catalog.js';
import { type FlagChange, ruleViolations } from '../core/flags/rules.js';
import { flagDrift, readFlagData, writeFlagData } from '../core/rollout/flags.js';
import type { Logger } from '../logger.js';
import { type Cluster, ClusterError } from '../ports/cluster.js';
import type { FlagService, FlagSink } from './flag-service.js';

export interface ClusterFlagsOptions {
  configMap: string;
  /** How often the ConfigMap is compared with the bot's state. */
  intervalMs: number;
  /** Says something in the channel (a problem a person should see). */
  notify?: (text: string) => Promise<void>;
  /** Writes retried on 409 Conflict before giving up. */
  maxAttempts?: number;
}

export const CLUSTER_ACTOR = { id: 'cluster' } as const;

/**
 * The flags in the cluster: every change the bot makes is written to the ConfigMap (the owned
 * `MESSAGING_*` keys only, one update, guarded by resourceVersion and retried from a fresh read on a
 * conflict), and a change someone made to the ConfigMap by hand is recorded as drift, not reverted.
 */
export class ClusterFlags implements FlagSink {
  private readonly keys: Array<{ key: string; envVar: string }>;
  /** Bumped when a write starts; a drift check that saw it move discards what it read. */
  private writeGeneration = 0;
  private writesInFlight = 0;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private readonly reported = new Set<string>();

  constructor(
    private readonly cluster: Cluster,
    private readonly flags: FlagService,
    catalog: FlagCatalog,
    private readonly options: ClusterFlagsOptions,
    private readonly log: Logger,
  ) {
    this.keys = catalog.flags.map((flag) => ({ key: flag.key, envVar: flag.envVar }));
  }

  /** The FlagSink: runs inside the flag lock, before the audit commit; a throw aborts the change. */
  async apply(values: FlagValues, changes: readonly FlagChange[]): Promise<void> {
    this.writeGeneration++;
    this.writesInFlight++;
    try {
      const wanted = Object.fromEntries(changes.map((change) => [change.key, change.to]));
      await this.write(wanted, values);
    } catch (error) {
      throw new UserError(
        `The cluster did not take the change, so nothing was changed: ${describe(error)}`,
        `Check the bot's access to ConfigMap ${this.cluster.namespace}/${this.options.configMap}, then try again.`,
      );
    } finally {
      this.writesInFlight--;
    }
  }

  /** Compares once now (drift found at start is recorded), then every `intervalMs`. */
  async start(): Promise<void> {
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
    try {
      await this.compare();
    } catch (error) {
      this.log.warn({ err: error, configMap: this.options.configMap }, 'flag ConfigMap check failed');
    }
  }

  private async compare(): Promise<void> {
    const generation = this.writeGeneration;
    if (this.writesInFlight > 0) return;
    const current = await this.cluster.readConfigMap(this.options.configMap);
    const state = await this.flags.snapshot();
    // A write started meanwhile: what was read may be older than the state. Look again next time.
    if (generation !== this.writeGeneration || this.writesInFlight > 0) return;
    if (!current) {
      await this.createFromState(state.values);
      return;
    }
    const reading = readFlagData(this.keys, current.data);
    await this.reportInvalid(reading.invalid);
    const drift = flagDrift(state.values, reading.values);
    if (drift.length > 0) {
      const after = { ...state.values, ...reading.values };
      const broken = ruleViolations(this.flags.catalog, after);
      const reason = `ConfigMap ${this.cluster.namespace}/${this.options.configMap} edited outside Switchyard${
        broken.length > 0 ? `; it now breaks the flag rules: ${broken.join('; ')}` : ''
      }`;
      const recorded = await this.flags.record(
        drift,
        'drift',
        { actor: { ...CLUSTER_ACTOR }, via: 'cluster', reason },
        false,
      );
      if (recorded.length > 0) {
        this.log.warn({ drift: recorded, configMap: this.options.configMap }, 'flag drift recorded');
      }
    }
    if (reading.missing.length > 0) {
      // Keys the bot owns but the map lacks (a new flag, a deleted line): written from the bot's state.
      this.writeGeneration++;
      this.writesInFlight++;
      try {
        const values = (await this.flags.snapshot()).values;
        await this.write(
          Object.fromEntries(reading.missing.map((key) => [key, values[key] ?? false])),
          values,
        );
      } finally {
        this.writesInFlight--;
      }
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

  private async createFromState(values: FlagValues): Promise<void> {
    try {
      await this.cluster.createConfigMap(this.options.configMap, writeFlagData(this.keys, {}, values));
      this.log.info({ configMap: this.options.configMap }, 'created the flag ConfigMap from the bot state');
    } catch (error) {
      await this.once(
        `create:${describe(error)}`,
        `:warning: The flag ConfigMap \`${this.cluster.namespace}/${this.options.configMap}\` does not exist and I could not create it (${describe(error)}). Flag changes will fail until it exists: apply \`deploy/kubernetes/flags-configmap.yaml\`.`,
      );
    }
  }

  private async reportInvalid(invalid: Array<{ key: string; envVar: string; value: string }>) {
    for (const entry of invalid) {
      await this.once(
        `invalid:${entry.envVar}=${entry.value}`,
        `:warning: ConfigMap \`${this.options.configMap}\` has \`${entry.envVar}: "${entry.value.slice(0, 40)}"\`, which is neither \`true\` nor \`false\`. I keep treating \`${entry.key}\` as before; fix the value in the ConfigMap or set it with \`/flags\`.`,
      );
    }
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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
