import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import type { EmulatedMessage } from '../../src/emulators/slack/emulator.js';
import { API_TOKEN, CHANNEL, OPERATOR, OUTSIDER, startTestBot, type TestBot } from '../support/bot.js';
import { eventually, sendJson, textOf } from '../support/http.js';
import { releaseImage, startSeededCluster } from '../support/kube.js';
import { ANSWER_TIMEOUT_MS, clickConfirm, confirmId } from '../support/slack.js';

/**
 * Issue 10 item 2: a runbook run tells the truth. A step whose action needs a confirmation is done
 * only once that confirmation executed and succeeded (linked to the result); cancelled or failed,
 * it is still current. A change made directly offers Done. `/runbook abort` ends a run.
 */
const NS = 'messaging-system';
const IMAGE = 'registry.local/messaging-core';
const TITLE = 'Bad release';
const CONFIG = `
access:
  operators: [${OPERATOR}, S0ONCALL]
  approvers: [S0LEADS]
runbooks:
  - name: bad-release
    title: ${TITLE}
    alerts: [MessagingBadRelease]
    summary: A release went wrong.
    steps:
      - { kind: flag, title: Switch off adaptive timing, flag: adaptive_timing, enabled: false }
      - { kind: rollback, title: Roll back messaging-core, deployment: messaging-core }
      - { kind: manual, title: Tell people, text: Post a status update. }
`;

let kube: KubeEmulator;
let t: TestBot;

const image = () => kube.get('Deployment', NS, 'messaging-core')!.spec.template.spec.containers[0]!.image;

beforeAll(async () => {
  kube = await startSeededCluster(100);
  await releaseImage(kube, 'messaging-core', `${IMAGE}:1.1.0`);
  t = await startTestBot({ kube, configYaml: CONFIG, rolloutTiming: { pollMs: 100, updateEveryMs: 300 } });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await kube?.stop();
});

function topOf(): EmulatedMessage {
  const message = t.slack
    .messages(CHANNEL)
    .filter((m) => !m.thread_ts && (m.text ?? '').startsWith(`Runbook ${TITLE}`))
    .at(-1);
  if (!message) throw new Error('no run message');
  return message;
}

function stepsOf(top: EmulatedMessage): EmulatedMessage[] {
  return t.slack
    .messages(CHANNEL)
    .filter((m) => m.thread_ts === top.ts && m.ts !== top.ts)
    .sort((a, b) => Number(a.ts) - Number(b.ts));
}

async function runbook(text: string, userId = OPERATOR): Promise<string> {
  const reply = await t.client.slashCommand({ command: '/runbook', text, userId, channelId: CHANNEL });
  expect(reply.status).toBe(200);
  return textOf(reply.body as never);
}

/** Clicks a step's button; resolves with the response URL the bot answers on (if it has anything to say). */
async function press(actionId: string, message: EmulatedMessage, userId = OPERATOR): Promise<string> {
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
    responseUrl: t.slack.createResponseUrl(),
  });
  expect(sent.status).toBe(200);
  return sent.responseUrl;
}

/** Clicks a step's button that answers the clicker; resolves with that answer. */
async function click(actionId: string, message: EmulatedMessage, userId = OPERATOR): Promise<unknown> {
  const url = await press(actionId, message, userId);
  return (await t.slack.waitForResponse((r) => r.url === url, ANSWER_TIMEOUT_MS)).body;
}

async function clickCancel(confirmation: unknown, userId = OPERATOR): Promise<string> {
  const sent = await t.client.blockAction({
    actionId: 'switchyard.cancel',
    value: confirmId(confirmation),
    userId,
    responseUrl: t.slack.createResponseUrl(),
  });
  return textOf(
    (await t.slack.waitForResponse((r) => r.url === sent.responseUrl, ANSWER_TIMEOUT_MS)).body as never,
  );
}

/** Waits until step `index` of the run says `status` (exactly, in its text) and returns the steps. */
function stepIs(top: EmulatedMessage, index: number, status: string, blocks?: string) {
  return eventually(() => {
    const now = stepsOf(top);
    expect(now[index]!.text).toMatch(new RegExp(`\\(${status.replace(/[()]/g, '\\$&')}\\)$`));
    if (blocks) expect(JSON.stringify(now[index]!.blocks)).toContain(blocks);
    return now;
  });
}

describe('a runbook run tells the truth', () => {
  it('a flag step made directly offers Done; a rollback step is done only once its confirmation executed, linked to the result', async () => {
    const on = await sendJson(
      'PUT',
      `${t.url}/api/v1/features/adaptive_timing`,
      { enabled: true, reason: 'phase 1' },
      { authorization: `Bearer ${API_TOKEN}` },
    );
    expect(on.status).toBe(200);
    expect(await runbook('run bad-release')).toContain(`Started *${TITLE}*`);
    const top = topOf();
    let steps = stepsOf(top);
    expect(steps).toHaveLength(3);

    // Step 1, a flag: turning a flag off needs no confirmation, so Do it makes the change at once.
    // The step does not claim it: it offers Done (and Skip), with what was done.
    expect(JSON.stringify(steps[0]!.blocks)).not.toContain('switchyard.runbook.done');
    expect(textOf((await click('do', steps[0]!)) as never)).toContain('`adaptive_timing` off');
    expect((await t.bot.services.flags.snapshot()).values.adaptive_timing).toBe(false);
    steps = await stepIs(top, 0, 'current', 'switchyard.runbook.done');
    expect(JSON.stringify(steps[0]!.blocks)).toContain('Made directly (no confirmation needed)');
    await press('done', steps[0]!);
    steps = await stepIs(top, 1, 'current');
    expect(steps[0]!.text).toMatch(/\(done\)$/);

    // Step 2, a rollback: Do it opens the confirmation; the step waits for it.
    const first = await click('do', steps[1]!);
    expect(textOf(first as never)).toContain('Roll back messaging-core');
    steps = await stepIs(top, 1, 'current, waiting for its confirmation');
    expect(JSON.stringify(steps[1]!.blocks)).not.toContain('switchyard.runbook.done');

    // Cancelled: nothing rolled back, and the step is still current, saying so.
    expect(await clickCancel(first)).toContain('Cancelled');
    steps = await stepIs(top, 1, 'current', 'The confirmation was cancelled');
    expect(steps[2]!.text).toMatch(/\(pending\)$/);
    expect(image()).toBe(`${IMAGE}:1.1.0`);

    // Failed: the Deployment moved between the question and the Confirm; still current.
    const second = await click('do', steps[1]!);
    await stepIs(top, 1, 'current, waiting for its confirmation');
    await releaseImage(kube, 'messaging-core', `${IMAGE}:1.2.0`);
    expect(await clickConfirm(t.slack, t.client, second, OPERATOR)).toContain('changed since you asked');
    steps = await stepIs(top, 1, 'current', 'The confirmed action failed');
    expect(image()).toBe(`${IMAGE}:1.2.0`);

    // Confirmed and executed: the step is done, linked to the rollback's own thread.
    const third = await click('do', steps[1]!);
    await stepIs(top, 1, 'current, waiting for its confirmation');
    expect(await clickConfirm(t.slack, t.client, third, OPERATOR)).toContain('Rolling back `messaging-core`');
    steps = await stepIs(top, 1, 'done', 'The result>');
    const announcement = t.slack
      .messages(CHANNEL)
      .filter((m) => !m.thread_ts && String(m.text).includes('Rolling back `messaging-core`'))
      .at(-1)!;
    expect(JSON.stringify(steps[1]!.blocks)).toContain(
      `<https://slack.com/archives/${announcement.channel}/p${announcement.ts.replace('.', '')}|The result>`,
    );
    expect(JSON.stringify(steps[1]!.blocks)).toContain(`Done by <@${OPERATOR}>`);
    await eventually(() => expect(image()).toBe(`${IMAGE}:1.1.0`));
    await stepIs(top, 2, 'current');

    // The summary says what really happened.
    await press('done', stepsOf(top)[2]!);
    const done = await eventually(() => {
      const now = topOf();
      expect(now.text).toContain('complete (3 done, 0 skipped)');
      return now;
    });
    const summary = JSON.stringify(done.blocks);
    expect(summary).toContain('Switch off adaptive timing (done');
    expect(summary).toContain('Roll back messaging-core (done');
    expect(summary).toContain('|result>');
    expect(t.slack.violations).toEqual([]);
  }, 60_000);

  it('/runbook abort ends a run for an operator, never for anyone else; its summary says aborted', async () => {
    expect(await runbook('abort bad-release')).toContain('No run of *Bad release* is in progress');
    expect(await runbook('run bad-release')).toContain('Started');
    const top = topOf();
    const before = (await stepIs(top, 0, 'current'))[0]!;

    expect(await runbook('abort bad-release', OUTSIDER)).toContain('Only operators');
    expect(topOf().text).toContain('in progress');

    const aborted = await runbook('abort MessagingBadRelease');
    expect(aborted).toContain('Aborted the run of *Bad release*');
    expect(aborted).toContain(top.ts.replace('.', ''));
    const header = await eventually(() => {
      const now = topOf();
      expect(now.text).toMatch(/^Runbook Bad release: aborted \(0 done, 0 skipped, 3 not done\) after /);
      return now;
    });
    const blocks = JSON.stringify(header.blocks);
    expect(blocks).toContain(`*Aborted* by <@${OPERATOR}>`);
    expect(blocks).toContain('Switch off adaptive timing (aborted');
    expect(blocks).toContain('Tell people (not reached)');
    // The aborted step lost its buttons; a click on a stale one changes nothing and says why.
    const steps = await stepIs(top, 0, 'aborted');
    expect(JSON.stringify(steps[0]!.blocks)).not.toContain('switchyard.runbook');
    expect(textOf((await click('do', before)) as never)).toContain(`This run was aborted by <@${OPERATOR}>`);
    expect((await t.bot.services.flags.snapshot()).values.adaptive_timing).toBe(false);

    // Ended: the runbook may run again, and there is nothing left to abort.
    expect(await runbook('abort bad-release')).toContain('is in progress');
    expect(await runbook('run bad-release')).toContain('Started');
    expect(t.slack.violations).toEqual([]);
  }, 30_000);
});
