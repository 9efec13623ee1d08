/**
 * Does a webhook cost more when the bot keeps many alert groups? (issue 11: "no per-webhook work grows
 * with the number of groups kept"). Resolved groups are kept for `alerts.retention` (7 days), so a
 * busy week leaves thousands. The bot starts on a state directory holding KEPT resolved groups
 * (10, then 10,000), then takes SAMPLES new alerts one at a time; printed: webhook → 200 p50/p99 for
 * both, and their ratio (goal: flat, ≤ 1.2×).
 *
 *   npm run bench:webhook-scaling
 *   BENCH_SAMPLES=100 npx tsx bench/webhook-scaling.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { applyNotification } from '../src/core/alerts/group.js';
import { SlackEmulator } from '../src/emulators/slack/emulator.js';
import { type GroupRecord, groupIdOf } from '../src/ports/alert-groups.js';
import { ALERT_TOKEN, BOT_TOKEN, startTestBot, tempDir } from '../test/support/bot.js';
import { firing, notification, resolved } from '../test/unit/alerts/builders.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
const GOAL_RATIO = 1.2;
const HOUR = 3_600_000;

/** Resolved groups as the bot keeps them: record file with a posted message, resolved an hour ago. */
function seedKeptGroups(stateDir: string, count: number): void {
  const dir = join(stateDir, 'alerts', 'groups');
  mkdirSync(dir, { recursive: true });
  const at = Date.now() - 2 * HOUR;
  for (let i = 0; i < count; i++) {
    const alertname = `Kept${i}`;
    const groupKey = `{}:{alertname="${alertname}"}`;
    const alert = firing(`kept-${i}`, at, { alertname });
    const opened = applyNotification(undefined, notification([alert], { groupKey }), at).state;
    const state = applyNotification(
      opened,
      notification([resolved(alert, at + 60_000)], { groupKey }),
      at + HOUR / 2,
    ).state;
    const id = groupIdOf(groupKey);
    const record: GroupRecord = {
      id,
      sentEscalations: [],
      state,
      message: { channel: 'C0INCIDENTS', ts: `${Math.floor(at / 1000)}.${String(i).padStart(6, '0')}` },
    };
    writeFileSync(join(dir, `${id}.json`), JSON.stringify(record));
  }
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function measure(kept: number): Promise<number[]> {
  const stateDir = tempDir('switchyard-bench-scaling-');
  seedKeptGroups(stateDir, kept);
  const slack = new SlackEmulator({ botToken: BOT_TOKEN });
  await slack.start();
  const t = await startTestBot({ slack, stateDir, configYaml: 'escalation:\n  oncall: S0ONCALL\n' });
  const times: number[] = [];
  try {
    for (let i = 0; i < SAMPLES + 10; i++) {
      const alertname = `New${kept}x${i}`;
      const body = notification([firing(`new-${i}`, Date.now(), { alertname })], {
        groupKey: `{}:{alertname="${alertname}"}`,
      });
      const started = performance.now();
      const response = await fetch(`${t.url}/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` },
        body: JSON.stringify(body),
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
      if (i >= 10) times.push(performance.now() - started); // the first ten warm up
    }
    await t.bot.settled();
  } finally {
    await t.stop();
    await slack.stop();
  }
  return times;
}

const few = await measure(10);
const many = await measure(10_000);
const row = (label: string, values: number[]) =>
  `${label.padEnd(22)} webhook → 200: p50 ${quantile(values, 0.5).toFixed(1).padStart(5)} ms, p99 ${quantile(values, 0.99).toFixed(1).padStart(6)} ms (n=${values.length})`;
console.log(row('10 groups kept', few));
console.log(row('10,000 groups kept', many));
const ratio = quantile(many, 0.5) / quantile(few, 0.5);
console.log(
  `p50 ratio 10,000 / 10: ${ratio.toFixed(2)}× (goal flat, ≤ ${GOAL_RATIO}×: ${ratio <= GOAL_RATIO ? 'met' : 'NOT met'}); load average ${loadavg()[0]!.toFixed(2)}`,
);
