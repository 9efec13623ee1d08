/**
 * Durability of alerting across a crash: the bot runs as a child process (src/main.ts) and is killed
 * with SIGKILL; the Slack emulator lives in this process and sees both lives of the bot.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RecordedCall, SlackEmulator } from '../../src/emulators/slack/emulator.js';
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
import { eventually, sendJson } from '../support/http.js';
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

function setup(tiers: string) {
  const stateDir = tempDir('switchyard-alert-crash-');
  const configPath = join(stateDir, 'switchyard.yml');
  writeFileSync(
    configPath,
    // Approvers and no gates: no start-up warning posts in the channel this test counts.
    `access:\n  operators: [${OPERATOR}]\n  approvers: [${OPERATOR}]\ngates: []\nescalation:\n  oncall: S0ONCALL\n  tiers:\n${tiers}`,
  );
  const env = testEnv(slack, stateDir, configPath);
  return async () => {
    const bot = await spawnBot(env);
    children.push(bot);
    return bot;
  };
}

async function kill(bot: BotProcess) {
  bot.child.kill('SIGKILL');
  await bot.exited;
}

const post = (url: string, body: unknown) =>
  sendJson('POST', `${url}/alertmanager`, body, { authorization: `Bearer ${ALERT_TOKEN}` });
const ok = (call: RecordedCall) => call.status === 200 && call.response.ok === true;

/** Barrier: the bot's outbox has sent everything queued so far (its queue-depth gauge reads 0). */
async function outboxDrained(bot: BotProcess): Promise<void> {
  await eventually(async () => {
    const text = await (await fetch(`${bot.url}/metrics`)).text();
    expect(text).toMatch(/^switchyard_slack_queue_depth 0$/m);
  }, 20_000);
}

/**
 * Waits until the wall clock reaches `at`. Only for a rule that must fall due while no bot runs (a
 * separate process has no injectable clock); a busy machine only makes it later, never wrong. The due
 * times themselves are tested with an injected clock in test/unit/alerting/alert-service.test.ts.
 */
async function wallClockReaches(at: number): Promise<void> {
  while (Date.now() < at) await new Promise((resolve) => setTimeout(resolve, at - Date.now()));
}
const topLevelPosts = (alertname: string) =>
  slack
    .calls('chat.postMessage')
    .filter(
      (c) =>
        ok(c) &&
        c.params.channel === CHANNEL &&
        !c.params.thread_ts &&
        String(c.params.text).includes(alertname),
    );

function group(alertname: string, startsAt = Date.now()) {
  const labels = { alertname };
  return notification([firing(`${alertname}-1`, startsAt, { alertname })], {
    groupKey: `{}:{alertname="${alertname}"}`,
    groupLabels: labels,
    commonLabels: labels,
  });
}

describe('alerting across SIGKILL', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('posts an alert accepted just before a SIGKILL after the restart, exactly once', async () => {
    const start = setup('    - { after: 4h, notify: [U0TEAMLEAD] }\n');
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 30 }); // the first life cannot post it
    const first = await start();
    const accepted = await post(first.url, group('KilledAfter200'));
    expect(accepted.status).toBe(200);
    await kill(first);
    slack.reset(); // drop the 429 should the first life not have used it
    expect(topLevelPosts('KilledAfter200')).toEqual([]);

    const second = await start();
    await slack.waitForCall(
      'chat.postMessage',
      (c) => ok(c) && String(c.params.text).includes('KilledAfter200'),
      15_000,
    );
    await outboxDrained(second);
    expect(topLevelPosts('KilledAfter200')).toHaveLength(1);
    expect(slack.messages(CHANNEL).filter((m) => !m.thread_ts)).toHaveLength(1);
    await kill(second);
  });

  it('fires a tier that fell due while the bot was down exactly once after the restart, and no tier twice', async () => {
    const start = setup(
      '    - { after: 2s, notify: [U0TEAMLEAD] }\n    - { after: 6s, notify: [U0ENGMGR] }\n',
    );
    slack.reset();
    const first = await start();
    const opened = Date.now();
    expect((await post(first.url, group('DownWhileDue', opened))).status).toBe(200);
    await slack.waitForCall('chat.postMessage', (c) => ok(c) && c.params.channel === 'U0TEAMLEAD', 20_000);
    await outboxDrained(first); // tier 1's thread note too
    await kill(first);
    expect(slack.calls('chat.postMessage').filter((c) => c.params.channel === 'U0ENGMGR')).toEqual([]);
    await wallClockReaches(opened + 6_500); // tier 2 falls due while nobody runs

    const second = await start();
    await slack.waitForCall('chat.postMessage', (c) => ok(c) && c.params.channel === 'U0ENGMGR', 20_000);
    // The tick that queued tier 2 would have queued a repeated tier 1 with it; both are sent by now.
    await outboxDrained(second);
    const dms = (user: string) =>
      slack.calls('chat.postMessage').filter((c) => ok(c) && c.params.channel === user);
    expect(dms('U0TEAMLEAD')).toHaveLength(1);
    expect(dms('U0ENGMGR')).toHaveLength(1);
    const [message] = slack.messages(CHANNEL).filter((m) => !m.thread_ts);
    const notes = slack.thread(CHANNEL, message!.ts).map((m) => m.text);
    expect(notes).toEqual([
      ':rotating_light: *Escalation to Team Lead (tier 1)*: still unacknowledged. <@U0TEAMLEAD>',
      ':rotating_light: *Escalation to Engineering Manager (tier 2)*: still unacknowledged. <@U0ENGMGR>',
    ]);
    expect(topLevelPosts('DownWhileDue')).toHaveLength(1);
    await kill(second);
  });
});
