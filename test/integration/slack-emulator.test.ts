import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel, verifySlackRequest, webApi } from '@slack/bolt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { liveSlackEmulators, SlackEmulator } from '../../src/emulators/slack/emulator.js';
import { SignedSlackClient, signSlackRequest } from '../../src/emulators/slack/signed-client.js';

const TS = /^\d{10}\.\d{6}$/;
/** Channels these tests post in, the bot a member of each (Slack refuses posts elsewhere). */
const CHANNELS = ['C1', 'C2', 'C9'].map((id) => ({ id, name: `test-${id.toLowerCase()}`, botMember: true }));
const SECRET = 'local-signing-secret';

const client = (emu: SlackEmulator, token = 'xoxb-local') =>
  new webApi.WebClient(token, {
    slackApiUrl: emu.apiUrl,
    logLevel: webApi.LogLevel.ERROR,
    // No backoff on 5xx, to keep the test fast; a 429 still waits out Retry-After.
    retryConfig: webApi.retryPolicies.rapidRetryPolicy,
  });

/** The Slack error code of a rejected WebClient call. */
const slackError = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (err: { data?: { error?: string } }) => err.data?.error,
  );

describe('SlackEmulator Web API', () => {
  const emu = new SlackEmulator({ channels: CHANNELS });
  let web: webApi.WebClient;

  beforeAll(async () => {
    await emu.start();
    web = client(emu);
  });
  afterAll(() => emu.stop());
  afterEach(() => {
    expect(emu.violations).toEqual([]);
    emu.reset();
  });

  it('answers auth.test and checks the bearer token', async () => {
    const auth = await web.auth.test();
    expect(auth).toMatchObject({ ok: true, team_id: 'T0LOCAL', user_id: 'U0BOT', bot_id: 'B0LOCAL' });
    expect(emu.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);

    expect(await slackError(client(emu, 'xoxb-wrong').auth.test())).toBe('invalid_auth');
    expect(await slackError(client(emu, '').auth.test())).toBe('not_authed');
    expect(await slackError(web.apiCall('nothing.here'))).toBe('unknown_method');
    expect(emu.calls().map((c) => c.response.error ?? 'ok')).toEqual([
      'ok',
      'invalid_auth',
      'not_authed',
      'unknown_method',
    ]);
  });

  it('posts, threads, updates and deletes messages', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Rollout* started' } }];
    const first = await web.chat.postMessage({ channel: 'C1', text: 'Rollout started', blocks });
    const second = await web.chat.postMessage({ channel: 'C1', text: 'step 1', thread_ts: first.ts });
    expect(first.ok).toBe(true);
    expect(first.channel).toBe('C1');
    expect(first.ts).toMatch(TS);
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
    expect(first.message).toMatchObject({ text: 'Rollout started', blocks, user: 'U0BOT' });

    // Form-encoded on the wire; recorded parsed, with blocks as objects and no token.
    const [call] = emu.calls('chat.postMessage');
    expect(call?.params).toEqual({ channel: 'C1', text: 'Rollout started', blocks });

    await web.chat.update({ channel: 'C1', ts: first.ts!, text: 'Rollout done' });
    expect(emu.messages('C1').map((m) => [m.text, m.blocks?.length, m.thread_ts])).toEqual([
      ['Rollout done', 1, undefined], // blocks left out of chat.update are kept, like Slack
      ['step 1', undefined, first.ts],
    ]);
    expect(emu.thread('C1', first.ts!).map((m) => m.text)).toEqual(['step 1']);

    expect(await slackError(web.chat.update({ channel: 'C1', ts: '1.000001', text: 'x' }))).toBe(
      'message_not_found',
    );
    await web.chat.delete({ channel: 'C1', ts: second.ts! });
    expect(emu.messages('C1').map((m) => m.ts)).toEqual([first.ts]);
    expect(await slackError(web.chat.postMessage({ channel: 'C1', text: '' }))).toBe('no_text');
  });

  it('posts ephemeral messages, opens DMs and reacts', async () => {
    const eph = await web.chat.postEphemeral({ channel: 'C1', user: 'U7', text: 'only you' });
    expect(eph.message_ts).toMatch(TS);
    expect(emu.messages('C1')).toMatchObject([{ text: 'only you', ephemeralTo: 'U7' }]);

    const dm = await web.conversations.open({ users: 'U0ALICE' });
    expect(dm.channel?.id).toBe('D0ALICE');

    const posted = await web.chat.postMessage({ channel: 'C2', text: 'hi' });
    await web.reactions.add({ channel: 'C2', timestamp: posted.ts!, name: 'eyes' });
    expect(await slackError(web.reactions.add({ channel: 'C2', timestamp: posted.ts!, name: 'eyes' }))).toBe(
      'already_reacted',
    );
    const got = await web.reactions.get({ channel: 'C2', timestamp: posted.ts! });
    expect(got.message?.reactions).toEqual([{ name: 'eyes', users: ['U0BOT'], count: 1 }]);
  });

  it('serves the directory: users and user groups', async () => {
    emu.addUser('U0ALICE', { name: 'alice', isAdmin: true });
    emu.setUsergroup('S0ONCALL', ['U0ALICE', 'U0BOB']);

    expect((await web.usergroups.users.list({ usergroup: 'S0ONCALL' })).users).toEqual(['U0ALICE', 'U0BOB']);
    expect(await slackError(web.usergroups.users.list({ usergroup: 'S0NOPE' }))).toBe('no_such_subteam');
    expect((await web.users.info({ user: 'U0ALICE' })).user).toMatchObject({ name: 'alice', is_admin: true });
    expect(await slackError(web.users.info({ user: 'U0NOBODY' }))).toBe('user_not_found');
  });

  it('lists user groups with their handles (usergroups.list), members only with include_users', async () => {
    emu.setUsergroup('S0ONCALL', ['U0ALICE'], 'messaging-oncall');
    const listed = await web.usergroups.list({});
    const oncall = listed.usergroups?.find((group) => group.id === 'S0ONCALL');
    expect(oncall).toMatchObject({ id: 'S0ONCALL', handle: 'messaging-oncall', is_usergroup: true });
    expect(oncall?.users).toBeUndefined();
    const withUsers = await web.usergroups.list({ include_users: true });
    expect(withUsers.usergroups?.find((group) => group.id === 'S0ONCALL')?.users).toEqual(['U0ALICE']);
    expect(() => emu.setUsergroup('S0BAD', [], 'Not A Handle')).toThrow('invalid user group handle');
  });

  it('answers 429 with Retry-After, which the real client waits out', async () => {
    emu.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const started = Date.now();
    const res = await web.chat.postMessage({ channel: 'C1', text: 'after the limit' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(res.ok).toBe(true);

    const calls = emu.calls('chat.postMessage');
    expect(calls.map((c) => [c.status, c.response.error])).toEqual([
      [429, 'ratelimited'],
      [200, undefined],
    ]);
    expect(calls[0]?.failure).toEqual({ status: 429, retryAfter: 1 });
    expect(emu.messages('C1').map((m) => m.text)).toEqual(['after the limit']);
  });

  it('answers 5xx, which the real client retries', async () => {
    emu.failNext('chat.postMessage', { status: 500 });
    const res = await web.chat.postMessage({ channel: 'C1', text: 'after the outage' });
    expect(res.ok).toBe(true);
    expect(emu.calls('chat.postMessage').map((c) => c.status)).toEqual([500, 200]);
  });

  it('surfaces an injected ok:false error without a retry', async () => {
    emu.failNext('chat.postMessage', { error: 'channel_not_found' }, 2);
    expect(await slackError(web.chat.postMessage({ channel: 'C1', text: 'a' }))).toBe('channel_not_found');
    expect(await slackError(web.chat.postMessage({ channel: 'C1', text: 'b' }))).toBe('channel_not_found');
    expect((await web.chat.postMessage({ channel: 'C1', text: 'c' })).ok).toBe(true);
    expect(emu.calls('chat.postMessage')).toHaveLength(3);
  });

  it('records Block Kit violations per method', async () => {
    const blocks = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    expect(await slackError(web.chat.postMessage({ channel: 'C1', text: 'too many', blocks }))).toBe(
      'invalid_blocks',
    );
    expect(emu.violations).toEqual(['chat.postMessage: blocks: 51 blocks (max 50)']);
    // Expected here: taken, so neither afterEach nor the shared guard reports them.
    expect(emu.takeViolations()).toEqual(['chat.postMessage: blocks: 51 blocks (max 50)']);
  });

  it('waits for calls that have happened or are still to come', async () => {
    await web.chat.postMessage({ channel: 'C1', text: 'early' });
    expect((await emu.waitForCall('chat.postMessage')).params.text).toBe('early');

    const later = emu.waitForCall('chat.postMessage', (c) => c.params.channel === 'C9', 2000);
    await web.chat.postMessage({ channel: 'C9', text: 'late' });
    expect((await later).params.text).toBe('late');

    await expect(emu.waitForCall('chat.delete', undefined, 50)).rejects.toThrow('timed out after 50 ms');
  });
});

describe('SlackEmulator strict defaults, as Slack', () => {
  const emu = new SlackEmulator();
  let web: webApi.WebClient;
  const CH = 'C0INCIDENTS';

  beforeAll(async () => {
    await emu.start();
    web = client(emu);
  });
  afterAll(() => emu.stop());
  afterEach(() => emu.reset());

  /** The raw answer of a refused call, as Slack sends it. */
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (err: { data?: Record<string, unknown> }) => {
        const { ok, error, errors, response_metadata } = err.data ?? {};
        return { ok, error, errors, response_metadata };
      },
    );
  const mrkdwn = (n: number) => ({ type: 'mrkdwn' as const, text: 'x'.repeat(n) });
  const button = (extra: Record<string, unknown>) =>
    ({
      type: 'button',
      action_id: 'go',
      text: { type: 'plain_text', text: 'Go' },
      ...extra,
    }) as never;

  it('has a default workspace: #messaging-system-incidents is C0INCIDENTS, the bot a member', async () => {
    const info = await web.conversations.info({ channel: '#messaging-system-incidents' });
    expect(info.channel).toMatchObject({ id: CH, name: 'messaging-system-incidents', is_member: true });
    expect((await web.chat.postMessage({ channel: CH, text: 'hello' })).channel).toBe(CH);
  });

  it("refuses a Block Kit violation with invalid_blocks in Slack's error shape and stores nothing", async () => {
    const blocks = [{ type: 'section', text: mrkdwn(3001) }];
    expect(await refusal(web.chat.postMessage({ channel: CH, text: 'long', blocks }))).toEqual({
      ok: false,
      error: 'invalid_blocks',
      errors: ['3001 chars (max 3000) [json-pointer:/blocks/0/text/text]'],
      response_metadata: { messages: ['[ERROR] 3001 chars (max 3000) [json-pointer:/blocks/0/text/text]'] },
    });
    expect(emu.messages(CH)).toEqual([]);
    expect(emu.takeViolations()).toEqual([
      'chat.postMessage: blocks[0] (section).text.text: 3001 chars (max 3000)',
    ]);
  });

  it('refuses chat.update and chat.postEphemeral bodies too, keeping the original message', async () => {
    const { ts } = await web.chat.postMessage({ channel: CH, text: 'original' });
    const blocks = [{ type: 'section', text: mrkdwn(3001) }];
    expect((await refusal(web.chat.update({ channel: CH, ts: ts!, text: 'x', blocks })))?.error).toBe(
      'invalid_blocks',
    );
    expect(
      (await refusal(web.chat.postEphemeral({ channel: CH, user: 'U0ALICE', text: 'x', blocks })))?.error,
    ).toBe('invalid_blocks');
    expect(emu.messages(CH).map((m) => m.text)).toEqual(['original']);
    expect(emu.takeViolations()).toHaveLength(2);
  });

  it('limits context element text to 3000 chars', async () => {
    const post = (n: number) =>
      web.chat.postMessage({
        channel: CH,
        text: 'ctx',
        blocks: [{ type: 'context', elements: [mrkdwn(n)] }],
      });
    expect((await post(3000)).ok).toBe(true);
    expect(await refusal(post(3001))).toMatchObject({
      error: 'invalid_blocks',
      errors: ['3001 chars (max 3000) [json-pointer:/blocks/0/elements/0/text]'],
    });
    expect(emu.takeViolations()).toEqual([
      'chat.postMessage: blocks[0] (context).elements[0].text: 3001 chars (max 3000)',
    ]);
  });

  it('limits a button URL to 3000 chars', async () => {
    const url = (n: number) => `https://example.com/${'r'.repeat(n - 'https://example.com/'.length)}`;
    const post = (n: number) =>
      web.chat.postMessage({
        channel: CH,
        text: 'link',
        blocks: [{ type: 'actions', elements: [button({ url: url(n) })] }],
      });
    expect((await post(3000)).ok).toBe(true);
    expect(await refusal(post(3001))).toMatchObject({
      error: 'invalid_blocks',
      errors: ['3001 chars (max 3000) [json-pointer:/blocks/0/elements/0/url]'],
    });
    expect(emu.takeViolations()).toEqual([
      'chat.postMessage: blocks[0] (actions).elements[0].url: 3001 chars (max 3000)',
    ]);
  });

  it('refuses unknown block types', async () => {
    const blocks = [{ type: 'divider' }, { type: 'sectoin', text: mrkdwn(5) }];
    expect(await refusal(web.chat.postMessage({ channel: CH, text: 'typo', blocks }))).toMatchObject({
      error: 'invalid_blocks',
      errors: ['unknown block type [json-pointer:/blocks/1]'],
    });
    expect(emu.takeViolations()).toEqual(['chat.postMessage: blocks[1] (sectoin): unknown block type']);
  });

  it('refuses unknown element types, in actions and as an accessory', async () => {
    const blocks = [
      { type: 'actions', elements: [button({}), { type: 'buton', action_id: 'b' }] },
      { type: 'section', text: mrkdwn(5), accessory: { type: 'slider' } },
    ];
    expect(await refusal(web.chat.postMessage({ channel: CH, text: 'typo', blocks }))).toMatchObject({
      error: 'invalid_blocks',
      errors: [
        'unknown element type [json-pointer:/blocks/0/elements/1]',
        'unknown element type [json-pointer:/blocks/1/accessory]',
      ],
    });
    expect(emu.takeViolations()).toEqual([
      'chat.postMessage: blocks[0] (actions).elements[1] (buton): unknown element type',
      'chat.postMessage: blocks[1] (section).accessory (slider): unknown element type',
    ]);
  });

  it('refuses text over 40,000 chars with msg_too_long', async () => {
    expect((await refusal(web.chat.postMessage({ channel: CH, text: 'x'.repeat(40_001) })))?.error).toBe(
      'msg_too_long',
    );
    expect(emu.takeViolations()).toEqual(['chat.postMessage: text: 40001 chars (max 40000)']);
  });

  it('answers channel_not_found for a channel that does not exist, on every method that takes one', async () => {
    const { ts } = await web.chat.postMessage({ channel: CH, text: 'here' });
    const calls = [
      web.chat.postMessage({ channel: 'C0NOWHERE', text: 'x' }),
      web.chat.postMessage({ channel: '#no-such-channel', text: 'x' }),
      web.chat.update({ channel: 'C0NOWHERE', ts: ts!, text: 'x' }),
      web.chat.postEphemeral({ channel: 'C0NOWHERE', user: 'U0ALICE', text: 'x' }),
      web.chat.delete({ channel: 'C0NOWHERE', ts: ts! }),
      web.reactions.add({ channel: 'C0NOWHERE', timestamp: ts!, name: 'eyes' }),
      web.reactions.get({ channel: 'C0NOWHERE', timestamp: ts! }),
    ];
    for (const call of calls) expect(await slackError(call)).toBe('channel_not_found');
    expect(emu.messages().map((m) => m.text)).toEqual(['here']);
  });

  it('answers not_in_channel until the bot is a member', async () => {
    const id = emu.createChannel('release-leads');
    expect(id).toMatch(/^C[0-9A-Z]+$/);
    expect(await slackError(web.chat.postMessage({ channel: id, text: 'x' }))).toBe('not_in_channel');
    expect(await slackError(web.chat.postMessage({ channel: '#release-leads', text: 'x' }))).toBe(
      'not_in_channel',
    );
    expect(await slackError(web.chat.postEphemeral({ channel: id, user: 'U0ALICE', text: 'x' }))).toBe(
      'not_in_channel',
    );
    expect(emu.messages(id)).toEqual([]);

    expect((await web.conversations.join({ channel: id })).ok).toBe(true);
    expect((await web.chat.postMessage({ channel: id, text: 'joined' })).ok).toBe(true);

    const other = emu.createChannel('#announcements');
    emu.joinChannel('#announcements'); // the test control, as an invitation would
    expect((await web.chat.postMessage({ channel: other, text: 'invited' })).ok).toBe(true);
  });

  it('resolves #name to the C… id, which answers and stored messages carry', async () => {
    const posted = await web.chat.postMessage({ channel: '#messaging-system-incidents', text: 'by name' });
    expect(posted.channel).toBe(CH);
    expect(posted.channel).not.toMatch(/#/);
    expect(emu.messages(CH).map((m) => m.text)).toEqual(['by name']);
    const updated = await web.chat.update({
      channel: '#messaging-system-incidents',
      ts: posted.ts!,
      text: 'edited',
    });
    expect(updated.channel).toBe(CH);
    expect(emu.messages(CH).map((m) => m.text)).toEqual(['edited']);
  });

  it('posts to a user id as a DM, answered with the D… im channel', async () => {
    const posted = await web.chat.postMessage({ channel: 'U0ALICE', text: 'psst' });
    expect(posted.channel).toBe('D0ALICE');
    expect(emu.messages('D0ALICE').map((m) => m.text)).toEqual(['psst']);
    expect((await web.conversations.open({ users: 'U0ALICE' })).channel?.id).toBe('D0ALICE');
    expect((await web.chat.update({ channel: 'D0ALICE', ts: posted.ts!, text: 'edited' })).channel).toBe(
      'D0ALICE',
    );
  });

  it("answers an injected refusal in Slack's shape", async () => {
    emu.failNext('chat.postMessage', {
      error: 'invalid_blocks',
      errors: ['no more than 50 items allowed [json-pointer:/blocks]'],
    });
    expect(await refusal(web.chat.postMessage({ channel: CH, text: 'x' }))).toEqual({
      ok: false,
      error: 'invalid_blocks',
      errors: ['no more than 50 items allowed [json-pointer:/blocks]'],
      response_metadata: { messages: ['[ERROR] no more than 50 items allowed [json-pointer:/blocks]'] },
    });
  });

  it('keeps violations for the shared guard across reset(), and registers while started', async () => {
    expect(liveSlackEmulators()).toContain(emu);
    await slackError(web.chat.postMessage({ channel: CH, text: 'x', blocks: [{ type: 'nope' }] }));
    emu.reset();
    expect(emu.violations).toEqual([]);
    expect(emu.takeViolations()).toEqual(['chat.postMessage: blocks[0] (nope): unknown block type']);
    expect(emu.takeViolations()).toEqual([]);
  });
});

describe('SlackEmulator rate limit', () => {
  const emu = new SlackEmulator({ rateLimit: { postsPerSecond: 1, burst: 2 }, channels: CHANNELS });
  beforeAll(() => emu.start());
  afterAll(() => emu.stop());

  const api = (method: string, params: Record<string, string>) =>
    fetch(`${emu.apiUrl}${method}`, {
      method: 'POST',
      headers: { authorization: 'Bearer xoxb-local', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
    });

  it('answers 429 with an integer Retry-After once a channel bucket is empty', async () => {
    const post = (channel: string) =>
      fetch(`${emu.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { authorization: 'Bearer xoxb-local', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ channel, text: 'x' }),
      });
    expect((await post('C1')).status).toBe(200);
    expect((await post('C1')).status).toBe(200);
    const limited = await post('C1');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toEqual({ ok: false, error: 'ratelimited' });
    expect((await post('C2')).status).toBe(200); // per channel
  });

  it('rate limits chat.update the same way, per channel, with Retry-After', async () => {
    const { ts } = (await (await api('chat.postMessage', { channel: 'C9', text: 'x' })).json()) as {
      ts: string;
    };
    const update = (channel: string, messageTs: string) =>
      api('chat.update', { channel, ts: messageTs, text: 'y' });
    expect((await update('C9', ts)).status).toBe(200);
    expect((await update('C9', ts)).status).toBe(200);
    const limited = await update('C9', ts);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toEqual({ ok: false, error: 'ratelimited' });
    // Another channel has its own bucket; so does chat.postMessage in this one.
    const other = (await (await api('chat.postMessage', { channel: 'C2', text: 'x' })).json()) as {
      ts: string;
    };
    expect((await update('C2', other.ts)).status).toBe(200);
    expect((await api('chat.postMessage', { channel: 'C9', text: 'z' })).status).toBe(200);
  });
});

describe('SlackEmulator response_url and inspection API', () => {
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const emu = new SlackEmulator({ now: () => clock, channels: CHANNELS });
  beforeAll(() => emu.start());
  afterAll(() => emu.stop());
  afterEach(() => emu.reset());

  const respond = (url: string, body: object) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('accepts 5 posts per response_url, then answers 404 used_url', async () => {
    const url = emu.createResponseUrl();
    expect(url).toMatch(new RegExp(`^${emu.url}/response/[0-9a-f]+$`));
    for (let i = 0; i < 5; i++) expect((await respond(url, { text: `r${i}` })).status).toBe(200);
    const sixth = await respond(url, { text: 'r5' });
    expect(sixth.status).toBe(404);
    expect(await sixth.json()).toEqual({ ok: false, error: 'used_url' });
    expect(emu.responses(url).map((r) => r.error ?? r.body.text)).toEqual([
      'r0',
      'r1',
      'r2',
      'r3',
      'r4',
      'used_url',
    ]);
  });

  it('expires response_urls after 30 minutes', async () => {
    const url = emu.createResponseUrl();
    clock += 30 * 60_000;
    expect((await respond(url, { text: 'just in time' })).status).toBe(200);
    clock += 1;
    const late = await respond(url, { text: 'too late' });
    expect(late.status).toBe(404);
    expect(await late.json()).toEqual({ ok: false, error: 'expired_url' });
  });

  it('replaces, deletes or posts in channel like Slack', async () => {
    const web = client(emu);
    const { ts } = await web.chat.postMessage({ channel: 'C1', text: 'Approve?' });
    const url = emu.createResponseUrl({ channel: 'C1', messageTs: ts });
    await respond(url, { replace_original: true, text: 'Approved by alice' });
    await respond(url, { response_type: 'in_channel', text: 'Rolling out' });
    expect(emu.messages('C1').map((m) => m.text)).toEqual(['Approved by alice', 'Rolling out']);
    await respond(url, { delete_original: true });
    expect(emu.messages('C1').map((m) => m.text)).toEqual(['Rolling out']);
    await respond(emu.createResponseUrl({ channel: 'C1' }), { text: 'only you see this' });
    expect(emu.messages('C1')).toHaveLength(1); // ephemeral: a response only
    expect((await emu.waitForResponse((r) => r.body.text === 'only you see this')).status).toBe(200);
  });

  it('serves messages and responses to another process as since-feeds', async () => {
    const get = async (path: string) =>
      (await fetch(`${emu.url}${path}`)).json() as Promise<{
        items: { seq: number; text?: string; body?: { text?: string } }[];
        next: number;
      }>;
    const web = client(emu);
    const { ts } = await web.chat.postMessage({ channel: 'C1', text: 'one' });
    const first = await get('/_emulator/messages?since=0');
    expect(first.items.map((m) => m.text)).toEqual(['one']);
    expect((await get(`/_emulator/messages?since=${first.next}`)).items).toEqual([]);

    await web.chat.update({ channel: 'C1', ts: ts!, text: 'one, edited' });
    expect((await get(`/_emulator/messages?since=${first.next}`)).items.map((m) => m.text)).toEqual([
      'one, edited',
    ]);

    const minted = (await (await fetch(`${emu.url}/_emulator/response-url`, { method: 'POST' })).json()) as {
      url: string;
    };
    await respond(minted.url, { text: 'remote' });
    const responses = await get('/_emulator/responses?since=0');
    expect(responses.items.map((r) => r.body?.text)).toEqual(['remote']);
  });
});

describe('SignedSlackClient', () => {
  it("matches Slack's published signing example", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, body)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  describe('against a capturing server', () => {
    const emu = new SlackEmulator({ channels: CHANNELS });
    const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
    let server: Server;
    let slack: SignedSlackClient;

    beforeAll(async () => {
      await emu.start();
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => {
          body += c.toString('utf8');
        });
        req.on('end', () => {
          seen.push({ headers: req.headers, body });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      slack = new SignedSlackClient({
        eventsUrl: `http://127.0.0.1:${port}/slack/events`,
        signingSecret: SECRET,
        emulator: emu,
      });
    });
    afterAll(async () => {
      server.close();
      await emu.stop();
    });

    const last = () => seen.at(-1)!;
    const verify = (req: { headers: IncomingHttpHeaders; body: string }, secret = SECRET) =>
      verifySlackRequest({
        signingSecret: secret,
        body: req.body,
        headers: {
          'x-slack-signature': String(req.headers['x-slack-signature']),
          'x-slack-request-timestamp': Number(req.headers['x-slack-request-timestamp']),
        },
      });

    it('sends slash commands that Bolt verifies, form-encoded without a charset', async () => {
      const res = await slack.slashCommand({ command: '/flags', text: 'list prod', retryNum: 1 });
      expect(res).toMatchObject({ status: 200, body: { received: true } });
      const req = last();
      expect(() => verify(req)).not.toThrow();
      expect(() => verify(req, 'another-secret')).toThrow('signature mismatch');
      expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(req.headers['x-slack-retry-num']).toBe('1');
      expect(req.headers['x-slack-retry-reason']).toBe('http_timeout');
      const form = Object.fromEntries(new URLSearchParams(req.body));
      expect(form).toMatchObject({
        command: '/flags',
        text: 'list prod',
        user_id: 'U0LOCAL',
        channel_id: 'C0INCIDENTS',
        team_id: 'T0LOCAL',
        response_url: res.responseUrl,
      });
      expect(Object.keys(form).sort()).toEqual(
        [
          'token',
          'team_id',
          'team_domain',
          'channel_id',
          'channel_name',
          'user_id',
          'user_name',
          'command',
          'text',
          'api_app_id',
          'response_url',
          'trigger_id',
        ].sort(),
      );
      expect(res.responseUrl.startsWith(`${emu.url}/response/`)).toBe(true);
    });

    it('sends block_actions payloads shaped like Slack', async () => {
      const web = client(emu);
      const blocks = [
        {
          type: 'actions',
          elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'OK' } }],
        },
      ];
      const { ts } = await web.chat.postMessage({ channel: 'C1', text: 'Approve?', blocks });
      await slack.blockAction({
        userId: 'U0ALICE',
        actionId: 'approve',
        value: 'rollout-7',
        channelId: 'C1',
        messageTs: ts,
      });
      const req = last();
      expect(() => verify(req)).not.toThrow();
      expect(req.headers['x-slack-retry-num']).toBeUndefined();
      const payload = JSON.parse(new URLSearchParams(req.body).get('payload')!);
      expect(payload).toMatchObject({
        type: 'block_actions',
        user: { id: 'U0ALICE', team_id: 'T0LOCAL' },
        team: { id: 'T0LOCAL' },
        channel: { id: 'C1' },
        container: { type: 'message', message_ts: ts, channel_id: 'C1', is_ephemeral: false },
        message: { ts, text: 'Approve?', blocks },
        actions: [{ type: 'button', action_id: 'approve', block_id: 'actions', value: 'rollout-7' }],
      });
      expect(payload.response_url).toMatch(`${emu.url}/response/`);
      expect(payload.actions[0].action_ts).toMatch(TS);
    });

    it('sends Events API envelopes and raw requests', async () => {
      await slack.event(
        { type: 'app_mention', user: 'U0ALICE', text: '<@U0BOT> status', channel: 'C1' },
        { retryNum: 2 },
      );
      const req = last();
      expect(() => verify(req)).not.toThrow();
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.headers['x-slack-retry-num']).toBe('2');
      expect(JSON.parse(req.body)).toMatchObject({
        type: 'event_callback',
        team_id: 'T0LOCAL',
        event: { type: 'app_mention', text: '<@U0BOT> status' },
        event_id: expect.stringMatching(/^Ev/),
      });

      const stale = Math.floor(Date.now() / 1000) - 301;
      await slack.raw({ body: '{}', contentType: 'application/json', timestamp: stale });
      expect(last().headers['x-slack-signature']).toBe(signSlackRequest(SECRET, stale, '{}'));
      expect(() => verify(last())).toThrow('stale');
      await slack.raw({ body: '{}', contentType: 'application/json', signature: 'v0=00' });
      expect(() => verify(last())).toThrow('signature mismatch');
    });
  });

  describe('against a real Bolt app', () => {
    const emu = new SlackEmulator({ channels: CHANNELS });
    let app: App;
    let slack: SignedSlackClient;

    beforeAll(async () => {
      await emu.start();
      app = new App({
        token: 'xoxb-local',
        signingSecret: SECRET,
        logLevel: LogLevel.ERROR,
        clientOptions: { slackApiUrl: emu.apiUrl },
      });
      app.command('/flags', async ({ ack, respond, command }) => {
        await ack();
        await respond({ text: `flags: ${command.text}` });
      });
      app.action('approve', async ({ ack, respond }) => {
        await ack();
        await respond({ replace_original: true, text: 'Approved' });
      });
      const server = await app.start(0);
      const { port } = server.address() as AddressInfo;
      slack = new SignedSlackClient({
        eventsUrl: `http://127.0.0.1:${port}/slack/events`,
        signingSecret: SECRET,
        emulator: { url: emu.url }, // mint response_urls over HTTP, as another process would
      });
    });
    afterAll(async () => {
      await app.stop();
      await emu.stop();
    });

    it('runs a slash command end to end', async () => {
      // Bolt checks its token with auth.test as it starts.
      expect((await emu.waitForCall('auth.test')).response).toMatchObject({ ok: true, user_id: 'U0BOT' });
      const res = await slack.slashCommand({ command: '/flags', text: 'list' });
      expect(res.status).toBe(200);
      const response = await emu.waitForResponse((r) => r.url === res.responseUrl);
      expect(response.body).toMatchObject({ text: 'flags: list' });
    });

    it('runs a button click end to end, replacing the original message', async () => {
      const { ts } = await client(emu).chat.postMessage({ channel: 'C1', text: 'Approve?' });
      const res = await slack.blockAction({
        actionId: 'approve',
        value: 'x',
        channelId: 'C1',
        messageTs: ts,
      });
      expect(res.status).toBe(200);
      await emu.waitForResponse((r) => r.url === res.responseUrl);
      expect(emu.messages('C1').map((m) => m.text)).toEqual(['Approved']);
    });

    it('is refused by Bolt when the signature or content type is wrong', async () => {
      const body = new URLSearchParams({ command: '/flags', text: 'x' }).toString();
      const forged = await slack.raw({
        body,
        contentType: 'application/x-www-form-urlencoded',
        secret: 'nope',
      });
      expect(forged.status).toBe(401);
      const charset = await slack.raw({
        body,
        contentType: 'application/x-www-form-urlencoded; charset=utf-8',
      });
      expect(charset.status).toBe(400);
    });
  });
});
