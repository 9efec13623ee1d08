/**
 * Alert storm: 10,000 alerts in 200 groups sent to `POST /alertmanager` as fast as the bot takes them,
 * with the Slack emulator rate-limiting chat.postMessage like Slack (token bucket per channel).
 *
 *   npm run bench:alerts
 *   BENCH_POSTS_PER_SECOND=1 BENCH_BURST=20 BENCH_GROUPS=200 BENCH_ALERTS=10000 npx tsx bench/alert-storm.ts
 *
 * Env: BENCH_GROUPS (200), BENCH_ALERTS (10000), BENCH_WAVES (2: each group is sent first with half its
 * alerts, then whole, as Alertmanager's group_wait then group_interval would), BENCH_CONCURRENCY (32
 * webhooks in flight), BENCH_POSTS_PER_SECOND (1) and BENCH_BURST (20): the Slack rate limit;
 * BENCH_LATENCY_SAMPLES (30): the low-load probe, on a separate bot whose Slack is not rate-limited.
 * At 1 post/s, 200 groups need at least (200 - burst) s: the defaults run for about three minutes.
 *
 * The bot runs as production runs it (the built bundle) in its own process. Prints the ingest rate,
 * the time until every group's message is posted (beside Slack's floor), messages posted per group,
 * the bot's peak RSS (goal ≤ 150 MiB) and the webhook-to-first-Slack-call latency at low load (bot
 * in this process). Exits non-zero when any group is lost (no message) or posted twice.
 */
import { SlackEmulator } from '../src/emulators/slack/emulator.js';
import { ALERT_TOKEN, CHANNEL, startTestBot, BOT_TOKEN as TEST_BOT_TOKEN } from '../test/support/bot.js';
import { firing, notification } from '../test/unit/alerts/builders.js';
import { BENCH_BOT_TOKEN as BOT_TOKEN, startBuiltBot } from './built-bot.js';

const GROUPS = int('BENCH_GROUPS', 200);
const ALERTS = int('BENCH_ALERTS', 10_000);
const WAVES = int('BENCH_WAVES', 2);
const CONCURRENCY = int('BENCH_CONCURRENCY', 32);
const RATE = Number(process.env.BENCH_POSTS_PER_SECOND ?? 1);
const BURST = int('BENCH_BURST', 20);
const SAMPLES = int('BENCH_LATENCY_SAMPLES', 30);
const CONFIG = 'escalation:\n  oncall: S0ONCALL\n';

function int(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}: expected a positive whole number`);
  return value;
}

const name = (g: number) => `StormGroup${String(g).padStart(4, '0')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function payload(group: number, count: number, startedAt: number) {
  const alertname = name(group);
  const labels = { alertname };
  const alerts = Array.from({ length: count }, (_, i) =>
    firing(`${alertname}-${i}`, startedAt, {
      alertname,
      instance: `10.${group % 250}.${Math.floor(i / 250)}.${i % 250}:9100`,
    }),
  );
  return notification(alerts, {
    groupKey: `{}:{alertname="${alertname}"}`,
    groupLabels: labels,
    commonLabels: labels,
  });
}

async function send(url: string, body: unknown): Promise<number> {
  const response = await fetch(`${url}/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);

async function latencyProbe(): Promise<number[]> {
  const slack = new SlackEmulator({ botToken: TEST_BOT_TOKEN });
  await slack.start();
  const t = await startTestBot({ slack, configYaml: CONFIG });
  const samples: number[] = [];
  try {
    for (let i = 0; i < SAMPLES; i++) {
      const body = payload(100_000 + i, 1, Date.now());
      const started = performance.now();
      const first = slack.waitForCall(
        'chat.postMessage',
        (c) => String(c.params.text).includes(name(100_000 + i)),
        10_000,
      );
      const status = await send(t.url, body);
      if (status !== 200) throw new Error(`probe webhook answered ${status}`);
      await first;
      samples.push(performance.now() - started);
      await sleep(20);
    }
  } finally {
    await t.stop();
    await slack.stop();
  }
  return samples.sort((a, b) => a - b);
}

async function storm(): Promise<boolean> {
  const slack = new SlackEmulator({ botToken: BOT_TOKEN, rateLimit: { postsPerSecond: RATE, burst: BURST } });
  await slack.start();
  // The bot in its own process, as production runs it: its RSS is its own.
  const bot = await startBuiltBot(slack, {
    configYaml: CONFIG,
    env: { ALERTMANAGER_WEBHOOK_TOKEN: ALERT_TOKEN },
  });
  let botPeak = bot.rssMiB();
  const botSampler = setInterval(() => {
    botPeak = Math.max(botPeak, bot.rssMiB());
  }, 100);
  const perGroup = Math.ceil(ALERTS / GROUPS);
  const startedAt = Date.now();
  const jobs: Array<() => Promise<number>> = [];
  for (let wave = 1; wave <= WAVES; wave++) {
    for (let g = 0; g < GROUPS; g++) {
      const count = Math.min(perGroup, Math.ceil((perGroup * wave) / WAVES));
      jobs.push(() => send(bot.url, payload(g, count, startedAt)));
    }
  }
  const bodiesAlerts = GROUPS * perGroup;
  const start = performance.now();
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        statuses.push(await job());
      }
    }),
  );
  const ingestSeconds = (performance.now() - start) / 1000;
  const refused = statuses.filter((status) => status !== 200).length;

  const posted = () => {
    const counts = new Map<string, number>();
    for (const m of slack.messages(CHANNEL)) {
      if (m.thread_ts) continue;
      const found = /StormGroup\d{4}/.exec(m.text ?? '');
      if (found) counts.set(found[0], (counts.get(found[0]) ?? 0) + 1);
    }
    return counts;
  };
  const deadline = Date.now() + ((GROUPS - BURST) / RATE) * 1000 * 1.5 + 60_000;
  let allPostedSeconds: number | undefined;
  while (Date.now() < deadline) {
    if (posted().size >= GROUPS) {
      allPostedSeconds = (performance.now() - start) / 1000;
      break;
    }
    await sleep(100);
  }
  await sleep(1_000); // let a duplicate show itself, should there be one
  const counts = posted();
  const perGroupCounts = [...counts.values()];
  const lost = GROUPS - counts.size;
  const duplicated = perGroupCounts.filter((n) => n > 1).length;
  const calls = slack.calls('chat.postMessage');
  const metrics = await (await fetch(`${bot.url}/metrics`)).text();
  const queued = Number(/^switchyard_slack_queue_depth (\d+)/m.exec(metrics)?.[1] ?? Number.NaN);
  clearInterval(botSampler);

  console.log(
    `Alert storm: ${bodiesAlerts} alerts in ${GROUPS} groups, ${WAVES} waves (${jobs.length} webhooks, ${CONCURRENCY} in flight)`,
  );
  console.log(`Slack rate limit (emulator, chat.postMessage per channel): ${RATE}/s, burst ${BURST}`);
  console.log(
    `  ingest: ${jobs.length} webhooks in ${ingestSeconds.toFixed(2)} s = ${(jobs.length / ingestSeconds).toFixed(0)} webhooks/s, ${((bodiesAlerts * (WAVES + 1)) / 2 / ingestSeconds).toFixed(0)} alerts/s (alert copies carried), ${(bodiesAlerts / ingestSeconds).toFixed(0)} distinct alerts/s; non-200 answers: ${refused}`,
  );
  console.log(
    `  every group's message posted after: ${allPostedSeconds === undefined ? 'NOT ALL (timed out)' : `${allPostedSeconds.toFixed(1)} s`} (floor at this limit: ${Math.max(0, (GROUPS - BURST) / RATE).toFixed(0)} s)`,
  );
  console.log(
    `  top-level messages per group: min ${perGroupCounts.length > 0 ? Math.min(...perGroupCounts) : 0} max ${Math.max(0, ...perGroupCounts)}; groups lost: ${lost}; posted twice: ${duplicated}`,
  );
  console.log(
    `  chat.postMessage calls: ${calls.length} (${calls.filter((c) => c.status === 429).length} answered 429); chat.update calls: ${slack.calls('chat.update').length}; still queued (thread notes): ${queued}`,
  );
  console.log(
    `  bot peak RSS (its own process): ${botPeak.toFixed(0)} MiB (goal ≤ 150 MiB: ${botPeak <= 150 ? 'met' : 'NOT met'})`,
  );
  await bot.stop();
  await slack.stop();
  return lost === 0 && duplicated === 0 && refused === 0;
}

const latencies = await latencyProbe();
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
const ok = await storm();
clearInterval(sampler);
console.log(
  `  peak RSS of the benchmark process (emulator and load generator): ${(peakRss / 1024 / 1024).toFixed(0)} MiB`,
);
console.log(
  `Low load, webhook sent → first chat.postMessage call (${latencies.length} samples, no rate limit): p50 ${pct(50).toFixed(1)} ms, p95 ${pct(95).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`,
);
if (!ok) {
  console.error('FAILED: a group was lost, posted twice, or a webhook refused');
  process.exit(1);
}
process.exit(0);
