/**
 * Exactly once to Slack across a crash (issue 11): the bot is SIGKILLed right after Slack accepted a
 * top-level post and before anything on its side recorded it (failpoint `after-slack-post`). After the
 * restart the outbox replays the job; the post's own id in its message metadata lets the bot find the
 * message in the channel's history and adopt it instead of posting it again.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import {
  ALERT_TOKEN,
  BOT_TOKEN,
  type BotProcess,
  CHANNEL,
  OPERATOR,
  PROCESS_TEST_TIMEOUT_MS,
  spawnBot,
  tempDir,
  testEnv,
} from '../support/bot.js';
import { sendJson } from '../support/http.js';
import { firing, notification } from '../unit/alerts/builders.js';

let slack: SlackEmulator;
const children: BotProcess[] = [];

beforeAll(async () => {
  slack = new SlackEmulator({ botToken: BOT_TOKEN });
  await slack.start();
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.child.kill('SIGKILL');
    await child.exited;
  }
});
afterAll(async () => {
  await slack.stop();
});

function alert(alertname: string) {
  const labels = { alertname, severity: 'critical' };
  return notification([firing(`${alertname}-1`, Date.now(), labels)], {
    groupKey: `{}:{alertname="${alertname}"}`,
    groupLabels: { alertname },
    commonLabels: labels,
  });
}

/** Every message the bot posted in the channel, by the post id in its metadata. */
function postsById(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of slack.messages(CHANNEL)) {
    const id = message.metadata?.event_payload.post_id;
    if (typeof id === 'string') counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('exactly once to Slack across a crash', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('adopts a message Slack accepted just before a SIGKILL instead of posting it again', async () => {
    const stateDir = tempDir('switchyard-exactly-once-');
    const configPath = join(stateDir, 'switchyard.yml');
    // Nothing to warn about at start (see startup-warnings.test.ts): the first post is the alert's.
    writeFileSync(
      configPath,
      `access:\n  operators: [${OPERATOR}]\n  approvers: [U0APPROVER]\ngates: []\n` +
        'escalation:\n  tiers:\n    - { after: 15m, notify: [U0TEAMLEAD] }\n',
    );
    const env = testEnv(slack, stateDir, configPath);

    const first = await spawnBot({ ...env, SWITCHYARD_FAILPOINT: 'after-slack-post' });
    children.push(first);
    const send = (url: string) =>
      sendJson('POST', `${url}/alertmanager`, alert('PostedThenKilled'), {
        authorization: `Bearer ${ALERT_TOKEN}`,
      }).then(
        (answer) => answer.status,
        () => 'no answer' as const,
      );
    // A new group's message is sent while its record is synced, so the bot may die before its 200.
    const firstAnswer = await send(first.url);
    // The failpoint: the bot dies the moment Slack has answered its first post.
    await first.exited;
    expect(first.child.signalCode).toBe('SIGKILL');
    const posted = slack.messages(CHANNEL).filter((m) => !m.thread_ts);
    expect(posted).toHaveLength(1);
    const [message] = posted;
    expect(message!.metadata?.event_type).toBe('switchyard_post');
    expect(message!.text).toContain('PostedThenKilled');

    const second = await spawnBot(env);
    children.push(second);
    // Alertmanager sends again what got no 200 (and the outbox replays what its journal holds).
    if (firstAnswer !== 200) expect(await send(second.url)).toBe(200);
    // The post looks for itself (a replayed job, or a new group's first post after an unclean start),
    // finds the message and brings it up to date.
    const updated = await slack.waitForCall(
      'chat.update',
      (call) => call.params.ts === message!.ts && call.response.ok === true,
      60_000,
    );
    expect(updated.params.channel).toBe(CHANNEL);
    const history = slack.calls('conversations.history');
    expect(history.length).toBeGreaterThan(0);
    expect(history[0]!.params.include_all_metadata).toBeTruthy();
    expect(second.logs.join('\n')).toContain('adopted a message posted before a restart');
    expect(slack.messages(CHANNEL).filter((m) => !m.thread_ts)).toHaveLength(1);
    expect([...postsById().values()].every((count) => count === 1)).toBe(true);
    expect(
      slack.calls('chat.postMessage').filter((call) => call.response.ok === true && !call.params.thread_ts),
    ).toHaveLength(1);
  });
});
