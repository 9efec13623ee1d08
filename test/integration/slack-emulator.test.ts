import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel, verifySlackRequest, webApi } from '@slack/bolt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import { SignedSlackClient, signSlackRequest } from '../../src/emulators/slack/signed-client.js';

const TS = /^\d{10}\.\d{6}$/;
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
  const emu = new SlackEmulator();
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
    await web.chat.postMessage({ channel: 'C1', text: 'too many', blocks });
    expect(emu.violations).toEqual(['chat.postMessage: blocks: 51 blocks (max 50)']);
    emu.violations.length = 0; // expected; keep afterEach's check meaningful
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

describe('SlackEmulator rate limit', () => {
  const emu = new SlackEmulator({ rateLimit: { postsPerSecond: 1, burst: 2 } });
  beforeAll(() => emu.start());
  afterAll(() => emu.stop());

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
});

describe('SlackEmulator response_url and inspection API', () => {
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const emu = new SlackEmulator({ now: () => clock });
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
    const emu = new SlackEmulator();
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
    const emu = new SlackEmulator();
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
