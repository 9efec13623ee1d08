import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Route } from './adapters/http/server.js';
import { writeFileAtomic } from './adapters/storage/atomic-file.js';
import { COMMANDS } from './bot.js';
import type { AppConfig } from './config/load.js';
import { KubeEmulator, seedMessagingSystem } from './emulators/kube/index.js';
import { SlackEmulator } from './emulators/slack/emulator.js';
import { type LocalSession, localPointerPath, localSessionPath } from './local-session.js';
import type { Logger } from './logger.js';
import { DemoPrometheus } from './sandbox/demo-prometheus.js';
import type { Person } from './sandbox/protocol.js';
import { sandboxRoutes } from './sandbox/routes.js';
import { Sandbox } from './sandbox/sandbox.js';

export { type LocalSession, localPointerPath, localSessionPath } from './local-session.js';

/** The user the local CLI speaks as; an operator (and approver) in local mode only. */
export const LOCAL_USER = 'U0LOCAL';
export const LOCAL_CHANNEL = 'C0INCIDENTS';
const BOT_USER = 'U0BOT';
const ONCALL_GROUP = 'S0ONCALL';
const APPROVERS_GROUP = 'S0APPROVERS';

/**
 * The people of the local workspace, so permissions and quorums can be tried: the operator the CLI
 * speaks as (also an approver, so the "requester never counts" rule shows), three approvers, someone
 * with no rights, the on-call engineer (an operator through the on-call group) and the team lead the
 * first escalation tier pages.
 */
export const LOCAL_PEOPLE: readonly Person[] = [
  { id: LOCAL_USER, name: 'local-operator', role: 'operator and approver' },
  { id: 'U0APPROVER1', name: 'approver-1', role: 'approver' },
  { id: 'U0APPROVER2', name: 'approver-2', role: 'approver' },
  { id: 'U0APPROVER3', name: 'approver-3', role: 'approver' },
  { id: 'U0VISITOR', name: 'visitor', role: 'no rights (not an operator)' },
  { id: 'U0ONCALL', name: 'on-call', role: 'on-call engineer (operator)' },
  { id: 'U0TEAMLEAD', name: 'team-lead', role: 'team lead (escalation tier 1)' },
];

/** Without a config file, local escalation is quick enough to watch: tier 1 after 10 s, not 15 min. */
const DEMO_TIERS = [
  { after: 10_000, notify: ['U0TEAMLEAD'] },
  { after: 120_000, notify: [] },
  { after: 300_000, notify: [] },
];

/**
 * With no Slack configuration the bot talks to a Slack emulator inside the same process, with
 * fresh credentials each start, so `npm start` works on a laptop with nothing set up.
 */
export async function startLocalSlack(config: AppConfig, log: Logger) {
  const botToken = `xoxb-local-${randomBytes(8).toString('hex')}`;
  const signingSecret = randomBytes(16).toString('hex');
  const emulator = new SlackEmulator({
    botToken,
    botUserId: BOT_USER,
    logger: log.child({ component: 'slack-emulator' }),
  });
  await emulator.start(0, '127.0.0.1');
  for (const person of LOCAL_PEOPLE) emulator.addUser(person.id, { name: person.name });
  emulator.setUsergroup(ONCALL_GROUP, ['U0ONCALL'], 'messaging-oncall');
  emulator.setUsergroup(
    APPROVERS_GROUP,
    [LOCAL_USER, 'U0APPROVER1', 'U0APPROVER2', 'U0APPROVER3'],
    'release-leads',
  );
  const cluster = config.env.KUBECONFIG ? undefined : await startDemoCluster(config, log);
  const webhookToken = config.env.ALERTMANAGER_WEBHOOK_TOKEN ?? randomBytes(12).toString('hex');
  const { file } = config;
  const prometheus = config.env.PROMETHEUS_URL ? undefined : new DemoPrometheus(file.gates);
  await prometheus?.start();
  const localConfig: AppConfig = {
    ...config,
    channel: LOCAL_CHANNEL,
    file: {
      ...file,
      access: {
        ...file.access,
        operators: file.access.operators.length > 0 ? file.access.operators : [ONCALL_GROUP],
        approvers: file.access.approvers.length > 0 ? file.access.approvers : [APPROVERS_GROUP],
      },
      escalation: config.env.SWITCHYARD_CONFIG
        ? file.escalation
        : { ...file.escalation, oncall: file.escalation.oncall ?? ONCALL_GROUP, tiers: DEMO_TIERS },
    },
    env: {
      ...config.env,
      ...(cluster ? { KUBECONFIG: cluster.kubeconfig } : {}),
      ...(prometheus ? { PROMETHEUS_URL: prometheus.url } : {}),
      ALERTMANAGER_WEBHOOK_TOKEN: webhookToken,
      SLACK_BOT_TOKEN: botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: emulator.apiUrl,
    },
  };
  const sandbox = new Sandbox({
    emulator,
    signingSecret,
    channel: LOCAL_CHANNEL,
    botUserId: BOT_USER,
    people: LOCAL_PEOPLE,
    commands: COMMANDS,
    webhookToken,
    prometheus,
  });
  /** The sandbox's routes, and the Slack route reporting when its handler is done. */
  const routes = (base: Route[]): Route[] => {
    const observed = base.map((route) =>
      route.path === '/slack/events'
        ? {
            ...route,
            handler: async (...args: Parameters<Route['handler']>) => {
              try {
                await route.handler(...args);
              } finally {
                sandbox.requestHandled(args[2].correlationId);
              }
            },
          }
        : route,
    );
    return [...observed, ...sandboxRoutes(sandbox)];
  };
  const saveSession = async (botUrl: string, settled: () => Promise<void>) => {
    sandbox.attach(botUrl, settled);
    const sessionPath = resolve(localSessionPath(config.env.STATE_DIR));
    await writeFileAtomic(
      sessionPath,
      JSON.stringify({
        botUrl,
        emulatorUrl: emulator.url,
        signingSecret,
        flagApiToken: config.env.FLAG_API_TOKEN,
        webhookToken,
        channel: LOCAL_CHANNEL,
        user: LOCAL_USER,
        stateDir: resolve(config.env.STATE_DIR),
      } satisfies LocalSession),
    );
    await writeFileAtomic(localPointerPath(), JSON.stringify({ session: sessionPath }));
  };
  const stop = async () => {
    await emulator.stop();
    await cluster?.emulator.stop();
    await prometheus?.stop();
  };
  return {
    emulator,
    cluster: cluster?.emulator,
    config: localConfig,
    routes,
    saveSession,
    stop,
    webhookToken,
    generatedWebhookToken: config.env.ALERTMANAGER_WEBHOOK_TOKEN === undefined,
    demoPrometheus: prometheus !== undefined,
  };
}

/** The one line that tells a person the bot is ready and what to do next. */
export function readyLine(botUrl: string, stateDir: string): string {
  const custom = resolve(stateDir) !== resolve('./data');
  const cli = `${custom ? `STATE_DIR=${stateDir} ` : ''}npm run cli -- "/flags list"`;
  return `Switchyard is running locally: open ${botUrl}/sandbox in a browser, or try ${cli} in another terminal.`;
}

/**
 * Without KUBECONFIG, local mode runs a Kubernetes API emulator as the demo cluster: the messaging
 * Deployments (messaging-core with two revisions, so `/rollback deployment messaging-core` has
 * something to undo) and the flag ConfigMap, reached through a kubeconfig under STATE_DIR.
 */
export async function startDemoCluster(config: AppConfig, log: Logger) {
  const emulator = new KubeEmulator({
    logger: log.child({ component: 'kube-emulator' }),
    podReadyAfterMs: 1_500,
  });
  await emulator.start(0, '127.0.0.1');
  seedMessagingSystem(emulator, config.env.KUBE_NAMESPACE);
  const core = emulator.get('Deployment', config.env.KUBE_NAMESPACE, 'messaging-core');
  const container = core?.spec.template.spec.containers[0];
  if (core && container) {
    emulator.apply({
      ...core,
      spec: {
        ...core.spec,
        template: {
          ...core.spec.template,
          spec: {
            ...core.spec.template.spec,
            containers: [{ ...container, image: 'registry.local/messaging-core:1.1.0' }],
          },
        },
      },
    });
    emulator.reconcile({ podsReadyNow: true });
  }
  const kubeconfig = emulator.writeKubeconfig(
    join(config.env.STATE_DIR, 'demo-kubeconfig'),
    config.env.KUBE_NAMESPACE,
  );
  // The kubeconfig holds the emulator's CA and a token for this run only: printing the path lets a
  // person look at the demo cluster with their own kubectl.
  log.info(
    { server: emulator.url, kubeconfig },
    `local mode: a demo cluster (Kubernetes API emulator) stands in for Kubernetes; look at it with: KUBECONFIG=${kubeconfig} kubectl get pods`,
  );
  return { emulator, kubeconfig };
}
