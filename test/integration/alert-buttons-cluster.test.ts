import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_ACTIONS } from '../../src/adapters/slack/alert-message.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import {
  ALERT_TOKEN,
  API_TOKEN,
  CHANNEL,
  OPERATOR,
  OUTSIDER,
  startTestBot,
  type TestBot,
} from '../support/bot.js';
import { eventually, sendJson, textOf } from '../support/http.js';
import { releaseImage, startSeededCluster } from '../support/kube.js';
import { ANSWER_TIMEOUT_MS, clickConfirm } from '../support/slack.js';
import { firing, notification } from '../unit/alerts/builders.js';

const CONFIG = `
access:
  operators: [${OPERATOR}]
escalation:
  oncall: S0ONCALL
`;
let kube: KubeEmulator;
let t: TestBot;

beforeAll(async () => {
  kube = await startSeededCluster();
  await releaseImage(kube, 'messaging-core', 'registry.local/messaging-core:2.0.0');
  t = await startTestBot({ kube, configYaml: CONFIG });
});
afterAll(async () => {
  await t.stop();
  await kube.stop();
});

/** The alert's top-level message and the value its buttons carry. */
async function alertMessage(groupKey: string, labels: Record<string, string> = {}) {
  const response = await sendJson(
    'POST',
    `${t.url}/alertmanager`,
    notification([firing(`fp-${groupKey}`, Date.now() - 60_000, labels)], { groupKey }),
    { authorization: `Bearer ${ALERT_TOKEN}` },
  );
  expect(response.status).toBe(200);
  return eventually(() => {
    const found = t.slack.messages(CHANNEL).find((m) => !m.thread_ts && buttons(m).length > 0);
    if (!found) throw new Error('alert not posted yet');
    return found;
  }, 10_000);
}

function buttons(message: { blocks?: unknown[] }) {
  const text = JSON.stringify(message.blocks ?? []);
  return [...text.matchAll(/"action_id":"(switchyard\.alert\.[a-z-]+)"(?:,"value":"([^"]*)")?/g)].map(
    (m) => ({ actionId: m[1]!, value: m[2] }),
  );
}

async function press(actionId: string, value: string, userId: string) {
  const sent = await t.client.blockAction({
    actionId,
    value,
    userId,
    channelId: CHANNEL,
    responseUrl: t.slack.createResponseUrl(),
  });
  return textOf(
    (await t.slack.waitForResponse((r) => r.url === sent.responseUrl, ANSWER_TIMEOUT_MS)).body as never,
  );
}

describe('alert buttons with a cluster configured', () => {
  it('offers Roll back for an alert with a deployment label and opens the /rollback confirmation, for operators only', async () => {
    const message = await alertMessage('{}:{alertname="MessagingSystemDown", deployment="messaging-core"}');
    const rollback = buttons(message).find((b) => b.actionId === ALERT_ACTIONS.rollback);
    expect(rollback).toBeDefined();

    expect(await press(ALERT_ACTIONS.rollback, rollback!.value ?? '', OUTSIDER)).toContain(
      'Only operators may do this',
    );
    const asked = await press(ALERT_ACTIONS.rollback, rollback!.value ?? '', OPERATOR);
    expect(asked).toContain('Roll back messaging-core from revision 2 to revision 1?');
    expect(asked).toContain('switchyard.confirm');
    const image = kube.get('Deployment', 'messaging-system', 'messaging-core')!.spec.template.spec
      .containers[0]!.image;
    expect(image).toBe('registry.local/messaging-core:2.0.0');
  });

  it('opens the kill switch confirmation from an alert', async () => {
    await sendJson(
      'PUT',
      `${t.url}/api/v1/features/retry_logic`,
      { enabled: true, reason: 'x' },
      { authorization: `Bearer ${API_TOKEN}` },
    );
    const message = t.slack.messages(CHANNEL).find((m) => !m.thread_ts && buttons(m).length > 0)!;
    const kill = buttons(message).find((b) => b.actionId === ALERT_ACTIONS.killSwitch)!;
    const asked = await press(ALERT_ACTIONS.killSwitch, kill.value ?? '', OPERATOR);
    expect(asked).toContain('Turn off 1 new feature?');
    expect(asked).toContain('`retry_logic` on → off');
  });

  it('puts the alert name in the reason of a rollback or kill switch opened from the alert, escaped', async () => {
    const name = 'CoreDown <!channel> <@U0VP>';
    const groupKey = '{}:{alertname="hostile"}';
    const response = await sendJson(
      'POST',
      `${t.url}/alertmanager`,
      notification([firing('fp-hostile', Date.now() - 60_000, { alertname: name })], {
        groupKey,
        groupLabels: { alertname: name },
        commonLabels: { alertname: name, deployment: 'messaging-core', severity: 'critical' },
      }),
      { authorization: `Bearer ${ALERT_TOKEN}` },
    );
    expect(response.status).toBe(200);
    const message = await eventually(() => {
      const found = t.slack
        .messages(CHANNEL)
        .find((m) => !m.thread_ts && (m.text ?? '').includes('CoreDown'));
      if (!found) throw new Error('alert not posted yet');
      return found;
    }, 10_000);
    const escaped = 'alert CoreDown &lt;!channel&gt; &lt;@U0VP&gt;';
    const rollback = buttons(message).find((b) => b.actionId === ALERT_ACTIONS.rollback)!;
    const asked = await press(ALERT_ACTIONS.rollback, rollback.value ?? '', OPERATOR);
    expect(asked).toContain(`Reason: “${escaped}”`);
    expect(asked).not.toContain('<!channel>');

    await sendJson(
      'PUT',
      `${t.url}/api/v1/features/retry_logic`,
      { enabled: true, reason: 'x' },
      { authorization: `Bearer ${API_TOKEN}` },
    );
    const kill = buttons(message).find((b) => b.actionId === ALERT_ACTIONS.killSwitch)!;
    const sent = await t.client.blockAction({
      actionId: ALERT_ACTIONS.killSwitch,
      value: kill.value ?? '',
      userId: OPERATOR,
      channelId: CHANNEL,
      responseUrl: t.slack.createResponseUrl(),
    });
    const confirmation = (await t.slack.waitForResponse((r) => r.url === sent.responseUrl, ANSWER_TIMEOUT_MS))
      .body;
    expect(await clickConfirm(t.slack, t.client, confirmation, OPERATOR)).toContain('Kill switch');
    await t.bot.settled();
    const announced = t.slack
      .messages(CHANNEL)
      .filter((m) => !m.thread_ts && (m.text ?? '').includes('Reason:'))
      .at(-1);
    expect(announced?.text).toContain(`Reason: “${escaped}”`);
    expect(JSON.stringify(announced)).not.toContain('<!channel>');
  });
});
