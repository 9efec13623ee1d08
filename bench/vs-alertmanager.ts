/**
 * Switchyard next to Alertmanager's own Slack receiver, in one run (issue 11). One real Alertmanager
 * (Debian's prometheus-alertmanager) routes each alert to one of two receivers, in turns: its own
 * `slack_configs` ("direct") or the bot's webhook ("switchyard"); both talk to the same Slack emulator,
 * in this process. A third, "control" webhook receives every alert: its latency is Alertmanager's own
 * part (grouping, dispatch), shared by both paths. `group_wait: 0s`, one group per alert.
 *
 * Measured: from `POST /api/v2/alerts` to the first Slack call for that alert, for 200 single alerts
 * (one at a time) and 10 bursts of 20 (one POST each); p50/p90/p99 per path and the ratio, next to the
 * goals (single alerts: p50 and p99 ≤ 1.3× direct; bursts of 20: p50 ≤ 1.5×).
 *
 *   npm run bench:vs-alertmanager
 *   BENCH_SINGLES=100 BENCH_BURSTS=4 npx tsx bench/vs-alertmanager.ts
 *
 * The bot runs as `npm start` runs it in production: the built bundle in a process of its own.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { loadavg } from 'node:os';
import { SlackEmulator } from '../src/emulators/slack/emulator.js';
import { startAlertmanager } from '../test/support/alertmanager.js';
import { BENCH_BOT_TOKEN, BENCH_WEBHOOK_TOKEN, startBuiltBot } from './built-bot.js';

const SINGLES = Number(process.env.BENCH_SINGLES ?? 200);
const BURSTS = Number(process.env.BENCH_BURSTS ?? 10);
const BURST_SIZE = 20;
const TIMEOUT_MS = 15_000;
const BOT_TOKEN = BENCH_BOT_TOKEN;
const WEBHOOK_TOKEN = BENCH_WEBHOOK_TOKEN;
const GOALS = { singleP50: 1.3, singleP99: 1.3, burstP50: 1.5 };

type Path = 'direct' | 'switchyard';
const now = () => performance.now();

/** Resolvers waiting for the first Slack call (or control receipt) that names an alert. */
class Arrivals {
  private readonly seen = new Map<string, number>();
  private readonly waiting = new Map<string, (at: number) => void>();
  record(name: string, at: number) {
    if (this.seen.has(name)) return;
    this.seen.set(name, at);
    this.waiting.get(name)?.(at);
  }
  wait(name: string): Promise<number> {
    const at = this.seen.get(name);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name}: no arrival within ${TIMEOUT_MS} ms`)),
        TIMEOUT_MS,
      );
      this.waiting.set(name, (arrived) => {
        clearTimeout(timer);
        resolve(arrived);
      });
    });
  }
}

const slackArrivals = new Arrivals();
const controlArrivals = new Arrivals();
const NAME = /Bench\d{5}/g;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => resolve(body));
  });
}

async function startControl(): Promise<{ url: string; close(): void }> {
  const server = createServer(async (req, res) => {
    const at = now();
    const body = await readBody(req);
    for (const name of body.match(NAME) ?? []) controlArrivals.record(name, at);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

let counter = 0;
const nextName = () => `Bench${String(counter++).padStart(5, '0')}`;

function alert(name: string, path: Path) {
  return {
    labels: { alertname: name, path, severity: 'warning', deployment: 'messaging-core' },
    annotations: { summary: `${name} fired for the benchmark` },
    startsAt: new Date().toISOString(),
  };
}

async function fire(amUrl: string, names: string[], path: Path): Promise<number[]> {
  const started = now();
  const response = await fetch(`${amUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(names.map((name) => alert(name, path))),
  });
  if (!response.ok) throw new Error(`Alertmanager refused the alerts: HTTP ${response.status}`);
  const arrivals = await Promise.all(names.map((name) => slackArrivals.wait(name)));
  await Promise.all(names.map((name) => controlArrivals.wait(name)));
  return arrivals.map((at) => at - started);
}

const slack = new SlackEmulator({ botToken: BOT_TOKEN });
await slack.start();
slack.createChannel('am-direct', { botMember: true });
slack.onCall((call) => {
  if (call.method !== 'chat.postMessage') return;
  const at = now();
  for (const name of JSON.stringify(call.params).match(NAME) ?? []) slackArrivals.record(name, at);
});
const control = await startControl();
const bot = await startBuiltBot(slack);
const am = await startAlertmanager({
  webhookUrl: `${bot.url}/alertmanager`,
  bearerToken: WEBHOOK_TOKEN,
  config: (credentialsFile) => ({
    route: {
      receiver: 'control',
      group_by: ['alertname'],
      group_wait: '0s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        { receiver: 'control', continue: true },
        { receiver: 'direct', matchers: ['path="direct"'] },
        { receiver: 'switchyard', matchers: ['path="switchyard"'] },
      ],
    },
    receivers: [
      { name: 'control', webhook_configs: [{ url: control.url, send_resolved: false }] },
      {
        name: 'direct',
        slack_configs: [
          {
            api_url: `${slack.url}/api/chat.postMessage`,
            channel: '#am-direct',
            send_resolved: false,
            http_config: { authorization: { type: 'Bearer', credentials: BOT_TOKEN } },
          },
        ],
      },
      {
        name: 'switchyard',
        webhook_configs: [
          {
            url: `${bot.url}/alertmanager`,
            send_resolved: false,
            http_config: { authorization: { type: 'Bearer', credentials_file: credentialsFile } },
          },
        ],
      },
    ],
  }),
});

const results: Record<'single' | 'burst', Record<Path, number[]>> = {
  single: { direct: [], switchyard: [] },
  burst: { direct: [], switchyard: [] },
};
try {
  // Warm-up, not counted: the first alerts of each path pay for connections and lazy compilation.
  for (let i = 0; i < 10; i++) await fire(am.url, [nextName()], i % 2 === 0 ? 'direct' : 'switchyard');
  for (let i = 0; i < SINGLES; i++) {
    const path: Path = i % 2 === 0 ? 'direct' : 'switchyard';
    results.single[path].push(...(await fire(am.url, [nextName()], path)));
  }
  for (let b = 0; b < BURSTS; b++) {
    const path: Path = b % 2 === 0 ? 'direct' : 'switchyard';
    const names = Array.from({ length: BURST_SIZE }, nextName);
    results.burst[path].push(...(await fire(am.url, names, path)));
  }
  const row = (label: string, values: number[]) =>
    `${label.padEnd(26)} p50 ${quantile(values, 0.5).toFixed(1).padStart(6)} ms   p90 ${quantile(values, 0.9).toFixed(1).padStart(6)} ms   p99 ${quantile(values, 0.99).toFixed(1).padStart(6)} ms   (n=${values.length})`;
  const verdict = (ratio: number, goal: number) =>
    `${ratio.toFixed(2)}× (goal ≤ ${goal}×: ${ratio <= goal ? 'met' : 'NOT met'})`;
  console.log('alert → first Slack call, through one Alertmanager 0.25 (group_wait 0s)');
  for (const kind of ['single', 'burst'] as const) {
    console.log(
      kind === 'single'
        ? `\nsingle alerts, in turns (${SINGLES})`
        : `\nbursts of ${BURST_SIZE}, in turns (${BURSTS})`,
    );
    console.log(row('  Alertmanager direct', results[kind].direct));
    console.log(row('  Switchyard', results[kind].switchyard));
  }
  const ratio = (kind: 'single' | 'burst', q: number) =>
    quantile(results[kind].switchyard, q) / quantile(results[kind].direct, q);
  console.log('\nratios (Switchyard / Alertmanager direct)');
  console.log(`  single p50: ${verdict(ratio('single', 0.5), GOALS.singleP50)}`);
  console.log(`  single p99: ${verdict(ratio('single', 0.99), GOALS.singleP99)}`);
  console.log(`  burst  p50: ${verdict(ratio('burst', 0.5), GOALS.burstP50)}`);
  console.log(`\nload average ${loadavg()[0]!.toFixed(2)} on this machine (2 cores)`);
} catch (error) {
  console.error(
    `${(error as Error).message}\nAlertmanager said:\n${am.logs()}\nSlack calls: ${JSON.stringify(slack.calls().map((c) => [c.method, c.status, c.response.error, JSON.stringify(c.params).slice(0, 300)]))}`,
  );
  process.exitCode = 1;
} finally {
  await am.stop();
  await bot.stop();
  control.close();
  await slack.stop();
}
