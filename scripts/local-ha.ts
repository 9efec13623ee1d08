/**
 * npm run local:ha — two replicas on a laptop, to watch leader election and failover:
 * a Kubernetes API emulator (the messaging system seeded; the bot's state and Lease in `switchyard`),
 * one Slack emulator, and two bot processes (`node dist/src/main.js`, the built bot) with
 * STATE_BACKEND=kubernetes, POD_NAME replica-a / replica-b. It prints both URLs, which one leads,
 * every Slack post with the lease term that sent it, and takes commands on stdin (alert, kill, term,
 * status). A replica that exits is started again after a few seconds, as its Deployment would.
 * Ctrl-C stops everything.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse as parseYaml } from 'yaml';
import { fileConfigSchema } from '../src/config/file.js';
import { KubeEmulator, seedMessagingSystem } from '../src/emulators/kube/index.js';
import { SlackEmulator } from '../src/emulators/slack/emulator.js';
import { LOCAL_CHANNEL, LOCAL_PEOPLE, LOCAL_USER } from '../src/local-mode.js';
import { createLogger } from '../src/logger.js';
import { alertmanagerPayload, chooseAlert, sendToWebhook } from '../src/sandbox/alerts.js';
import { DemoPrometheus } from '../src/sandbox/demo-prometheus.js';
import {
  haConfigYaml,
  MESSAGING_NAMESPACE,
  REPLICAS,
  type ReplicaSetup,
  type Role,
  replicaEnv,
  roleOf,
  STATE_NAMESPACE,
  termOf,
} from './local-ha-setup.js';

const BOT_USER = 'U0BOT';
const ONCALL_GROUP = 'S0ONCALL';
const APPROVERS_GROUP = 'S0APPROVERS';
const TEAM_LEAD = 'U0TEAMLEAD';
/** A killed replica comes back after this, as a Deployment's replacement pod would (not instantly). */
const RESTART_AFTER_MS = 5_000;
const POLL_MS = 500;

function say(text: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** One bot process, started again when it exits until `stopping`. */
class Replica {
  child?: ChildProcess;
  role: Role | 'down' = 'down';
  exitedAt?: number;
  private restartTimer?: NodeJS.Timeout;

  constructor(
    readonly setup: ReplicaSetup,
    private readonly env: Record<string, string>,
    private readonly isStopping: () => boolean,
  ) {}

  get name(): string {
    return this.setup.name;
  }

  get url(): string {
    return `http://127.0.0.1:${this.setup.port}`;
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  private starts = 0;

  start(): void {
    // A Deployment replaces a lost pod with a new one, under a new name: the Lease holder changes too.
    this.starts += 1;
    const podName = this.starts === 1 ? this.name : `${this.name}-${this.starts}`;
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      env: { ...this.env, POD_NAME: podName },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => say(`[${this.name}] ${line}`));
    }
    say(`${this.name}: started, pid ${child.pid}, ${this.url}`);
    child.on('exit', (code, signal) => {
      // The role poll sees it down (and, if it led, times the takeover from `exitedAt`).
      this.exitedAt = Date.now();
      if (this.isStopping()) return;
      say(
        `${this.name}: pid ${child.pid} exited (${signal ?? `code ${code}`}); starting it again in ${RESTART_AFTER_MS / 1000} s, as its Deployment would`,
      );
      this.restartTimer = setTimeout(() => this.start(), RESTART_AFTER_MS);
    });
  }

  /** Sends `signal` and resolves once the process is gone (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<void> {
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** The role `/readyz` reports now; `down` when the process does not answer. */
  async probe(): Promise<Role | 'down'> {
    if (this.pid === undefined) return 'down';
    try {
      const response = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      return roleOf(await response.json().catch(() => undefined));
    } catch {
      return 'down';
    }
  }
}

async function main(): Promise<void> {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-local-ha-'));
  const logLevel = process.env.LOG_LEVEL ?? 'warn';
  const log = createLogger(logLevel as Parameters<typeof createLogger>[0]);

  const kube = new KubeEmulator({
    logger: log.child({ component: 'kube-emulator' }),
    podReadyAfterMs: 1_500,
  });
  await kube.start(0, '127.0.0.1');
  seedMessagingSystem(kube, MESSAGING_NAMESPACE);
  const kubeconfig = kube.writeKubeconfig(join(dir, 'kubeconfig'), MESSAGING_NAMESPACE);

  const botToken = `xoxb-local-ha-${randomBytes(8).toString('hex')}`;
  const slack = new SlackEmulator({
    botToken,
    botUserId: BOT_USER,
    logger: log.child({ component: 'slack-emulator' }),
  });
  await slack.start(0, '127.0.0.1');
  for (const person of LOCAL_PEOPLE) slack.addUser(person.id, { name: person.name });
  slack.setUsergroup(ONCALL_GROUP, ['U0ONCALL'], 'messaging-oncall');
  slack.setUsergroup(
    APPROVERS_GROUP,
    [LOCAL_USER, 'U0APPROVER1', 'U0APPROVER2', 'U0APPROVER3'],
    'release-leads',
  );
  slack.onCall((call) => {
    if (!/^chat\.(postMessage|update|postEphemeral)$/.test(call.method) || !call.response.ok) return;
    const text = String(call.params.text ?? '')
      .split('\n')[0]!
      .slice(0, 100);
    const term = termOf(call.params);
    say(`[slack] ${call.method} ${String(call.params.channel)}${term ? ` (sent by ${term})` : ''}: ${text}`);
  });

  const configPath = join(dir, 'switchyard.yml');
  const configYaml = haConfigYaml({
    operator: LOCAL_USER,
    oncallGroup: ONCALL_GROUP,
    approversGroup: APPROVERS_GROUP,
    teamLead: TEAM_LEAD,
  });
  writeFileSync(configPath, configYaml);
  // As in local mode: the phase gates ask a stand-in Prometheus that answers healthy.
  const prometheus = new DemoPrometheus(fileConfigSchema.parse(parseYaml(configYaml)).gates);
  await prometheus.start();
  const shared = {
    slackApiUrl: slack.apiUrl,
    botToken,
    signingSecret: randomBytes(16).toString('hex'),
    webhookToken: randomBytes(12).toString('hex'),
    flagApiToken: randomBytes(12).toString('hex'),
    kubeconfig,
    configPath,
    channel: LOCAL_CHANNEL,
    logLevel,
    prometheusUrl: prometheus.url,
  };

  let stopping = false;
  const replicas: Replica[] = [];
  for (const name of REPLICAS) {
    const stateDir = join(dir, name);
    mkdirSync(stateDir);
    const setup = { name, port: await freePort(), stateDir };
    replicas.push(new Replica(setup, replicaEnv(shared, setup), () => stopping));
  }
  for (const replica of replicas) replica.start();

  const leader = () => replicas.find((r) => r.role === 'leader');
  const follower = () =>
    replicas.find((r) => r.role === 'follower') ?? replicas.find((r) => r.pid !== undefined);
  printHelp(replicas, shared.webhookToken, kubeconfig, slack.url);

  // Roles as each /readyz reports them; a change is printed, a takeover with how long it took.
  let lostLeaderAt: number | undefined;
  const poll = setInterval(() => {
    void Promise.all(
      replicas.map(async (replica) => {
        const role = await replica.probe();
        if (role === replica.role) return;
        const before = replica.role;
        replica.role = role;
        // Lost by dying: since the exit; by losing the Lease alive (a partition): since now.
        if (before === 'leader')
          lostLeaderAt ??= role === 'down' ? (replica.exitedAt ?? Date.now()) : Date.now();
        if (role === 'leader' && lostLeaderAt !== undefined) {
          say(
            `${replica.name} (pid ${replica.pid}) now LEADS, ${((Date.now() - lostLeaderAt) / 1000).toFixed(1)} s after the last leader was lost`,
          );
          lostLeaderAt = undefined;
        } else {
          say(
            `${replica.name} (pid ${replica.pid ?? '-'}) is ${role === 'leader' ? 'the LEADER' : role}${role === 'unknown' ? ' (its /readyz reports no role)' : ''}`,
          );
        }
      }),
    );
  }, POLL_MS);

  const commands = createInterface({ input: process.stdin });
  commands.on('line', (line) => {
    void command(line.trim().split(/\s+/)).catch((error: unknown) =>
      say(`error: ${(error as Error).message}`),
    );
  });
  async function command([verb, ...args]: string[]): Promise<void> {
    switch (verb) {
      case 'alert':
      case 'resolve': {
        const target = follower();
        if (!target) return say('no replica is running');
        const choice = chooseAlert(args[0] ?? 'MessagingSystemDown');
        if (!choice.ok) return say(choice.error);
        const status = verb === 'alert' ? 'firing' : 'resolved';
        const answer = await sendToWebhook(
          target.url,
          shared.webhookToken,
          alertmanagerPayload(choice.alert, status, new Date()),
        );
        return say(
          `${choice.alert.name} ${status} sent to ${target.name} (${target.role}): HTTP ${answer.status}`,
        );
      }
      case 'kill':
      case 'term': {
        const target = leader();
        if (!target?.pid) return say('no replica reports itself as the leader yet');
        say(`${verb === 'kill' ? 'SIGKILL' : 'SIGTERM'} to the leader ${target.name} (pid ${target.pid})`);
        process.kill(target.pid, verb === 'kill' ? 'SIGKILL' : 'SIGTERM');
        return;
      }
      case 'status':
        for (const r of replicas)
          say(`${r.name.padEnd(10)} ${String(r.pid ?? '-').padEnd(8)} ${r.role.padEnd(9)} ${r.url}`);
        return;
      case '':
      case undefined:
        return;
      default:
        printHelp(replicas, shared.webhookToken, kubeconfig, slack.url);
    }
  }

  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    say('stopping both replicas (SIGTERM) and the emulators…');
    clearInterval(poll);
    commands.close();
    await Promise.all(replicas.map((replica) => replica.stop()));
    await slack.stop();
    await kube.stop();
    await prometheus.stop();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

function printHelp(replicas: Replica[], webhookToken: string, kubeconfig: string, slackUrl: string): void {
  const lines = [
    '',
    'Two Switchyard replicas (STATE_BACKEND=kubernetes) against a Kubernetes API emulator and a Slack emulator:',
    ...replicas.map((r) => `  ${r.name}: ${r.url}  (pid ${r.pid ?? '-'}; role: curl ${r.url}/readyz)`),
    `  Slack emulator: ${slackUrl}/_emulator/messages    Alertmanager webhook token: ${webhookToken}`,
    `  The Lease and the state: KUBECONFIG=${kubeconfig} kubectl -n ${STATE_NAMESPACE} get lease,configmaps -w`,
    '',
    'Type a command and Enter:',
    '  alert [name]    fire an alert (default MessagingSystemDown, sev1) at a follower; the leader pages',
    '  resolve [name]  resolve it',
    '  kill            SIGKILL the leader: the other takes over within leaseDuration + retryPeriod (13 s)',
    '  term            SIGTERM the leader: it releases the Lease, the other takes over at once',
    '  status          pids, roles, URLs',
    '  Or from another terminal: kill -9 <pid of the leader>. Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`local:ha: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
