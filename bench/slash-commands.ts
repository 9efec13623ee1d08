/**
 * Loopback benchmark of the slash-command path: signed `/flags list` requests at 100 connections
 * against the bot (in this process, against the Slack emulator), side by side with a FLOOR — a bare
 * `node:http` server that only buffers the body, verifies the same v0 signature and answers `{}`.
 *
 *   npm run bench:slash                      # 10 s per target
 *   BENCH_SECONDS=5 npx tsx bench/slash-commands.ts
 *
 * The load generator (autocannon) runs in a child process, so it does not share the servers' event
 * loop. Every request is signed when it is sent, with its own trigger_id, as Slack's are (the bot
 * refuses a replay). Each target gets a 1 s warm-up first.
 * Exits non-zero when either target answers anything but the expected 2xx: the bench would be broken.
 */
import { fork } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { signSlackRequest } from '../src/emulators/slack/signed-client.js';

const CONNECTIONS = 100;
const SECONDS = positiveNumber(process.env.BENCH_SECONDS, 10);
const WARMUP_SECONDS = 1;
const FORM = 'application/x-www-form-urlencoded';

/** What the parent asks one load-generator child to do. */
interface LoadJob {
  target: string;
  url: string;
  signingSecret: string;
  responseUrl: string;
  userId: string;
  channelId: string;
  /** A 2xx body must contain this, or the request counts as `unexpected`. */
  expectInBody: string;
}

interface LoadResult {
  target: string;
  requests: number;
  reqPerSec: number;
  p50: number;
  p975: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  unexpected: number;
}

if (process.env.BENCH_ROLE === 'load') {
  process.once('message', (job: LoadJob) => {
    void generateLoad(job).then((result) => process.send?.(result, () => process.exit(0)));
  });
} else {
  await main();
}

// ---- the parent: servers, orchestration, report ----

async function main(): Promise<void> {
  // Imported here so that the load-generator child does not load the bot.
  const { startTestBot, OPERATOR, CHANNEL, SIGNING_SECRET } = await import('../test/support/bot.js');

  const floor = await startFloor(SIGNING_SECRET);
  const bot = await startTestBot();
  try {
    const preflight = await bot.client.slashCommand({ command: '/flags', text: 'list', userId: OPERATOR });
    if (preflight.status !== 200 || !JSON.stringify(preflight.body).includes('Feature flags')) {
      throw new Error(`preflight /flags list: HTTP ${preflight.status} ${JSON.stringify(preflight.body)}`);
    }
    const common = {
      signingSecret: SIGNING_SECRET,
      // Minted once: quick answers go in the ack, so the bot never posts to it during the run.
      responseUrl: bot.slack.createResponseUrl({ channel: CHANNEL }),
      userId: OPERATOR,
      channelId: CHANNEL,
    };

    console.log(
      `Node ${process.version} · ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? '?'}) · ` +
        `${CONNECTIONS} connections · ${SECONDS} s per target after ${WARMUP_SECONDS} s warm-up`,
    );
    const floorResult = await runLoad({ ...common, target: 'floor', url: floor.url, expectInBody: '{}' });
    const botResult = await runLoad({
      ...common,
      target: 'bot /flags list',
      url: `${bot.url}/slack/events`,
      expectInBody: 'Feature flags',
    });
    printTable([floorResult, botResult]);

    const broken = [floorResult, botResult].filter((r) => r.non2xx + r.errors + r.unexpected > 0);
    for (const r of broken) {
      console.error(
        `BROKEN: ${r.target} answered ${r.non2xx} non-2xx, ${r.unexpected} unexpected bodies, ` +
          `${r.errors} errors (${r.timeouts} timeouts)`,
      );
    }
    process.exitCode = broken.length > 0 ? 1 : 0;
  } finally {
    await bot.stop();
    await new Promise((resolve) => floor.server.close(resolve));
  }
}

/** Runs one target's load in a child process and returns its figures. */
function runLoad(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // fork() keeps process.execArgv, so the child runs under tsx like this process.
    const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_ROLE: 'load' } });
    child.once('message', (result) => resolve(result as LoadResult));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`load generator for ${job.target} exited with ${code}`)));
    child.send(job);
  });
}

/** The floor: what any Slack endpoint must do at least — buffer, verify v0, answer. */
function startFloor(signingSecret: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const timestamp = Number(req.headers['x-slack-request-timestamp']);
      const given = Buffer.from(String(req.headers['x-slack-signature'] ?? ''));
      const expected = Buffer.from(
        `v0=${createHmac('sha256', signingSecret)
          .update(`v0:${timestamp}:${Buffer.concat(chunks).toString('utf8')}`)
          .digest('hex')}`,
      );
      const fresh = Math.abs(Date.now() / 1000 - timestamp) <= 300;
      const ok = fresh && given.length === expected.length && timingSafeEqual(given, expected);
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(ok ? '{}' : '{"error":"invalid signature"}');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events` });
    });
  });
}

function printTable(results: LoadResult[]): void {
  const header = ['target', 'req/s', 'p50 ms', 'p97.5 ms', 'p99 ms', 'non-2xx', 'errors'];
  const rows = results.map((r) => [
    r.target,
    r.reqPerSec.toFixed(0),
    r.p50.toFixed(1),
    r.p975.toFixed(1),
    r.p99.toFixed(1),
    String(r.non2xx),
    String(r.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ');
  console.log();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows) console.log(line(row));

  const [floor, bot] = results;
  if (floor && bot && bot.reqPerSec > 0) {
    console.log();
    console.log(
      `floor/bot: throughput ${(floor.reqPerSec / bot.reqPerSec).toFixed(1)}× · ` +
        `bot/floor latency: p50 ${(bot.p50 / floor.p50).toFixed(1)}×, p99 ${(bot.p99 / floor.p99).toFixed(1)}× ` +
        `(${bot.requests} bot requests measured)`,
    );
  }
}

// ---- the child: autocannon against one target ----

async function generateLoad(job: LoadJob): Promise<LoadResult> {
  const sign = slashCommandSigner(job);
  let unexpected = 0;
  const onResponse = (status: number, body: string) => {
    if (status >= 200 && status < 300 && !body.includes(job.expectInBody)) unexpected += 1;
  };
  const run = (seconds: number) =>
    autocannon({
      url: job.url,
      method: 'POST',
      connections: CONNECTIONS,
      duration: seconds,
      // Every request signed now with its own trigger_id, as Slack's are: the bot refuses a replayed
      // request (same trigger_id), so reusing one would measure the replay guard, not the command.
      requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, ...sign() }), onResponse }],
    });

  await run(WARMUP_SECONDS);
  unexpected = 0;
  const result = await run(SECONDS);
  return {
    target: job.target,
    requests: result.requests.total,
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p975: result.latency.p97_5,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    unexpected,
  };
}

/** Makes `/flags list` requests as Slack sends them: signed now, each with its own trigger_id. */
function slashCommandSigner(job: LoadJob) {
  const fixed = new URLSearchParams({
    token: 'local-verification-token',
    team_id: 'T0LOCAL',
    team_domain: 'local',
    channel_id: job.channelId,
    channel_name: job.channelId.toLowerCase(),
    user_id: job.userId,
    user_name: job.userId.toLowerCase(),
    command: '/flags',
    text: 'list',
    api_app_id: 'A0LOCAL',
    response_url: job.responseUrl,
  }).toString();
  let sequence = 0;
  return () => {
    const timestamp = Math.floor(Date.now() / 1000);
    sequence += 1;
    const body = `${fixed}&trigger_id=${timestamp}.${process.pid}.${sequence}`;
    return {
      body,
      headers: {
        'content-type': FORM,
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': signSlackRequest(job.signingSecret, timestamp, body),
      },
    };
  };
}

function positiveNumber(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value && Number.isFinite(n) && n > 0 ? n : fallback;
}
