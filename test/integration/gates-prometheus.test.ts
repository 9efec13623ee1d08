/**
 * The seed's metrics as phase gates, end to end: a real Prometheus (Debian's) scrapes a small exporter
 * whose values the test sets; the bot, with its default gates, judges `/phase advance` by them. Healthy
 * passes; each unhealthy metric blocks with its value, threshold and a link to its query; and the
 * baseline kept when a phase began (across a restart) blocks a degradation that stays under the
 * absolute thresholds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusClient } from '../../src/adapters/prometheus/prometheus-client.js';
import { worstValue } from '../../src/core/phases/gates.js';
import { SEED_GATES } from '../../src/core/phases/seed-gates.js';
import { type PrometheusHandle, startPrometheus } from '../support/alertmanager.js';
import { CHANNEL, OPERATOR, startTestBot, type TestBot } from '../support/bot.js';
import { type Exporter, type ExporterValues, HEALTHY, startExporter } from '../support/exporter.js';
import { eventually, getJson } from '../support/http.js';

const LEAD = 'U0LEAD1';
const CONFIG = `
access:
  operators: [${OPERATOR}]
  approvers: [${LEAD}]
  approvalsRequired: 1
rollback:
  deployments: []
`;
const PHASE1 = ['adaptive_timing', 'timing_calibration', 'retry_logic', 'flag_validation'];

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** An exporter with these values and a Prometheus scraping it, once every default gate query has data. */
async function metrics(
  values: Partial<ExporterValues>,
): Promise<{ exporter: Exporter; prometheus: PrometheusHandle }> {
  const exporter = await startExporter({ ...HEALTHY, ...values });
  cleanups.push(() => exporter.close());
  const prometheus = await startPrometheus({
    scrapeTargets: [{ job: 'messaging-system', targets: [exporter.target] }],
  });
  cleanups.push(() => prometheus.stop());
  const client = new PrometheusClient(prometheus.url);
  // A rate needs two scrapes: wait until every gate's query has a value.
  await eventually(async () => {
    for (const gate of SEED_GATES) {
      const worst = worstValue(gate, await client.query(gate.query));
      if (!worst.ok) throw new Error(`${gate.name}: ${worst.reason}`);
    }
  });
  return { exporter, prometheus };
}

async function bot(prometheus: PrometheusHandle, stateDir?: string): Promise<TestBot> {
  const started = await startTestBot({
    env: { PROMETHEUS_URL: prometheus.url },
    configYaml: CONFIG,
    ...(stateDir ? { stateDir } : {}),
  });
  cleanups.push(() => started.stop());
  return started;
}

/** `/phase advance`, approved by the lead; resolves with the request message once its gates ran. */
async function advance(t: TestBot): Promise<{ asked: string; settled: string; outcome: string }> {
  const reply = await t.client.slashCommand({
    command: '/phase',
    text: 'advance --override checklist not under test',
    userId: OPERATOR,
  });
  expect(reply.status).toBe(200);
  const request = await eventually(() => {
    const found = t.slack
      .messages(CHANNEL)
      .find((m) => !m.thread_ts && (m.text ?? '').includes('Waiting for approvals'));
    if (!found) throw new Error('no request posted yet');
    return found;
  });
  const asked = request.text ?? '';
  await t.client.event({
    type: 'reaction_added',
    user: LEAD,
    reaction: 'white_check_mark',
    item: { type: 'message', channel: CHANNEL, ts: request.ts },
    item_user: 'U0BOT',
    event_ts: `${Date.now() / 1000}`,
  });
  const settled = await eventually(() => {
    const text = t.slack.messages(CHANNEL).find((m) => m.ts === request.ts)?.text ?? '';
    if (!/Approved and advanced|blocked by the gate checks/.test(text))
      throw new Error(`not settled: ${text}`);
    return text;
  });
  const outcome = await eventually(() => {
    const found = t.slack.thread(CHANNEL, request.ts)[0];
    if (!found) throw new Error('no outcome in the thread yet');
    return found.text ?? '';
  });
  return { asked, settled, outcome };
}

const link = (prometheus: PrometheusHandle, query: string) =>
  `<${prometheus.url}/graph?g0.expr=${encodeURIComponent(query)}&amp;g0.tab=0|query in Prometheus>`;
const gate = (name: string) => SEED_GATES.find((candidate) => candidate.name === name)!;

async function phase1Flags(t: TestBot): Promise<boolean[]> {
  const all = (await getJson(`${t.url}/api/v1/features`)).body.flags as Array<{
    name: string;
    enabled: boolean;
  }>;
  return PHASE1.map((name) => all.find((flag) => flag.name === name)?.enabled ?? false);
}

describe('default gates against a real Prometheus', () => {
  it('healthy: every gate passes with its value, threshold and a link to its query, and the phase advances', async () => {
    const { prometheus } = await metrics({});
    const t = await bot(prometheus);
    const { asked, settled } = await advance(t);
    expect(asked).toContain(
      'Gate checks: error rate below 0.05, no worse than its baseline; p95 latency (s) below 5, no worse than its baseline; success rate at least 0.995, no worse than its baseline',
    );
    expect(asked).toMatch(
      /Baseline \(none was kept for Phase 0, so captured when this advance was asked, [\d-]+ [\d:]+ UTC\): error rate 0\.001, p95 latency \(s\) 0\.4875, success rate 0\.999/,
    );
    expect(settled).toContain('Approved and advanced.');
    for (const line of [
      `:white_check_mark: error rate: 0.001 (must be below 0.05) · ${link(prometheus, gate('error rate').query)}`,
      `:white_check_mark: p95 latency (s): 0.4875 (must be below 5) · ${link(prometheus, gate('p95 latency (s)').query)}`,
      `:white_check_mark: success rate: 0.999 (must be at least 0.995) · ${link(prometheus, gate('success rate').query)}`,
      `:white_check_mark: health checks: 1 (must be at least 1) · ${link(prometheus, gate('health checks').query)}`,
    ]) {
      expect(settled).toContain(line);
    }
    expect(settled).toMatch(
      /:white_check_mark: p95 latency \(s\) vs baseline: 0\.4875 \(baseline 0\.4875 when this advance was asked/,
    );
    expect(await phase1Flags(t)).toEqual([true, true, true, true]);
    // The link is a query Prometheus runs.
    const expr = new URL(
      link(prometheus, gate('success rate').query).slice(1).split('|')[0]!.replace('&amp;', '&'),
    ).searchParams.get('g0.expr')!;
    expect(expr).toBe(gate('success rate').query);
  });

  it.each([
    ['success rate', { successes: 970, failures: 30 }, ':x: success rate: 0.97 (must be at least 0.995)'],
    ['error rate', { errors: 100 }, ':x: error rate: 0.1 (must be below 0.05)'],
    ['p95 latency (s)', { latencyBucket: 10 as const }, ':x: p95 latency (s): 9.75 (must be below 5)'],
  ])('an unhealthy %s blocks the advance with its value shown', async (name, values, line) => {
    const { prometheus } = await metrics(values);
    const t = await bot(prometheus);
    const { settled, outcome } = await advance(t);
    expect(settled).toContain('Approved, but blocked by the gate checks. Nothing was changed.');
    expect(settled).toContain(`${line} · ${link(prometheus, gate(name).query)}`);
    // Only that gate fails.
    expect(settled.match(/:x:/g)).toHaveLength(1);
    expect(outcome).toContain(`Blocked by the gate checks: ${line.replace(':x: ', '')}`);
    expect(await phase1Flags(t)).toEqual([false, false, false, false]);
  });

  it('a messaging system that stopped answering its health checks blocks the advance', async () => {
    const { exporter, prometheus } = await metrics({});
    await exporter.close();
    const client = new PrometheusClient(prometheus.url);
    // The next scrape fails: up drops to 0 (the rates keep their last 5 minutes of samples).
    await eventually(async () => {
      const reading = await client.query(gate('health checks').query);
      if (reading.kind !== 'vector' || reading.samples[0]?.value !== '0') throw new Error('still up');
    });
    const t = await bot(prometheus);
    const { settled, outcome } = await advance(t);
    expect(settled).toContain(
      `:x: health checks: 0 (must be at least 1) · ${link(prometheus, gate('health checks').query)}`,
    );
    expect(settled.match(/:x:/g)).toHaveLength(1);
    expect(outcome).toContain('Blocked by the gate checks: health checks: 0 (must be at least 1)');
    expect(await phase1Flags(t)).toEqual([false, false, false, false]);
  });
});

describe('no degradation against the baseline kept when the phase began', () => {
  it('blocks a latency that doubled since Phase 1 began, still under 5 s, after a restart', async () => {
    const before = await metrics({});
    const first = await bot(before.prometheus);
    expect((await advance(first)).settled).toContain('Approved and advanced.');
    await first.stop();
    await before.prometheus.stop();

    // Later, p95 is 0.975 s: under the 5 s threshold, but twice the 0.4875 s of Phase 1's start.
    const after = await metrics({ latencyBucket: 1 });
    const second = await bot(after.prometheus, first.stateDir);
    const { asked, settled, outcome } = await advance(second);
    expect(asked).toMatch(
      /Baseline \(captured when Phase 1 began, [\d-]+ [\d:]+ UTC\): error rate 0\.001, p95 latency \(s\) 0\.4875, success rate 0\.999/,
    );
    expect(settled).toContain(':white_check_mark: p95 latency (s): 0.975 (must be below 5)');
    expect(settled).toMatch(
      /:x: p95 latency \(s\) vs baseline: 0\.975 \(baseline 0\.4875 when Phase 1 began, [\d-]+ [\d:]+ UTC; must not rise above 0\.585\) · <http/,
    );
    expect(settled).toContain(':white_check_mark: success rate vs baseline: 0.999');
    expect(settled.match(/:x:/g)).toHaveLength(1);
    expect(outcome).toContain('Blocked by the gate checks: p95 latency (s) vs baseline: 0.975');
  });
});
