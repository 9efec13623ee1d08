/**
 * Every call the bot makes in the messaging namespace, made once each through the bot itself: flag
 * changes (with a 409 retried), drift, a restart after a flag change, a rollback with its plan,
 * revision history, rollout watch, pods and logs. The RBAC tests check the shipped Roles against the
 * calls this leaves in `kube.requests`.
 */
import { expect } from 'vitest';
import { FLAGS_CONFIGMAP_NAME, type KubeEmulator } from '../../src/emulators/kube/index.js';
import { CHANNEL, DEFAULT_CONFIG, OPERATOR, startTestBot, type TestBot, type TestBotOptions } from './bot.js';
import { eventually, getJson, textOf } from './http.js';

export const MESSAGING_NS = 'messaging-system';

/**
 * A slash command's final answer: the ack, or on a busy machine what follows the interim
 * "Working on it…" ack through `response_url` (30 s is a bound for a clear failure, not a wait).
 */
async function command(t: TestBot, name: string, text: string): Promise<unknown> {
  const sent = await t.client.slashCommand({ command: name, text, userId: OPERATOR });
  if (!/Working on it/.test(JSON.stringify(sent.body))) return sent.body;
  return (await t.slack.waitForResponse((r) => r.url === sent.responseUrl, 30_000)).body;
}

/** The bot's config for the exercise: a quick drift check, and a consumer restarted after flag changes. */
export const EXERCISE_CONFIG = `${DEFAULT_CONFIG}\nkubernetes:\n  driftCheckInterval: 200ms\n  restartOnFlagChange: [messaging-retry-engine]\n`;

/**
 * Starts a bot on `kube` (seeded with `seedMessagingSystem`) and drives it through every messaging
 * call; resolves with the bot (the caller stops it). `options` add to the bot's (env, another Slack).
 */
export async function exerciseMessagingCalls(
  kube: KubeEmulator,
  options: Partial<TestBotOptions> = {},
): Promise<TestBot> {
  const d = kube.get('Deployment', MESSAGING_NS, 'messaging-core')!;
  const container = d.spec.template.spec.containers[0]!;
  kube.apply({
    ...d,
    spec: {
      ...d.spec,
      template: {
        ...d.spec.template,
        spec: { containers: [{ ...container, image: 'registry.local/messaging-core:2' }] },
      },
    },
  });
  await kube.waitForRollout('messaging-core');

  const t = await startTestBot({
    kube,
    configYaml: EXERCISE_CONFIG,
    rolloutTiming: { pollMs: 100, updateEveryMs: 200 },
    ...options,
  });
  expect((await getJson(`${t.url}/readyz`)).status).toBe(200);
  await command(t, '/flags', 'enable retry_logic');
  kube.failNext('update', 'configmaps', 409);
  await command(t, '/flags', 'enable adaptive_timing');
  expect(kube.get('ConfigMap', MESSAGING_NS, FLAGS_CONFIGMAP_NAME)?.data?.MESSAGING_ADAPTIVE_TIMING).toBe(
    'true',
  );
  const map = kube.get('ConfigMap', MESSAGING_NS, FLAGS_CONFIGMAP_NAME)!;
  kube.apply({ ...map, data: { ...map.data, MESSAGING_DASHBOARD: 'false' } });
  await t.slack.waitForCall('chat.postMessage', (call) =>
    String(call.params.text).includes('outside Switchyard'),
  );

  await command(t, '/rollback', 'deployment');
  const ask = await command(t, '/rollback', 'deployment messaging-core');
  const id = /"action_id":"switchyard\.confirm","value":"([^"]+)"/.exec(JSON.stringify(ask))![1]!;
  const click = await t.client.blockAction({
    actionId: 'switchyard.confirm',
    value: id,
    userId: OPERATOR,
    responseUrl: t.slack.createResponseUrl(),
  });
  await t.slack.waitForResponse((r) => r.url === click.responseUrl, 30_000);
  await eventually(() => {
    const done = t.slack.messages(CHANNEL).some((m) => String(m.text).includes('Rolled back'));
    if (!done) throw new Error('rollback not reported yet');
  }, 30_000);
  const result = t.slack.messages(CHANNEL).find((m) => String(m.text).includes('Rolled back'))!;
  expect(textOf(result as never)).toContain('log lines of');
  return t;
}
