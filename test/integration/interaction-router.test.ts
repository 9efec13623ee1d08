import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import {
  API_TOKEN,
  BOT_TOKEN,
  CHANNEL,
  ONCALL_MEMBER,
  OPERATOR,
  OUTSIDER,
  startTestBot,
  type TestBot,
  tempDir,
} from '../support/bot.js';
import { eventually, getJson, sendJson, textOf } from '../support/http.js';
import { confirmId } from '../support/slack.js';

const FORM = 'application/x-www-form-urlencoded';
let slack: SlackEmulator;
let t: TestBot | undefined;

async function start(stateDir = tempDir()) {
  if (!slack) {
    slack = new SlackEmulator({ botToken: BOT_TOKEN });
    await slack.start();
    slack.setUsergroup('S0ONCALL', [ONCALL_MEMBER]);
  }
  t = await startTestBot({ slack, stateDir });
  return t;
}

afterEach(async () => {
  await t?.stop();
  t = undefined;
  expect(slack.violations).toEqual([]);
  slack.reset();
});

const flag = async (bot: TestBot, name: string) =>
  (await getJson(`${bot.url}/api/v1/features/${name}`)).body as { enabled: boolean };
const put = (bot: TestBot, name: string, enabled: boolean) =>
  sendJson(
    'PUT',
    `${bot.url}/api/v1/features/${name}`,
    { enabled, reason: 'test setup' },
    { authorization: `Bearer ${API_TOKEN}` },
  );
const auditLines = (bot: TestBot) => {
  try {
    return readFileSync(join(bot.stateDir, 'flags', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
};
const replays = async (bot: TestBot, subcommand: string) => {
  const text = await (await fetch(`${bot.url}/metrics`)).text();
  const match = new RegExp(
    `switchyard_commands_total\\{[^}]*subcommand="${subcommand}"[^}]*outcome="replay"[^}]*\\} (\\d+)`,
  ).exec(text);
  return Number(match?.[1] ?? 0);
};

/** A signed request kept as bytes, so the very same request can be sent again. */
interface Captured {
  body: string;
  timestamp: number;
}
const send = (bot: TestBot, request: Captured, headers: Record<string, string> = {}) =>
  bot.client.raw({ body: request.body, contentType: FORM, timestamp: request.timestamp, headers });
/** Signed 10 s ago: sending it now is the same request arriving 10 s after Slack signed it. */
const tenSecondsAgo = () => Math.floor(Date.now() / 1000) - 10;

function slashCommand(text: string, userId: string, responseUrl: string): Captured {
  const form = new URLSearchParams({
    token: 'local-verification-token',
    team_id: 'T0LOCAL',
    team_domain: 'local',
    channel_id: CHANNEL,
    channel_name: 'incidents',
    user_id: userId,
    user_name: userId.toLowerCase(),
    command: '/flags',
    text,
    api_app_id: 'A0LOCAL',
    response_url: responseUrl,
    trigger_id: `${Date.now()}.1.${Math.random().toString(16).slice(2)}`,
  });
  return { body: form.toString(), timestamp: tenSecondsAgo() };
}

function buttonClick(actionId: string, value: string, userId: string, responseUrl: string): Captured {
  const payload = {
    type: 'block_actions',
    user: { id: userId, username: userId.toLowerCase(), team_id: 'T0LOCAL' },
    api_app_id: 'A0LOCAL',
    token: 'local-verification-token',
    container: { type: 'message', channel_id: CHANNEL, is_ephemeral: true },
    trigger_id: `${Date.now()}.2.${Math.random().toString(16).slice(2)}`,
    team: { id: 'T0LOCAL', domain: 'local' },
    channel: { id: CHANNEL, name: 'incidents' },
    response_url: responseUrl,
    actions: [
      {
        type: 'button',
        action_id: actionId,
        block_id: 'switchyard-confirmation',
        value,
        text: { type: 'plain_text', text: actionId },
        action_ts: (Date.now() / 1000).toFixed(6),
      },
    ],
  };
  return {
    body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    timestamp: tenSecondsAgo(),
  };
}

describe('replayed signed requests', () => {
  it('a replayed slash command, 10 s later, as a Slack retry and after a restart, changes nothing and posts nothing', async () => {
    const stateDir = tempDir();
    let bot = await start(stateDir);
    const command = slashCommand('enable retry_logic replay test', OPERATOR, slack.createResponseUrl());
    const first = await send(bot, command);
    expect(textOf(first.body as never)).toContain('retry_logic');
    expect((await flag(bot, 'retry_logic')).enabled).toBe(true);
    // Undo it, so that acting again would show.
    await put(bot, 'retry_logic', false);
    // Both announced (the enable, then the undo) before counting.
    await eventually(() =>
      expect(
        slack.calls('chat.postMessage').filter((c) => String(c.params.text).includes('retry_logic')),
      ).toHaveLength(2),
    );
    const audit = auditLines(bot).length;
    const posts = slack.calls('chat.postMessage').length;
    const responses = slack.responses().length;

    for (const headers of [
      {},
      { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
    ] as Record<string, string>[]) {
      const again = await send(bot, command, headers);
      expect(again.status).toBe(200);
      // The ack is sent once the router has decided: it is the barrier.
      expect(again.body).toBe('');
    }
    expect(await replays(bot, 'enable')).toBe(2);
    expect((await flag(bot, 'retry_logic')).enabled).toBe(false);

    await bot.stop();
    bot = await start(stateDir);
    const afterRestart = await send(bot, command);
    expect(afterRestart.status).toBe(200);
    expect(afterRestart.body).toBe('');
    expect(await replays(bot, 'enable')).toBe(1);
    expect((await flag(bot, 'retry_logic')).enabled).toBe(false);
    expect(auditLines(bot)).toHaveLength(audit);
    expect(slack.calls('chat.postMessage')).toHaveLength(posts);
    expect(slack.responses()).toHaveLength(responses);
  });

  it('a replayed Confirm click, 10 s later and after a restart, changes nothing and posts nothing', async () => {
    const stateDir = tempDir();
    let bot = await start(stateDir);
    await put(bot, 'retry_logic', true);
    const ask = await bot.client.slashCommand({
      command: '/flags',
      text: 'disable-all replay test',
      userId: OPERATOR,
    });
    const click = buttonClick('switchyard.confirm', confirmId(ask.body), OPERATOR, slack.createResponseUrl());
    const responseUrl = (
      JSON.parse(new URLSearchParams(click.body).get('payload')!) as { response_url: string }
    ).response_url;
    expect((await send(bot, click)).status).toBe(200);
    expect(textOf((await slack.waitForResponse((r) => r.url === responseUrl)).body as never)).toContain(
      'Kill switch',
    );
    await slack.waitForCall('chat.postMessage', (call) => String(call.params.text).includes('Kill switch'));
    expect((await flag(bot, 'retry_logic')).enabled).toBe(false);
    const announced = slack.calls('chat.postMessage').length;
    await put(bot, 'retry_logic', true);
    await eventually(() => expect(slack.calls('chat.postMessage').length).toBe(announced + 1));
    const audit = auditLines(bot).length;
    const posts = slack.calls('chat.postMessage').length;
    const responses = slack.responses().length;

    expect((await send(bot, click)).status).toBe(200);
    await eventually(async () => expect(await replays(bot, 'confirm')).toBe(1));
    await bot.stop();
    bot = await start(stateDir);
    expect((await send(bot, click, { 'x-slack-retry-num': '2' })).status).toBe(200);
    await eventually(async () => expect(await replays(bot, 'confirm')).toBe(1));

    expect((await flag(bot, 'retry_logic')).enabled).toBe(true);
    expect(auditLines(bot)).toHaveLength(audit);
    expect(slack.calls('chat.postMessage')).toHaveLength(posts);
    expect(slack.responses()).toHaveLength(responses);
  });
});

describe('confirmations', () => {
  const click = async (bot: TestBot, actionId: string, value: string, userId: string) => {
    const sent = await bot.client.blockAction({
      actionId,
      value,
      userId,
      responseUrl: slack.createResponseUrl(),
    });
    return textOf((await slack.waitForResponse((r) => r.url === sent.responseUrl)).body as never);
  };

  it("a non-operator's Cancel leaves the confirmation open, and an operator can still confirm it", async () => {
    const bot = await start();
    await put(bot, 'retry_logic', true);
    const ask = await bot.client.slashCommand({
      command: '/flags',
      text: 'disable-all cancel test',
      userId: OPERATOR,
    });
    const id = confirmId(ask.body);

    const refused = await click(bot, 'switchyard.cancel', id, OUTSIDER);
    expect(refused).toContain('Only operators may do this');
    expect(refused).toContain('the confirmation stays open');
    expect((await flag(bot, 'retry_logic')).enabled).toBe(true);

    expect(await click(bot, 'switchyard.confirm', id, OPERATOR)).toContain('Kill switch');
    expect((await flag(bot, 'retry_logic')).enabled).toBe(false);
  });

  it('the requester may cancel their own; nobody can confirm it afterwards', async () => {
    const bot = await start();
    await put(bot, 'retry_logic', true);
    const ask = await bot.client.slashCommand({
      command: '/flags',
      text: 'disable-all',
      userId: ONCALL_MEMBER,
    });
    const id = confirmId(ask.body);
    expect(await click(bot, 'switchyard.cancel', id, ONCALL_MEMBER)).toContain('Cancelled by');
    expect(await click(bot, 'switchyard.confirm', id, OPERATOR)).toContain('did not do it again');
    expect((await flag(bot, 'retry_logic')).enabled).toBe(true);
  });

  it('a forged id such as __proto__ is unknown on Confirm and Cancel, and nothing is written', async () => {
    const bot = await start();
    await put(bot, 'retry_logic', true);
    await bot.client.slashCommand({ command: '/flags', text: 'disable-all', userId: OPERATOR });
    const file = join(bot.stateDir, 'confirmations.json');
    const before = readFileSync(file, 'utf8');
    for (const id of ['__proto__', 'constructor', 'toString']) {
      expect(await click(bot, 'switchyard.cancel', id, OPERATOR)).toContain('unknown');
      expect(await click(bot, 'switchyard.confirm', id, OPERATOR)).toContain('unknown');
    }
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect((await flag(bot, 'retry_logic')).enabled).toBe(true);
  });

  it('an unreadable confirmations.json: disable-all answers at once with a clear error, and /readyz is 503', async () => {
    const stateDir = tempDir();
    // A directory where the file should be: every read fails (EISDIR), even as root.
    mkdirSync(join(stateDir, 'confirmations.json'));
    const bot = await start(stateDir);
    await put(bot, 'retry_logic', true);
    const answer = await bot.client.slashCommand({
      command: '/flags',
      text: 'disable-all',
      userId: OPERATOR,
    });
    // In the ack itself (sent within the 2 s budget, else it would say "Working on it").
    const text = textOf(answer.body as never);
    expect(text).toContain('could not record the confirmation: ');
    expect(text).toContain('nothing was changed');
    expect((await flag(bot, 'retry_logic')).enabled).toBe(true);
    const ready = await getJson(`${bot.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((ready.body.checks as Record<string, string>).store).toMatch(/^confirmations: .*EISDIR/);
  });

  it.each([
    ['phases/requests.json', /^phase requests: .*EISDIR/],
    ['runbooks/runs.json', /^runbook runs: .*EISDIR/],
  ])('an unreadable %s: the bot starts, and /readyz is 503 naming it', async (file, reason) => {
    const stateDir = tempDir();
    mkdirSync(join(stateDir, file), { recursive: true });
    const bot = await start(stateDir);
    const ready = await getJson(`${bot.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((ready.body.checks as Record<string, string>).store).toMatch(reason);
  });
});
