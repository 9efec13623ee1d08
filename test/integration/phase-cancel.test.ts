/**
 * Issue 10 item 3: a phase advance request can be cancelled (by its requester or an operator, nobody
 * else), a new request supersedes one older than `phases.requestTimeout` (on the bot's injected
 * clock), and the request says at once which gates cannot be evaluated in this setup.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL, ONCALL_MEMBER, OPERATOR, OUTSIDER, startTestBot, type TestBot } from '../support/bot.js';
import { eventually, textOf } from '../support/http.js';

const MINUTE = 60_000;
const LEAD1 = 'U0LEAD1';
// No PROMETHEUS_URL and no cluster: the seed's metric gates and the rollout gate cannot be evaluated.
const CONFIG = `
access:
  operators: [${OPERATOR}, S0ONCALL]
  approvers: [${LEAD1}]
  approvalsRequired: 1
phases:
  requestTimeout: 30m
`;

const clock = { at: Date.now() };
let t: TestBot;

beforeAll(async () => {
  t = await startTestBot({ configYaml: CONFIG, now: () => clock.at });
});
afterAll(async () => {
  await t.stop();
});
afterEach(async () => {
  // Leave no request open for the next test.
  await t.client.slashCommand({ command: '/phase', text: 'cancel cleanup', userId: OPERATOR });
  expect(t.slack.violations).toEqual([]);
});

const phase = async (text: string, userId: string) =>
  textOf((await t.client.slashCommand({ command: '/phase', text, userId })).body as never);
const requests = () =>
  t.slack.messages(CHANNEL).filter((m) => !m.thread_ts && (m.text ?? '').includes('Phase advance'));
const byTs = (ts: string) => requests().find((m) => m.ts === ts)?.text ?? '';

async function open(userId = OPERATOR): Promise<string> {
  const before = requests().length;
  expect(await phase('advance --override ready', userId)).toContain('Asked for approval in the channel');
  return eventually(() => {
    const all = requests();
    if (all.length <= before) throw new Error('no request posted yet');
    return all.at(-1)!.ts;
  });
}

describe('/phase cancel', () => {
  it('by the requester ends the request; a new one can then be asked for', async () => {
    const ts = await open();
    expect(await phase('cancel wrong week', OPERATOR)).toContain('Cancelled <');
    await eventually(() => expect(byTs(ts)).toContain(`Cancelled by <@${OPERATOR}>. Nothing was changed.`));
    expect(byTs(ts)).toContain('Cancelled: “wrong week”');
    const outcome = await eventually(() => {
      const found = t.slack.thread(CHANNEL, ts).find((m) => (m.text ?? '').includes('Cancelled'));
      if (!found) throw new Error('no outcome in the thread yet');
      return found.text ?? '';
    });
    expect(outcome).toContain(`Cancelled by <@${OPERATOR}>`);
    // Cancelled requests take no approvals.
    expect(await phase('cancel', OPERATOR)).toContain('There is no open phase advance request');
    const again = await open();
    expect(again).not.toBe(ts);
  });

  it('by someone else who is not an operator, is refused and changes nothing', async () => {
    const ts = await open();
    const refused = await phase('cancel not mine', OUTSIDER);
    expect(refused).toContain(`Only the requester (<@${OPERATOR}>) or an operator may cancel`);
    expect(refused).toContain('Nothing was changed.');
    expect(byTs(ts)).toContain('Waiting for approvals.');
    expect(await phase('history', OUTSIDER)).toContain(': open — by');
  });

  it('by another operator (through the on-call group) is allowed', async () => {
    const ts = await open();
    expect(await phase('cancel', ONCALL_MEMBER)).toContain('Cancelled <');
    await eventually(() => expect(byTs(ts)).toContain(`Cancelled by <@${ONCALL_MEMBER}>`));
  });
});

describe('supersede after phases.requestTimeout', () => {
  it('keeps a younger request, and replaces one older than the timeout', async () => {
    const opened = clock.at;
    const ts = await open();
    clock.at = opened + 30 * MINUTE - 1;
    expect(await phase('advance', ONCALL_MEMBER)).toContain('is already waiting for approval');
    expect(byTs(ts)).toContain('Waiting for approvals.');

    clock.at = opened + 30 * MINUTE;
    const reply = await phase('advance --override checklist not under test', ONCALL_MEMBER);
    expect(reply).toContain('Asked for approval in the channel');
    expect(reply).toContain(`It replaces the request by <@${OPERATOR}>`);
    await eventually(() => expect(byTs(ts)).toContain('Superseded by a newer request. Nothing was changed.'));
    expect(byTs(ts)).toContain('open longer than 30m (phases.requestTimeout)');
    const newest = requests().at(-1)!;
    expect(newest.ts).not.toBe(ts);
    expect(newest.text).toContain('Waiting for approvals.');
    expect(newest.text).toContain(`Requested by <@${ONCALL_MEMBER}>`);
  });
});

describe('gates that cannot be evaluated', () => {
  it('are named on the request at once, before any approval', async () => {
    const reply = await phase('advance --override checklist not under test', OPERATOR);
    expect(reply).toContain(
      ':warning: Cannot be evaluated: error rate, p95 latency (s), success rate, health checks: no Prometheus configured',
    );
    const text = await eventually(() => {
      const found = requests().at(-1)?.text ?? '';
      if (!found.includes('Waiting for approvals')) throw new Error('no open request yet');
      return found;
    });
    expect(text).toContain(
      ':warning: Cannot be evaluated: error rate, p95 latency (s), success rate, health checks: no Prometheus configured (`PROMETHEUS_URL`)',
    );
    expect(text).toContain('will block the advance after the approvals');
    expect(text).toContain(
      ':warning: Cannot be evaluated: rollout status: no cluster configured, so the rollout of `messaging-core`',
    );
    expect(text).toContain('Approved by (0/1): nobody yet');
  });
});
