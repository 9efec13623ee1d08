/**
 * How long `npm start` takes, from spawn to the first `GET /readyz` 200, with nothing configured (local
 * mode: embedded Slack emulator, demo cluster, demo Prometheus), as a new user would run it after
 * `npm ci`. Five runs, each with a fresh state directory; prints the median next to the 3 s goal.
 *
 *   npm run bench:start
 *   BENCH_RUNS=9 npx tsx bench/start.ts
 *
 * The build is brought up to date first (as `npm ci`'s prepare script leaves it), so a run measures a
 * start, not a build. Exits 1 when a run fails to become ready; the goal itself only reports.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const GOAL_MS = 3_000;
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5) || 5);
const GIVE_UP_MS = 120_000;

const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) =>
      !/^(SLACK_|FLAG_API_TOKEN|SWITCHYARD_CONFIG|PORT|STATE_DIR|KUBECONFIG|PROMETHEUS_URL)/.test(key),
  ),
) as Record<string, string>;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function oneRun(): Promise<number> {
  const stateDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-start-'));
  const port = await freePort();
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], {
    env: { ...CLEAN_ENV, STATE_DIR: stateDir, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let done = false;
  void exited.then(() => {
    done = true;
  });
  try {
    while (!done) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (response) => response.status === 200,
        () => false,
      );
      if (ready) return performance.now() - started;
      if (performance.now() - started > GIVE_UP_MS) throw new Error(`not ready after ${GIVE_UP_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`npm start exited before it was ready:\n${stderr}`);
  } finally {
    // npm runs node in a child: signal the whole group, as a terminal's Ctrl-C would.
    if (!done) process.kill(-child.pid!, 'SIGTERM');
    await exited;
    rmSync(stateDir, { recursive: true, force: true });
  }
}

execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit' });
const times: number[] = [];
for (let run = 1; run <= RUNS; run++) {
  const ms = await oneRun();
  times.push(ms);
  console.log(`run ${run}: ${(ms / 1000).toFixed(2)} s`);
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
const verdict = median <= GOAL_MS ? 'within' : 'OVER';
console.log(
  `npm start → /readyz 200: median ${(median / 1000).toFixed(2)} s of ${RUNS} runs ` +
    `(min ${(sorted[0]! / 1000).toFixed(2)} s, max ${(sorted.at(-1)! / 1000).toFixed(2)} s); ` +
    `goal 3.00 s: ${verdict}. Load average ${loadavg()[0]!.toFixed(2)} on this machine.`,
);
