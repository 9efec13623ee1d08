import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusClient, PrometheusError } from '../../src/adapters/prometheus/prometheus-client.js';
import type { EmulatedMessage } from '../../src/emulators/slack/emulator.js';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import { type PrometheusHandle, startPrometheus } from '../support/alertmanager.js';
import {
  API_TOKEN,
  BOT_TOKEN,
  CHANNEL,
  OPERATOR,
  OUTSIDER,
  startTestBot,
  type TestBot,
  tempDir,
} from '../support/bot.js';
import { eventually, sendJson, textOf } from '../support/http.js';
import { ANSWER_TIMEOUT_MS, clickConfirm } from '../support/slack.js';

let prometheus: PrometheusHandle;
let slack: SlackEmulator;
let t: TestBot;

beforeAll(async () => {
  prometheus = await startPrometheus();
  slack = new SlackEmulator({ botToken: BOT_TOKEN });
  await slack.start();
  slack.setUsergroup('S0ONCALL', ['U0ONCALL1']);
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await slack?.stop();
  await prometheus?.stop();
});

function topOf(title: string): EmulatedMessage {
  const message = slack
    .messages(CHANNEL)
    .filter((m) => !m.thread_ts && (m.text ?? '').startsWith(`Runbook ${title}`))
    .at(-1);
  if (!message) throw new Error(`no run message for ${title}`);
  return message;
}

function stepsOf(top: EmulatedMessage): EmulatedMessage[] {
  return slack
    .messages(CHANNEL)
    .filter((m) => m.thread_ts === top.ts && m.ts !== top.ts)
    .sort((a, b) => Number(a.ts) - Number(b.ts));
}

async function run(text: string, userId = OPERATOR): Promise<string> {
  const reply = await t.client.slashCommand({ command: '/runbook', text, userId, channelId: CHANNEL });
  expect(reply.status).toBe(200);
  return textOf(reply.body as never);
}

async function click(actionId: string, message: EmulatedMessage, userId: string) {
  const match = new RegExp(`"action_id":"switchyard\\.runbook\\.${actionId}","value":"([^"]+)"`).exec(
    JSON.stringify(message.blocks),
  );
  if (!match) throw new Error(`no ${actionId} button in ${JSON.stringify(message.blocks)}`);
  const sent = await t.client.blockAction({
    actionId: `switchyard.runbook.${actionId}`,
    value: match[1]!,
    userId,
    channelId: CHANNEL,
    messageTs: message.ts,
    responseUrl: slack.createResponseUrl(),
  });
  expect(sent.status).toBe(200);
  return sent.responseUrl;
}

/** The `<run>:<step>` value a step's buttons carry. */
function buttonValueOf(message: EmulatedMessage): string {
  const match = /"action_id":"switchyard\.runbook\.[a-z]+","value":"([^"]+)"/.exec(
    JSON.stringify(message.blocks),
  );
  if (!match) throw new Error(`no runbook button in ${JSON.stringify(message.blocks)}`);
  return match[1]!;
}

/** A click with a value of our choosing, as a forged or stale request would carry. */
async function clickWith(actionId: string, value: string, userId: string) {
  const sent = await t.client.blockAction({
    actionId: `switchyard.runbook.${actionId}`,
    value,
    userId,
    channelId: CHANNEL,
    responseUrl: slack.createResponseUrl(),
  });
  expect(sent.status).toBe(200);
  return sent.responseUrl;
}

async function answerTo(responseUrl: string) {
  return (await slack.waitForResponse((r) => r.url === responseUrl, ANSWER_TIMEOUT_MS)).body;
}

const FLOW = 'Feature flag issues';

describe('the Prometheus query adapter against a real Prometheus', () => {
  it('reads vectors and scalars, and names what went wrong', async () => {
    const client = new PrometheusClient(prometheus.url);
    expect(await client.query('vector(0.01)')).toEqual({
      kind: 'vector',
      samples: [{ labels: {}, value: '0.01' }],
    });
    expect(await client.query('scalar(vector(2))')).toEqual({ kind: 'scalar', value: '2' });
    expect(await client.query('up{job="none"}')).toEqual({ kind: 'vector', samples: [] });
    await expect(client.query('sum(')).rejects.toThrow(/Prometheus refused the query/);
    await expect(new PrometheusClient('http://127.0.0.1:9').query('up')).rejects.toBeInstanceOf(
      PrometheusError,
    );
  });
});

describe('/runbook run over signed requests', () => {
  it('walks feature-flag-rollback in a thread, survives a restart, and completes', async () => {
    const stateDir = tempDir();
    t = await startTestBot({ slack, stateDir, env: { PROMETHEUS_URL: prometheus.url } });

    expect(await run('run feature-flag-rollback', OUTSIDER)).toContain('Only operators');
    expect(await run('run nope')).toContain('Runbooks: high-latency, feature-flag-rollback');

    const started = await run('run MessagingHighErrorRate');
    expect(started).toContain(`Started *${FLOW}*`);
    const top = topOf(FLOW);
    expect(top.text).toContain('in progress (Step 1 of 4: Confirm the error rate)');
    expect(JSON.stringify(top.blocks)).toContain(`Started by <@${OPERATOR}>`);
    expect(started).toContain(`https://slack.com/archives/${CHANNEL}/p${top.ts.replace('.', '')}`);
    let steps = stepsOf(top);
    expect(steps).toHaveLength(4);
    expect(steps.map((m) => m.text)).toEqual([
      '1/4 Confirm the error rate (current)',
      '2/4 Pull the kill switch (pending)',
      '3/4 Has the error rate recovered? (pending)',
      '4/4 Find the culprit (pending)',
    ]);

    // One run of a runbook at a time: the second points at the first.
    const busy = await run('run feature-flag-rollback');
    expect(busy).toContain('already in progress');
    expect(busy).toContain(top.ts.replace('.', ''));

    // Step 1: a non-operator's click changes nothing; an operator's runs the real query.
    expect(textOf((await answerTo(await click('check', steps[0]!, OUTSIDER))) as never)).toContain(
      'Only operators',
    );
    expect(stepsOf(top)[0]!.text).toContain('(current)');
    await click('check', steps[0]!, OPERATOR);
    // Each step is its own message, updated one after the other: wait for both.
    steps = await eventually(() => {
      const now = stepsOf(top);
      expect(now[0]!.text).toContain('(done)');
      expect(now[1]!.text).toContain('(current)');
      return now;
    });
    const checked = JSON.stringify(steps[0]!.blocks);
    expect(checked).toContain('no data');
    expect(checked).toContain('Expected: below 0.05');
    expect(checked).not.toContain('switchyard.runbook');
    expect(steps[1]!.text).toContain('(current)');

    // Step 2: Do it opens the kill switch confirmation for an operator, never for anyone else.
    expect(textOf((await answerTo(await click('do', steps[1]!, OUTSIDER))) as never)).toContain(
      'Only operators',
    );
    // Nothing on yet: no confirmation opens; the step stays current and now offers Done.
    const nothing = await answerTo(await click('do', steps[1]!, OPERATOR));
    expect(textOf(nothing as never)).toContain('Nothing to disable');
    await eventually(() => {
      const now = stepsOf(top)[1]!;
      expect(now.text).toContain('(current)');
      expect(JSON.stringify(now.blocks)).toContain('switchyard.runbook.done');
    });
    const enabled = await sendJson(
      'PUT',
      `${t.url}/api/v1/features/retry_logic`,
      { enabled: true, reason: 'phase 1' },
      { authorization: `Bearer ${API_TOKEN}` },
    );
    expect(enabled.status).toBe(200);
    const confirmation = await answerTo(await click('do', steps[1]!, OPERATOR));
    expect(textOf(confirmation as never)).toContain('Turn off');
    // Opened is not done: the step waits for its confirmation.
    steps = await eventually(() => {
      const now = stepsOf(top);
      expect(now[1]!.text).toContain('(current, waiting for its confirmation)');
      expect(JSON.stringify(now[1]!.blocks)).toContain('Waiting for the confirmation opened by');
      return now;
    });
    expect(steps[2]!.text).toContain('(pending)');

    // A restart in the middle: a new bot on the same state dir continues the run, and the
    // confirmation opened before it still reaches its step.
    await t.bot.stop();
    t = await startTestBot({ slack, stateDir, env: { PROMETHEUS_URL: prometheus.url } });
    expect(await clickConfirm(slack, t.client, confirmation, OPERATOR)).toContain('Kill switch');

    // Executed: the step is done with the result, and step 3 offers its buttons.
    steps = await eventually(() => {
      const now = stepsOf(top);
      expect(now[1]!.text).toContain('(done)');
      expect(JSON.stringify(now[1]!.blocks)).toContain('Kill switch: turned off `retry_logic`');
      expect(JSON.stringify(now[2]!.blocks)).toContain('switchyard.runbook.skip');
      return now;
    });
    await click('skip', steps[2]!, OPERATOR);
    steps = await eventually(() => {
      const now = stepsOf(top);
      expect(now[2]!.text).toContain('(skipped)');
      expect(now[3]!.text).toContain('(current)');
      return now;
    });
    await click('done', steps[3]!, OPERATOR);
    const done = await eventually(() => {
      const now = topOf(FLOW);
      expect(now.text).toContain('complete (3 done, 1 skipped)');
      return now;
    });
    const summary = JSON.stringify(done.blocks);
    expect(summary).toContain('Pull the kill switch (done');
    expect(summary).toContain('Has the error rate recovered? (skipped');

    // A stale click changes nothing and says so.
    const stale = await answerTo(await click('done', steps[3]!, OPERATOR));
    expect(textOf(stale as never)).toContain('already complete');

    // Complete: the runbook may run again.
    expect(await run('run feature-flag-rollback')).toContain('Started');
    expect(slack.violations).toEqual([]);
  }, 60_000);

  it('says so on the step when no Prometheus is configured, and offers Done and Skip', async () => {
    await t.bot.stop();
    // The bot's clock, moved on past a confirmation's 15 minutes below.
    let offset = 0;
    t = await startTestBot({ slack, stateDir: tempDir(), now: () => Date.now() + offset });
    // A run Slack would not post is forgotten, so it does not block the next one.
    slack.failNext('chat.postMessage', { error: 'channel_not_found' });
    expect(await run('run high-latency')).toContain('Something went wrong on my side');
    expect(await run('run high-latency')).toContain('Started');
    const top = topOf('High latency incident');
    await click('check', stepsOf(top)[0]!, OPERATOR);
    const step = await eventually(() => {
      const now = stepsOf(top)[0]!;
      expect(JSON.stringify(now.blocks)).toContain('No Prometheus is configured');
      return now;
    });
    expect(step.text).toContain('(current)');
    expect(JSON.stringify(step.blocks)).toContain('switchyard.runbook.skip');
    // Checked by hand: Done, and the summary will say done.
    expect(JSON.stringify(step.blocks)).toContain('Check it by hand, then click Done');
    await click('done', step, OPERATOR);
    const second = await eventually(() => {
      const now = stepsOf(top);
      expect(now[0]!.text).toContain('(done)');
      expect(now[1]!.text).toContain('(current)');
      return now[1]!;
    });
    // Done is not offered before the status was looked at: a forged Done changes nothing.
    const forged = await answerTo(await clickWith('done', buttonValueOf(second), OPERATOR));
    expect(textOf(forged as never)).toContain('Done is offered once the check has run');
    expect(stepsOf(top)[1]!.text).toContain('(current)');
    // No cluster here: the rollout-status step says so, and offers Done.
    await click('status', second, OPERATOR);
    await eventually(() => {
      const blocks = JSON.stringify(stepsOf(top)[1]!.blocks);
      expect(blocks).toContain('No Kubernetes cluster is configured');
      expect(blocks).toContain('switchyard.runbook.done');
    });

    // A confirmation that expires leaves its step current, saying so.
    expect(await run('run feature-flag-rollback')).toContain('Started');
    const flow = topOf(FLOW);
    await click('skip', stepsOf(flow)[0]!, OPERATOR);
    const killSwitch = await eventually(() => {
      const now = stepsOf(flow)[1]!;
      expect(now.text).toContain('(current)');
      return now;
    });
    const enabled = await sendJson(
      'PUT',
      `${t.url}/api/v1/features/retry_logic`,
      { enabled: true, reason: 'phase 1' },
      { authorization: `Bearer ${API_TOKEN}` },
    );
    expect(enabled.status).toBe(200);
    const confirmation = await answerTo(await click('do', killSwitch, OPERATOR));
    await eventually(() => expect(stepsOf(flow)[1]!.text).toContain('waiting for its confirmation'));
    offset += 16 * 60_000;
    expect(await clickConfirm(slack, t.client, confirmation, OPERATOR)).toContain('expired');
    await eventually(() => {
      const now = stepsOf(flow)[1]!;
      expect(now.text).toContain('(current)');
      expect(now.text).not.toContain('waiting');
      expect(JSON.stringify(now.blocks)).toContain('The confirmation expired before it was confirmed');
    });
    expect((await t.bot.services.flags.snapshot()).values.retry_logic).toBe(true);
    expect(slack.violations).toEqual([]);
  }, 30_000);
});
