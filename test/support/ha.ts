import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeEmulator } from '../../src/emulators/kube/index.js';
import type { RecordedCall } from '../../src/emulators/slack/emulator.js';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import {
  ALERT_TOKEN,
  BOT_TOKEN,
  type BotProcess,
  ONCALL_HANDLE,
  ONCALL_MEMBER,
  spawnBot,
  tempDir,
  testEnv,
} from './bot.js';
import { eventually, getJson, sendJson } from './http.js';

/** Where the replicas keep their state in the emulator. */
export const STATE_NAMESPACE = 'switchyard';

/** Short Lease times, so a failover takes seconds in a test (the defaults are 15 s / 10 s / 2 s). */
export const TEST_LEASE = { leaseDuration: 4_000, renewDeadline: 3_000, retryPeriod: 500 };

export interface Replica {
  name: string;
  /** The user the emulator knows this replica's token as (for partitions). */
  user: string;
  process: BotProcess;
  url: string;
  kubeconfig: string;
}

export interface HaSetup {
  kube: KubeEmulator;
  slack: SlackEmulator;
  replicas: Replica[];
  /** Starts (again) the replica of this name, as a new process. */
  start(name: string): Promise<Replica>;
  /** SIGKILL: no clean stop, no Lease release. */
  kill(replica: Replica): Promise<void>;
  stop(): Promise<void>;
}

const NAMES = ['replica-a', 'replica-b'];
const tokenOf = (name: string) => `token-${name}`;
const userOf = (name: string) => `system:serviceaccount:${STATE_NAMESPACE}:${name}`;

/**
 * Two bot processes with STATE_BACKEND=kubernetes against one Kubernetes emulator (each with its own
 * token, so the emulator can cut one off) and one Slack emulator.
 */
export async function startHa(configYaml: string, lease = TEST_LEASE): Promise<HaSetup> {
  const kube = new KubeEmulator({
    podReadyAfterMs: 100,
    users: Object.fromEntries(NAMES.map((name) => [tokenOf(name), userOf(name)])),
  });
  await kube.start();
  const slack = new SlackEmulator({ botToken: BOT_TOKEN });
  await slack.start();
  slack.setUsergroup('S0ONCALL', [ONCALL_MEMBER], ONCALL_HANDLE);
  const dir = tempDir('switchyard-ha-');
  const configPath = join(dir, 'switchyard.yml');
  const leaseYaml = `leaderElection:\n  leaseDuration: ${lease.leaseDuration / 1000}s\n  renewDeadline: ${lease.renewDeadline / 1000}s\n  retryPeriod: ${lease.retryPeriod}ms\n`;
  writeFileSync(configPath, `${configYaml}\n${leaseYaml}`);
  const replicas: Replica[] = [];

  const start = async (name: string): Promise<Replica> => {
    const stateDir = tempDir(`switchyard-${name}-`);
    const kubeconfig = kube.writeKubeconfig(join(stateDir, 'kubeconfig'), STATE_NAMESPACE, tokenOf(name));
    const process = await spawnBot(
      testEnv(slack, stateDir, configPath, {
        STATE_BACKEND: 'kubernetes',
        STATE_NAMESPACE,
        POD_NAME: name,
        KUBECONFIG: kubeconfig,
        HOME: stateDir,
        LOG_LEVEL: 'info',
      }),
    );
    const replica = { name, user: userOf(name), process, url: process.url, kubeconfig };
    const index = replicas.findIndex((other) => other.name === name);
    if (index >= 0) replicas[index] = replica;
    else replicas.push(replica);
    return replica;
  };

  await Promise.all(NAMES.map(start));
  replicas.sort((a, b) => a.name.localeCompare(b.name));
  return {
    kube,
    slack,
    replicas,
    start,
    async kill(replica) {
      replica.process.child.kill('SIGKILL');
      await replica.process.exited;
    },
    async stop() {
      for (const replica of replicas) {
        if (replica.process.child.exitCode === null) {
          replica.process.child.kill('SIGTERM');
          await replica.process.exited;
        }
      }
      await slack.stop();
      await kube.stop();
    },
  };
}

export interface ReadyRole {
  role?: 'single' | 'leader' | 'follower';
  holder?: string;
  transitions?: number;
}

export async function roleOf(replica: Replica): Promise<ReadyRole> {
  const answer = await getJson(`${replica.url}/readyz`).catch(() => undefined);
  return (answer?.body as ReadyRole | undefined) ?? {};
}

/** Waits until one of the running replicas says it leads; returns it and the other(s). */
export async function leaderAmong(
  replicas: readonly Replica[],
  timeoutMs = 60_000,
): Promise<{ leader: Replica; followers: Replica[] }> {
  const running = replicas.filter((replica) => replica.process.child.exitCode === null);
  const leader = await eventually(
    async () => {
      for (const replica of running) if ((await roleOf(replica)).role === 'leader') return replica;
      throw new Error('no replica leads yet');
    },
    timeoutMs,
    100,
  );
  return { leader, followers: running.filter((replica) => replica !== leader) };
}

export const postAlert = (replica: Replica, body: unknown) =>
  sendJson('POST', `${replica.url}/alertmanager`, body, { authorization: `Bearer ${ALERT_TOKEN}` });

/** The Lease holder a Slack call was made under (the outbox puts it in the message metadata). */
export function holderOf(call: RecordedCall): string | undefined {
  const metadata = call.params.metadata as { event_payload?: { holder?: unknown } } | undefined;
  const holder = metadata?.event_payload?.holder;
  return typeof holder === 'string' ? holder : undefined;
}

export const succeeded = (call: RecordedCall) => call.status === 200 && call.response.ok === true;
