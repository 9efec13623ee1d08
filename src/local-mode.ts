import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from './adapters/storage/atomic-file.js';
import type { AppConfig } from './config/load.js';
import { KubeEmulator, seedMessagingSystem } from './emulators/kube/index.js';
import { SlackEmulator } from './emulators/slack/emulator.js';
import type { Logger } from './logger.js';

/** The user the local CLI speaks as; an operator in local mode only. */
export const LOCAL_USER = 'U0LOCAL';
export const LOCAL_CHANNEL = 'C0INCIDENTS';

export interface LocalSession {
  botUrl: string;
  emulatorUrl: string;
  signingSecret: string;
  flagApiToken?: string;
  channel: string;
  user: string;
}

export function localSessionPath(stateDir: string): string {
  return join(stateDir, 'local-session.json');
}

/**
 * With no Slack configuration the bot talks to a Slack emulator inside the same process, with
 * fresh credentials each start, so `npm start` works on a laptop with nothing set up.
 */
export async function startLocalSlack(config: AppConfig, log: Logger) {
  const botToken = `xoxb-local-${randomBytes(8).toString('hex')}`;
  const signingSecret = randomBytes(16).toString('hex');
  const emulator = new SlackEmulator({ botToken, logger: log.child({ component: 'slack-emulator' }) });
  await emulator.start(0, '127.0.0.1');
  emulator.addUser(LOCAL_USER, { name: 'local-operator' });
  const cluster = config.env.KUBECONFIG ? undefined : await startDemoCluster(config, log);
  const localConfig: AppConfig = {
    ...config,
    channel: LOCAL_CHANNEL,
    env: {
      ...config.env,
      ...(cluster ? { KUBECONFIG: cluster.kubeconfig } : {}),
      SLACK_BOT_TOKEN: botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: emulator.apiUrl,
    },
  };
  const saveSession = (botUrl: string) =>
    writeFileAtomic(
      localSessionPath(config.env.STATE_DIR),
      JSON.stringify({
        botUrl,
        emulatorUrl: emulator.url,
        signingSecret,
        flagApiToken: config.env.FLAG_API_TOKEN,
        channel: LOCAL_CHANNEL,
        user: LOCAL_USER,
      } satisfies LocalSession),
    );
  return { emulator, cluster: cluster?.emulator, config: localConfig, saveSession };
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
