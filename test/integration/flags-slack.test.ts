import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SEED_FLAGS } from '../../src/core/flags/catalog.js';
import {
  API_TOKEN,
  CHANNEL,
  ONCALL_MEMBER,
  OPERATOR,
  OUTSIDER,
  startTestBot,
  type TestBot,
} from '../support/bot.js';
import { getJson, sendJson, textOf } from '../support/http.js';
import { ANSWER_TIMEOUT_MS, confirmId } from '../support/slack.js';

let t: TestBot;

beforeAll(async () => {
  t = await startTestBot();
});
afterAll(async () => {
  await t.stop();
});
afterEach(() => {
  expect(t.slack.violations).toEqual([]);
});

const flag = async (name: string) => (await getJson(`${t.url}/api/v1/features/${name}`)).body;
const auditLines = () => {
  try {
    return readFileSync(join(t.stateDir, 'flags', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
};
const put = (name: string, enabled: boolean, extra: Record<string, unknown> = {}) =>
  sendJson(
    'PUT',
    `${t.url}/api/v1/features/${name}`,
    { enabled, reason: 'test setup', ...extra },
    { authorization: `Bearer ${API_TOKEN}` },
  );
const channelPosts = () =>
  t.slack.calls('chat.postMessage').filter((call) => call.params.channel === CHANNEL);

describe('/flags over signed Slack requests', () => {
  it('lists all 22 seed flags, grouped', async () => {
    const reply = await t.client.slashCommand({ command: '/flags', text: 'list', userId: OUTSIDER });
    expect(reply.status).toBe(200);
    const text = textOf(reply.body as never);
    for (const definition of SEED_FLAGS) expect(text).toContain(`\`${definition.key}\``);
    expect(SEED_FLAGS).toHaveLength(22);
    expect(text).toContain('9 of 22 on');
    for (const group of [
      'timing',
      'retry',
      'validation',
      'ordering',
      'parallel',
      'observability',
      'safety',
    ]) {
      expect(text).toContain(`*${group}*`);
    }
  });

  it('lets an operator enable and disable a flag, seen by the HTTP API, and announces it', async () => {
    const before = channelPosts().length;
    const enabled = await t.client.slashCommand({
      command: '/flags',
      text: 'enable adaptive-timing canary looks good',
      userId: OPERATOR,
    });
    expect(textOf(enabled.body as never)).toContain('Done');
    expect((await flag('adaptive_timing')).enabled).toBe(true);
    expect((await flag('MESSAGING_ADAPTIVE_TIMING')).updatedBy).toBe(OPERATOR);
    const announcement = await t.slack.waitForCall(
      'chat.postMessage',
      (call) => String(call.params.text).includes('adaptive_timing'),
      ANSWER_TIMEOUT_MS,
    );
    expect(announcement.params.channel).toBe(CHANNEL);
    expect(String(announcement.params.text)).toContain(`<@${OPERATOR}>`);
    expect(String(announcement.params.text)).toContain('canary looks good');
    expect(channelPosts().length).toBeGreaterThan(before);

    await t.client.slashCommand({
      command: '/flags',
      text: 'disable ADAPTIVE_TIMING_ENABLED',
      userId: OPERATOR,
    });
    expect((await flag('adaptive_timing')).enabled).toBe(false);
  });

  it('resolves operators through a user group', async () => {
    const reply = await t.client.slashCommand({
      command: '/flags',
      text: 'enable flag_validation',
      userId: ONCALL_MEMBER,
    });
    expect(textOf(reply.body as never)).toContain('Done');
    expect((await flag('flag_validation')).enabled).toBe(true);
    await put('flag_validation', false);
  });

  it('refuses a non-operator and changes nothing', async () => {
    const auditBefore = auditLines().length;
    const reply = await t.client.slashCommand({
      command: '/flags',
      text: 'enable retry_logic',
      userId: OUTSIDER,
    });
    expect(textOf(reply.body as never)).toContain('Only operators may do this');
    expect((await flag('retry_logic')).enabled).toBe(false);
    expect(auditLines().length).toBe(auditBefore);
  });

  it('refuses a dependency violation with how to fix it, and suggests the nearest name for a typo', async () => {
    const refused = await t.client.slashCommand({
      command: '/flags',
      text: 'enable exponential_backoff',
      userId: OPERATOR,
    });
    const text = textOf(refused.body as never);
    expect(text).toContain('exponential_backoff needs retry_logic to be on first');
    expect(text).toContain('/flags enable retry_logic');
    expect((await flag('exponential_backoff')).enabled).toBe(false);

    const typo = await t.client.slashCommand({
      command: '/flags',
      text: 'get adaptive_timng',
      userId: OUTSIDER,
    });
    expect(textOf(typo.body as never)).toContain('Did you mean `adaptive_timing`?');
    const unknownSub = await t.client.slashCommand({
      command: '/flags',
      text: 'enabel adaptive_timing',
      userId: OPERATOR,
    });
    expect(textOf(unknownSub.body as never)).toContain('Did you mean `/flags enable`?');
  });

  it('asks before disable-all; refuses a non-operator click; acts once for an operator, even when clicked twice', async () => {
    await put('retry_logic', true);
    await put('exponential_backoff', true);
    await put('intelligent_ordering', true);
    const auditBefore = auditLines().length;

    const ask = await t.client.slashCommand({
      command: '/flags',
      text: 'disable-all error rate spiking',
      userId: OPERATOR,
    });
    const askText = textOf(ask.body as never);
    expect(askText).toContain('Turn off 3 new features?');
    for (const key of ['retry_logic', 'exponential_backoff', 'intelligent_ordering'])
      expect(askText).toContain(`\`${key}\` on → off`);
    expect((await flag('retry_logic')).enabled).toBe(true);
    const id = confirmId(ask.body);

    const denied = await t.client.blockAction({
      actionId: 'switchyard.confirm',
      value: id,
      userId: OUTSIDER,
      responseUrl: t.slack.createResponseUrl(),
    });
    expect(denied.status).toBe(200);
    const deniedReply = await t.slack.waitForResponse((r) => r.url === denied.responseUrl, ANSWER_TIMEOUT_MS);
    expect(textOf(deniedReply.body as never)).toContain('Only operators may do this');
    expect((await flag('retry_logic')).enabled).toBe(true);

    const first = await t.client.blockAction({
      actionId: 'switchyard.confirm',
      value: id,
      userId: OPERATOR,
      responseUrl: t.slack.createResponseUrl(),
    });
    const firstReply = await t.slack.waitForResponse((r) => r.url === first.responseUrl, ANSWER_TIMEOUT_MS);
    expect(textOf(firstReply.body as never)).toContain('Kill switch');
    const second = await t.client.blockAction({
      actionId: 'switchyard.confirm',
      value: id,
      userId: OPERATOR,
      responseUrl: t.slack.createResponseUrl(),
    });
    const secondReply = await t.slack.waitForResponse((r) => r.url === second.responseUrl, ANSWER_TIMEOUT_MS);
    expect(textOf(secondReply.body as never)).toContain('did not do it again');

    const all = (await getJson(`${t.url}/api/v1/features`)).body.flags as Array<{
      name: string;
      enabled: boolean;
      default: boolean;
    }>;
    for (const entry of all) {
      // Every new feature off; every baseline protection exactly as before (on).
      expect(entry.enabled, entry.name).toBe(entry.default);
    }
    const newEntries = auditLines()
      .slice(auditBefore)
      .map((line) => JSON.parse(line));
    expect(newEntries.map((entry) => entry.flag).sort()).toEqual([
      'exponential_backoff',
      'intelligent_ordering',
      'retry_logic',
    ]);
    expect(
      newEntries.every(
        (entry) =>
          entry.action === 'disable-all' &&
          entry.actor.id === OPERATOR &&
          entry.reason === 'error rate spiking',
      ),
    ).toBe(true);
    const announcement = await t.slack.waitForCall(
      'chat.postMessage',
      (call) => String(call.params.text).includes('Kill switch'),
      ANSWER_TIMEOUT_MS,
    );
    expect(String(announcement.params.text)).toContain('error rate spiking');
    expect(
      t.slack.calls('chat.postMessage').filter((call) => String(call.params.text).includes('Kill switch')),
    ).toHaveLength(1);
  });

  it('says so when disable-all finds nothing to change', async () => {
    const reply = await t.client.slashCommand({ command: '/flags', text: 'disable-all', userId: OPERATOR });
    expect(textOf(reply.body as never)).toContain('Nothing to disable');
    expect(JSON.stringify(reply.body)).not.toContain('switchyard.confirm');
  });

  it('asks an operator to confirm turning off a safety flag', async () => {
    const ask = await t.client.slashCommand({
      command: '/flags',
      text: 'disable circuit-breaker flapping',
      userId: OPERATOR,
    });
    expect(textOf(ask.body as never)).toContain('safety flag');
    expect((await flag('circuit_breaker')).enabled).toBe(true);
    const click = await t.client.blockAction({
      actionId: 'switchyard.confirm',
      value: confirmId(ask.body),
      userId: OPERATOR,
      responseUrl: t.slack.createResponseUrl(),
    });
    await t.slack.waitForResponse((r) => r.url === click.responseUrl, ANSWER_TIMEOUT_MS);
    expect((await flag('circuit_breaker')).enabled).toBe(false);
    await put('circuit_breaker', true);
  });

  it('shows history from the audit log, and help for a bare command', async () => {
    const history = await t.client.slashCommand({
      command: '/flags',
      text: 'history circuit_breaker',
      userId: OUTSIDER,
    });
    expect(textOf(history.body as never)).toContain('`circuit_breaker` on → off');
    const help = await t.client.slashCommand({ command: '/flags', text: '', userId: OUTSIDER });
    expect(textOf(help.body as never)).toContain('/flags disable-all [reason]');
  });
});

describe('permissions fail closed', () => {
  it('denies a group member when Slack cannot list the group, and changes nothing', async () => {
    const fresh = await startTestBot();
    try {
      fresh.slack.failNext('usergroups.users.list', { error: 'fatal_error' }, 20);
      const reply = await fresh.client.slashCommand({
        command: '/flags',
        text: 'enable retry_logic',
        userId: ONCALL_MEMBER,
      });
      expect(textOf(reply.body as never)).toContain('could not check');
      expect((await getJson(`${fresh.url}/api/v1/features/retry_logic`)).body.enabled).toBe(false);
    } finally {
      await fresh.stop();
    }
  });

  it('lets nobody change flags when no operators are configured', async () => {
    const fresh = await startTestBot({ configYaml: 'access: { operators: [] }\n' });
    try {
      const reply = await fresh.client.slashCommand({
        command: '/flags',
        text: 'enable retry_logic',
        userId: OPERATOR,
      });
      expect(textOf(reply.body as never)).toContain('No operators are configured');
      expect((await getJson(`${fresh.url}/api/v1/features/retry_logic`)).body.enabled).toBe(false);
    } finally {
      await fresh.stop();
    }
  });
});
