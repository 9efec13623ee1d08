/**
 * The bot's own start time and memory in Slack mode, as it runs in production (the built bundle,
 * `node dist/src/main.js`), against the Slack emulator: spawn → first `GET /readyz` 200, and the
 * resident set size once it is idle. Two configurations: no cluster, and a cluster (the Kubernetes
 * emulator through a kubeconfig). Each is run BENCH_RUNS times (default 5); medians are printed next
 * to the goals of issue 11 (≤ 600 ms; ≤ 80 MiB without a cluster, ≤ 110 MiB with one).
 *
 *   npm run bench:footprint
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeEmulator, seedMessagingSystem } from '../src/emulators/kube/index.js';
import { SlackEmulator } from '../src/emulators/slack/emulator.js';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5) || 5);
const GOALS = { readyMs: 600, idleMiB: { none: 80, cluster: 110 } };
const BOT_TOKEN = 'xoxb-bench';
const IDLE_SETTLE_MS = 2_000;

const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) =>
      !/^(SLACK_|FLAG_API_TOKEN|SWITCHYARD_CONFIG|PORT|STATE_DIR|KUBECONFIG|PROMETHEUS_URL|KUBERNETES_)/.test(
        key,
      ),
  ),
) as Record<string, string>;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return kib / 1024;
}

async function oneRun(slack: SlackEmulator, kubeconfig: string | undefined) {
  const stateDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-footprint-'));
  const configPath = join(stateDir, 'switchyard.yml');
  writeFileSync(configPath, 'access:\n  operators: [U0OPERATOR]\n  approvers: [U0APPROVER]\n');
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const started = performance.now();
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    env: {
      ...CLEAN_ENV,
      HOME: stateDir,
      PORT: String(port),
      STATE_DIR: stateDir,
      SWITCHYARD_CONFIG: configPath,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: 'bench-secret',
      SLACK_API_URL: slack.apiUrl,
      SLACK_CHANNEL: 'C0INCIDENTS',
      LOG_LEVEL: 'warn',
      ...(kubeconfig ? { KUBECONFIG: kubeconfig, KUBE_NAMESPACE: 'messaging-system' } : {}),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (response) => response.status === 200,
        () => false,
      );
      if (ready) break;
      if (child.exitCode !== null) throw new Error('the bot exited before it was ready');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const readyMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
    return { readyMs, rss: rssMiB(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit' });
const slack = new SlackEmulator({ botToken: BOT_TOKEN });
await slack.start();
const kube = new KubeEmulator({ podReadyAfterMs: 10 });
await kube.start();
seedMessagingSystem(kube);
const kubeDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-kube-'));
const kubeconfig = kube.writeKubeconfig(join(kubeDir, 'kubeconfig'), 'messaging-system');
try {
  for (const [name, config] of [
    ['none', undefined],
    ['cluster', kubeconfig],
  ] as const) {
    const runs = [];
    for (let run = 0; run < RUNS; run++) runs.push(await oneRun(slack, config));
    const ready = median(runs.map((run) => run.readyMs));
    const rss = median(runs.map((run) => run.rss));
    const label = name === 'none' ? 'no cluster' : 'with a cluster';
    console.log(
      `${label.padEnd(15)} spawn → /readyz 200: median ${ready.toFixed(0)} ms (goal ≤ ${GOALS.readyMs} ms: ${ready <= GOALS.readyMs ? 'met' : 'NOT met'}); ` +
        `idle RSS: median ${rss.toFixed(0)} MiB (goal ≤ ${GOALS.idleMiB[name]} MiB: ${rss <= GOALS.idleMiB[name] ? 'met' : 'NOT met'})`,
    );
  }
  console.log(`${RUNS} runs each; load average ${loadavg()[0]!.toFixed(2)} on this machine.`);
} finally {
  await slack.stop();
  await kube.stop();
  rmSync(kubeDir, { recursive: true, force: true });
}
