import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { webApi } from '@slack/bolt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type OutgoingMessage, SlackWebChat } from '../../src/adapters/slack/web-chat.js';
import { type RunningBot, startBot } from '../../src/bot.js';
import { loadConfig } from '../../src/config/load.js';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import { createLogger } from '../../src/logger.js';
import {
  ALERT_TOKEN,
  API_TOKEN,
  BOT_TOKEN,
  CHANNEL,
  DEFAULT_CONFIG,
  ONCALL_MEMBER,
  tempDir,
  testEnv,
} from '../support/bot.js';
import { sendJson } from '../support/http.js';
import { firing, notification } from '../unit/alerts/builders.js';

interface LogLine {
  level: number;
  msg: string;
  reference?: string;
  method?: string;
  channel?: string;
  error?: string;
  errors?: string[];
}

/** pino's JSON lines, kept in memory; `waitFor` resolves on the first line (seen or to come) that matches. */
class CapturedLog extends Writable {
  readonly lines: LogLine[] = [];
  private readonly added = new EventEmitter();
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const raw of chunk.toString('utf8').split('\n').filter(Boolean)) {
      const line = JSON.parse(raw) as LogLine;
      this.lines.push(line);
      this.added.emit('line', line);
    }
    done();
  }
  waitFor(match: (line: LogLine) => boolean): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const listener = (line: LogLine) => {
        if (!match(line)) return;
        this.added.off('line', listener);
        resolve(line);
      };
      this.added.on('line', listener);
    });
  }
}

const PINO_ERROR = 50;
const REFUSED = 'Slack refused a message; sending it as plain text';
const NOTE =
  /_Slack refused the formatted version of this message, so here it is as plain text \(reference (ref-[0-9a-f]{8})\)\._$/;

/** The reference a fallback message shows. */
const referenceIn = (text: string | undefined) => NOTE.exec(text ?? '')?.[1];

describe('the bot when Slack refuses its message', () => {
  const slack = new SlackEmulator({ botToken: BOT_TOKEN });
  const log = new CapturedLog();
  let bot: RunningBot;

  beforeAll(async () => {
    await slack.start();
    slack.setUsergroup('S0ONCALL', [ONCALL_MEMBER]);
    const stateDir = tempDir();
    const configPath = join(stateDir, 'switchyard.yml');
    writeFileSync(configPath, DEFAULT_CONFIG);
    const config = loadConfig(testEnv(slack, stateDir, configPath));
    bot = await startBot(config, createLogger('warn', log), {
      host: '127.0.0.1',
      clusterSources: { home: stateDir, tokenFile: join(stateDir, 'no-service-account-token') },
      startupWarnings: 'log', // the channel holds only what these tests cause
    });
  });
  afterAll(async () => {
    await bot?.stop();
    await slack.stop();
  });

  it('posts an alert that Slack refuses (invalid_blocks) as plain text through the outbox, and logs the reference', async () => {
    const violation = 'must be less than 3001 characters [json-pointer:/blocks/2/text/text]';
    slack.failNext('chat.postMessage', { error: 'invalid_blocks', errors: [violation] });
    const payload = notification([firing('refused-1', Date.now())], { groupKey: 'refused-alert' });
    const accepted = await sendJson('POST', `${bot.url}/alertmanager`, payload, {
      authorization: `Bearer ${ALERT_TOKEN}`,
    });
    expect(accepted.status).toBe(200);

    const fallback = await slack.waitForCall(
      'chat.postMessage',
      (call) => call.response.ok && referenceIn(String(call.params.text)) !== undefined,
    );
    const [refused] = slack.calls('chat.postMessage');
    expect(refused?.response).toMatchObject({ ok: false, error: 'invalid_blocks', errors: [violation] });
    expect(Array.isArray(refused?.params.blocks)).toBe(true);

    // The fallback is the refused message's own text, without blocks, in the same channel.
    const text = String(fallback.params.text);
    expect(fallback.params.channel).toBe(CHANNEL);
    expect(fallback.params.blocks).toBeUndefined();
    expect(text.startsWith(String(refused?.params.text))).toBe(true);
    expect(slack.messages(CHANNEL).map((m) => m.text)).toEqual([text]);

    const reference = referenceIn(text);
    const line = await log.waitFor((l) => l.msg === REFUSED && l.reference === reference);
    expect(line).toMatchObject({
      level: PINO_ERROR,
      method: 'chat.postMessage',
      channel: CHANNEL,
      error: 'invalid_blocks',
      errors: [violation],
    });
    await bot.alerting.outbox.idle();
  });

  it('posts a flag announcement that Slack refuses (msg_too_long) as plain text, and logs the reference', async () => {
    slack.failNext('chat.postMessage', { error: 'msg_too_long' });
    const changed = await sendJson(
      'PUT',
      `${bot.url}/api/v1/features/adaptive_timing`,
      { enabled: true, reason: 'canary looks healthy' },
      { authorization: `Bearer ${API_TOKEN}` },
    );
    expect(changed.status).toBe(200);

    const fallback = await slack.waitForCall(
      'chat.postMessage',
      (call) => call.response.ok && String(call.params.text).includes('canary looks healthy'),
    );
    const reference = referenceIn(String(fallback.params.text));
    expect(reference).toBeDefined();
    const refusedCalls = slack.calls('chat.postMessage').filter((c) => c.response.error === 'msg_too_long');
    expect(refusedCalls).toHaveLength(1);
    expect(String(fallback.params.text).startsWith(String(refusedCalls[0]?.params.text))).toBe(true);
    const line = await log.waitFor((l) => l.msg === REFUSED && l.reference === reference);
    expect(line).toMatchObject({ level: PINO_ERROR, error: 'msg_too_long', channel: CHANNEL });
  });
});

describe('SlackWebChat against the strict emulator', () => {
  const slack = new SlackEmulator();
  const log = new CapturedLog();
  let chat: SlackWebChat;

  beforeAll(async () => {
    await slack.start();
    const client = new webApi.WebClient('xoxb-local', {
      slackApiUrl: slack.apiUrl,
      logLevel: webApi.LogLevel.ERROR,
    });
    chat = new SlackWebChat(client, undefined, createLogger('warn', log));
  });
  afterAll(() => slack.stop());
  afterEach(() => slack.reset());

  const tooLong = (words: string): OutgoingMessage => ({
    text: `Rollout report: ${words}`,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }],
  });

  it('falls back to the text when the emulator refuses a real Block Kit violation', async () => {
    const posted = await chat.post(CHANNEL, tooLong('all pods ready'));
    expect(posted.channel).toBe(CHANNEL);
    const [message] = slack.messages(CHANNEL);
    expect(message?.ts).toBe(posted.ts);
    expect(message?.blocks).toBeUndefined();
    expect(message?.text).toMatch(/^Rollout report: all pods ready\n\n_Slack refused/);
    const reference = referenceIn(message?.text);
    const line = await log.waitFor((l) => l.msg === REFUSED && l.reference === reference);
    expect(line).toMatchObject({
      level: PINO_ERROR,
      error: 'invalid_blocks',
      errors: ['3001 chars (max 3000) [json-pointer:/blocks/0/text/text]'],
    });
    expect(slack.takeViolations()).toEqual([
      'chat.postMessage: blocks[0] (section).text.text: 3001 chars (max 3000)',
    ]);
  });

  it('replaces an updated message with plain text (blocks cleared) when the update is refused', async () => {
    const ok: OutgoingMessage = {
      text: 'Rollout started',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'started' } }],
    };
    const posted = await chat.post(CHANNEL, ok);
    await chat.update(CHANNEL, posted.ts, tooLong('done'));
    const [message] = slack.messages(CHANNEL);
    expect(message?.blocks).toEqual([]);
    expect(message?.text).toMatch(/^Rollout report: done\n\n_Slack refused/);
    await log.waitFor((l) => l.msg === REFUSED && l.reference === referenceIn(message?.text));
    expect(slack.takeViolations()).toHaveLength(1);
  });

  it("trims the fallback to Slack's 40,000-char text limit, so Slack takes it", async () => {
    // An unknown block type on purpose: Slack's types would not let it through.
    const huge = {
      text: 'y'.repeat(45_000),
      blocks: [{ type: 'divider' }, { type: 'unknown-block' }],
    } as OutgoingMessage;
    await chat.post(CHANNEL, huge);
    const [message] = slack.messages(CHANNEL);
    expect([...(message?.text ?? '')].length).toBeLessThanOrEqual(40_000);
    expect(message?.text).toMatch(/^y+…\n\n_Slack refused/);
    // Refused twice over (text and blocks), then accepted.
    expect(slack.calls('chat.postMessage').map((c) => c.response.error ?? 'ok')).toEqual([
      'invalid_blocks',
      'ok',
    ]);
    expect(slack.takeViolations()).toHaveLength(2);
  });

  it('passes every other error on unchanged', async () => {
    const refusalsBefore = log.lines.filter((l) => l.msg === REFUSED).length;
    await expect(chat.post('C0NOWHERE', { text: 'hello' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    expect(slack.calls('chat.postMessage')).toHaveLength(1); // no fallback attempt
    expect(log.lines.filter((l) => l.msg === REFUSED)).toHaveLength(refusalsBefore);
  });
});
