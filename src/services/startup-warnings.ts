import type { DocumentStore } from '../ports/document-store.js';

/**
 * Start-up checks of configuration that would quietly do nothing: each problem is one line in the log
 * at every start and, once (until it changes), one line in the channel.
 */
export type StartupWarningKey =
  | 'approvers-empty'
  | 'escalation-no-targets'
  | 'gates-without-prometheus'
  | 'rollback-deployments-missing';

export interface StartupWarning {
  key: StartupWarningKey;
  /** Bot-worded plain text (config names in it are shown escaped by the messages layer). */
  text: string;
}

export interface ConfigFacts {
  approvers: readonly string[];
  tiers: ReadonlyArray<{ notify: readonly string[] }>;
  gates: ReadonlyArray<{ name: string }>;
  prometheusUrl?: string;
}

/** The warnings the config alone shows. Pure. */
export function configWarnings(facts: ConfigFacts): StartupWarning[] {
  const warnings: StartupWarning[] = [];
  if (facts.approvers.length === 0) {
    warnings.push({
      key: 'approvers-empty',
      text: '`access.approvers` is empty: nobody can approve a phase advance, so `/phase advance` cannot complete.',
    });
  }
  if (facts.tiers.every((tier) => tier.notify.length === 0)) {
    warnings.push({
      key: 'escalation-no-targets',
      text: '`escalation.tiers` notify nobody: an unacknowledged sev1 escalates to no one.',
    });
  }
  if (facts.gates.length > 0 && !facts.prometheusUrl) {
    const names = facts.gates.map((gate) => gate.name).join(', ');
    warnings.push({
      key: 'gates-without-prometheus',
      text: `\`gates\` are configured (${names}) but \`PROMETHEUS_URL\` is not set: phase advances cannot check them.`,
    });
  }
  return warnings;
}

/** `rollback.deployments` the cluster does not have (undefined when it has them all). Pure. */
export function missingDeploymentsWarning(
  configured: readonly string[],
  present: readonly string[],
  namespace: string,
): StartupWarning | undefined {
  const have = new Set(present);
  const missing = configured.filter((name) => !have.has(name));
  if (missing.length === 0) return undefined;
  return {
    key: 'rollback-deployments-missing',
    text: `\`rollback.deployments\` names Deployments that namespace ${namespace} does not have: ${missing.join(', ')}. \`/rollback all\` cannot roll them back.`,
  };
}

/** What was last said in the channel, so a restart with the same warnings says nothing. */
export interface AnnouncedWarnings {
  posted: string[];
}

export interface ReportDeps {
  facts: ConfigFacts;
  /** Present with a cluster: `rollback.deployments` and the Deployments it has. */
  cluster?: {
    configured: readonly string[];
    namespace: string;
    list: () => Promise<string[]>;
  };
  log: { warn(obj: object, msg: string): void };
  /** Posts one note in the channel (through the outbox). */
  post: (text: string) => Promise<void>;
  store: DocumentStore<AnnouncedWarnings>;
}

/**
 * Logs each warning (one line each), then posts them in the channel once: only when they differ from
 * what was last posted. A cluster that cannot be listed is logged, not guessed about.
 */
export async function reportStartupWarnings(deps: ReportDeps): Promise<StartupWarning[]> {
  const warnings = configWarnings(deps.facts);
  if (deps.cluster && deps.cluster.configured.length > 0) {
    try {
      const present = await deps.cluster.list();
      const missing = missingDeploymentsWarning(deps.cluster.configured, present, deps.cluster.namespace);
      if (missing) warnings.push(missing);
    } catch (error) {
      deps.log.warn({ err: error }, 'could not list the Deployments to check rollback.deployments');
    }
  }
  for (const warning of warnings) deps.log.warn({ warning: warning.key }, warning.text);
  const lines = warnings.map((warning) => warning.text);
  const last = await deps.store.read();
  if (JSON.stringify(last.posted) === JSON.stringify(lines)) return warnings;
  if (lines.length > 0) {
    await deps.post(
      [':warning: Configuration that will not work as it stands:', ...lines.map((line) => `• ${line}`)].join(
        '\n',
      ),
    );
  }
  // Recorded once said: a post that failed is tried again at the next start.
  await deps.store.update(() => ({ next: { posted: lines }, result: undefined }));
  return warnings;
}
