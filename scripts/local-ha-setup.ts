/**
 * What `npm run local:ha` gives each of its two bot processes: the environment and the config file.
 * Pure, so the unit test checks them against the bot's own config loader.
 */

export const STATE_NAMESPACE = 'switchyard';
export const MESSAGING_NAMESPACE = 'messaging-system';
export const REPLICAS = ['replica-a', 'replica-b'] as const;
export type ReplicaName = (typeof REPLICAS)[number];

/** What every replica shares: one Slack workspace, one cluster, one set of secrets. */
export interface SharedSetup {
  slackApiUrl: string;
  botToken: string;
  signingSecret: string;
  webhookToken: string;
  flagApiToken: string;
  kubeconfig: string;
  configPath: string;
  channel: string;
  logLevel: string;
  /** The demo Prometheus the phase gates ask (local mode's stand-in). */
  prometheusUrl: string;
}

/** One replica: its Lease identity, its port, and a directory of its own for anything local. */
export interface ReplicaSetup {
  name: ReplicaName;
  port: number;
  stateDir: string;
}

/**
 * The environment of one bot process: as the Deployment gives a pod (STATE_BACKEND=kubernetes, the
 * state namespace, the pod's name as the Lease identity), in Slack HTTP mode against the emulator.
 * Only PATH and HOME are taken from this process, so nothing of the caller's shell leaks in.
 */
export function replicaEnv(
  shared: SharedSetup,
  replica: ReplicaSetup,
  inherited: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  return {
    PATH: inherited.PATH ?? '',
    HOME: inherited.HOME ?? replica.stateDir,
    PORT: String(replica.port),
    STATE_BACKEND: 'kubernetes',
    STATE_NAMESPACE,
    POD_NAME: replica.name,
    // Not used by the kubernetes backend; a directory of its own should anything still write there.
    STATE_DIR: replica.stateDir,
    KUBECONFIG: shared.kubeconfig,
    KUBE_NAMESPACE: MESSAGING_NAMESPACE,
    SWITCHYARD_CONFIG: shared.configPath,
    SLACK_API_URL: shared.slackApiUrl,
    SLACK_BOT_TOKEN: shared.botToken,
    SLACK_SIGNING_SECRET: shared.signingSecret,
    SLACK_CHANNEL: shared.channel,
    ALERTMANAGER_WEBHOOK_TOKEN: shared.webhookToken,
    FLAG_API_TOKEN: shared.flagApiToken,
    PROMETHEUS_URL: shared.prometheusUrl,
    LOG_LEVEL: shared.logLevel,
  };
}

/**
 * The config file both replicas read: the local workspace's people, an escalation quick enough to
 * watch fail over (tier 1 after 20 s), and the default lease timings, so a SIGKILL failover takes
 * what it takes in a cluster (at most leaseDuration + retryPeriod, 17 s).
 */
export function haConfigYaml(people: {
  operator: string;
  oncallGroup: string;
  approversGroup: string;
  teamLead: string;
}): string {
  return `access:
  operators: [${people.oncallGroup}, ${people.operator}]
  approvers: [${people.approversGroup}]
escalation:
  oncall: ${people.oncallGroup}
  tiers:
    - { after: 20s, notify: [${people.teamLead}] }
    - { after: 2m, notify: [] }
    - { after: 5m, notify: [] }
leaderElection:
  leaseDuration: 12s
  renewDeadline: 8s
  retryPeriod: 1s
`;
}

export type Role = 'leader' | 'follower' | 'unknown';

/**
 * A replica's role from its `/readyz` body (`role: "leader" | "follower"`); `unknown` when the body
 * does not say (a bot that does not report it, or an answer that is not JSON).
 */
export function roleOf(body: unknown): Role {
  if (typeof body !== 'object' || body === null) return 'unknown';
  const role = (body as { role?: unknown }).role;
  return role === 'leader' || role === 'follower' ? role : 'unknown';
}

/** The lease term a post carries in its metadata (`holder`, `transitions`), for the log of posts. */
export function termOf(params: Record<string, unknown>): string | undefined {
  const metadata = params.metadata as { event_payload?: Record<string, unknown> } | string | undefined;
  const payload = typeof metadata === 'string' ? parseJson(metadata)?.event_payload : metadata?.event_payload;
  if (!payload || typeof payload !== 'object') return undefined;
  const { holder, transitions } = payload as { holder?: unknown; transitions?: unknown };
  if (typeof holder !== 'string') return undefined;
  return typeof transitions === 'number' ? `${holder}, term ${transitions}` : holder;
}

function parseJson(text: string): { event_payload?: Record<string, unknown> } | undefined {
  try {
    return JSON.parse(text) as { event_payload?: Record<string, unknown> };
  } catch {
    return undefined;
  }
}
