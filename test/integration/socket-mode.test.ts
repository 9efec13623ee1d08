import { randomBytes } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { ping, WebSocket } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SEED_FLAGS } from '../../src/core/flags/catalog.js';
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
} from '../support/bot.js';
import { eventually, getJson, sendJson, textOf } from '../support/http.js';

const APP_TOKEN = 'xapp-1-A0LOCAL-1234-test';

/** Calls a Web API method on the emulator the way @slack/web-api does, with a bearer token. */
const callApi = async (emu: SlackEmulator, method: string, token?: string) => {
  const response = await fetch(`${emu.apiUrl}${method}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: '',
  });
  return (await response.json()) as { ok: boolean; error?: string; url?: string };
};

/** A bare WebSocket client that keeps every message it receives. */
async function connect(url: string) {
  const ws = new WebSocket(url);
  const messages: Array<Record<string, unknown>> = [];
  const arrivals: Array<() => void> = [];
  ws.addEventListener('message', (event) => {
    messages.push(JSON.parse(String(event.data)) as Record<string, unknown>);
    for (const wake of arrivals.splice(0)) wake();
  });
  const closed = new Promise<number>((resolve) => ws.addEventListener('close', (e) => resolve(e.code)));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error(`could not connect to ${url}`)));
  });
  const next = async (type?: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const found = messages.find((m) => type === undefined || m.type === type);
      if (found) {
        messages.splice(messages.indexOf(found), 1);
        return found;
      }
      await new Promise<void>((resolve) => arrivals.push(resolve));
    }
  };
  return { ws, next, closed };
}

describe('Socket Mode emulation (protocol)', () => {
  const emu = new SlackEmulator({ botToken: BOT_TOKEN, appToken: APP_TOKEN });

  beforeAll(() => emu.start());
  afterAll(() => emu.stop());

  it('opens connections only for the app-level token', async () => {
    expect(await callApi(emu, 'apps.connections.open')).toEqual({ ok: false, error: 'not_authed' });
    expect(await callApi(emu, 'apps.connections.open', 'xapp-wrong')).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
    expect(await callApi(emu, 'apps.connections.open', BOT_TOKEN)).toEqual({
      ok: false,
      error: 'not_allowed_token_type',
    });
    const opened = await callApi(emu, 'apps.connections.open', APP_TOKEN);
    expect(opened.ok).toBe(true);
    expect(opened.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/socket-mode\?ticket=[0-9a-f-]{36}$/);
    expect(emu.calls('apps.connections.open').map((c) => c.response.ok)).toEqual([false, false, false, true]);
  });

  it('greets with hello, relays envelopes and acks of any size, and refuses a reused ticket', async () => {
    const { url } = await callApi(emu, 'apps.connections.open', APP_TOKEN);
    expect(emu.socketModeConnected()).toBe(false);
    const client = await connect(url!);
    try {
      const hello = await client.next('hello');
      expect(hello).toMatchObject({
        type: 'hello',
        num_connections: 1,
        connection_info: { app_id: 'A0LOCAL' },
      });
      expect(hello.debug_info).toBeTypeOf('object');
      expect(emu.socketModeConnected()).toBe(true);
      await emu.waitForSocketClient(100);

      // @slack/socket-mode pings about every 1.7 s and drops a connection that stops answering.
      const pongs = channel('undici:websocket:pong');
      const pong = new Promise<string>((resolve) => {
        const listener = (message: unknown) => {
          const { websocket, payload } = message as { websocket: unknown; payload: Buffer };
          if (websocket !== client.ws) return;
          pongs.unsubscribe(listener);
          resolve(payload.toString());
        };
        pongs.subscribe(listener);
      });
      ping(client.ws, Buffer.from('are you there'));
      expect(await pong).toBe('are you there');

      // 70 kB each way: exercises the 64-bit frame length in both directions.
      const big = randomBytes(35_000).toString('hex');
      const acked = emu.sendEnvelope('events_api', { event: { type: 'app_mention', text: big } });
      const envelope = await client.next('events_api');
      expect(envelope).toMatchObject({
        type: 'events_api',
        accepts_response_payload: false,
        retry_attempt: 0,
        payload: { event: { type: 'app_mention', text: big } },
      });
      client.ws.send(JSON.stringify({ envelope_id: envelope.envelope_id, payload: { echo: big } }));
      expect(await acked).toEqual({ envelope_id: envelope.envelope_id, payload: { echo: big } });

      const slash = emu.sendEnvelope('slash_commands', { command: '/flags' }, { timeoutMs: 200 });
      expect(await client.next('slash_commands')).toMatchObject({ accepts_response_payload: true });
      await expect(slash).rejects.toThrow(/no ack for slash_commands envelope .* within 200 ms/);

      await expect(connect(url!)).rejects.toThrow('could not connect');
    } finally {
      client.ws.close();
      await client.closed;
    }
    await eventually(() => expect(emu.socketModeConnected()).toBe(false));
    await expect(emu.sendEnvelope('interactive', {})).rejects.toThrow('no Socket Mode client is connected');
    await expect(emu.waitForSocketClient(50)).rejects.toThrow('within 50 ms');
  });

  it('tells a connected client to disconnect when it stops', async () => {
    const own = new SlackEmulator({ appToken: APP_TOKEN });
    await own.start();
    const { url } = await callApi(own, 'apps.connections.open', APP_TOKEN);
    const client = await connect(url!);
    await client.next('hello');
    const pending = own.sendEnvelope('interactive', { type: 'block_actions' }, { timeoutMs: 10_000 });
    client.ws.addEventListener('message', (event) => {
      if (JSON.parse(String(event.data)).type === 'disconnect') client.ws.close(1000);
    });
    const stopped = own.stop();
    expect(await client.next('disconnect')).toMatchObject({ type: 'disconnect', reason: 'warning' });
    await stopped;
    expect(await client.closed).toBe(1000);
    await expect(pending).rejects.toThrow(/connection closed before envelope .* was acked/);
  });
});

describe('the bot in Socket Mode', () => {
  const emu = new SlackEmulator({ botToken: BOT_TOKEN, appToken: APP_TOKEN });
  let t: TestBot;
  let stopped = false;

  beforeAll(async () => {
    await emu.start();
    emu.setUsergroup('S0ONCALL', [ONCALL_MEMBER]);
    t = await startTestBot({
      slack: emu,
      env: { SLACK_APP_TOKEN: APP_TOKEN, SLACK_SIGNING_SECRET: '' },
    });
    await emu.waitForSocketClient(5_000);
  });
  afterAll(async () => {
    if (!stopped) await t.stop();
    await emu.stop();
  });
  afterEach(() => {
    expect(emu.violations).toEqual([]);
  });

  const flag = async (name: string) => (await getJson(`${t.url}/api/v1/features/${name}`)).body;
  const slash = (text: string, userId: string) =>
    emu.sendEnvelope('slash_commands', {
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
      is_enterprise_install: 'false',
      response_url: emu.createResponseUrl({ channel: CHANNEL }),
      trigger_id: `1234.5678.${randomBytes(8).toString('hex')}`, // unique, as Slack's are: a repeated one is a replay
    });

  it('connects with the app token once, and is ready', async () => {
    expect(emu.socketModeConnected()).toBe(true);
    const opens = emu.calls('apps.connections.open');
    expect(opens).toHaveLength(1);
    expect(opens[0]!.response.ok).toBe(true);
    expect((await getJson(`${t.url}/readyz`)).body).toMatchObject({
      status: 'ready',
      checks: { slack: 'ok' },
    });
  });

  it('answers /flags list in the ack, listing all 22 flags', async () => {
    const ack = await slash('list', OUTSIDER);
    expect(ack.envelope_id).toMatch(/^[0-9a-f-]{36}$/);
    const text = textOf(ack.payload as never);
    expect(SEED_FLAGS).toHaveLength(22);
    for (const definition of SEED_FLAGS) expect(text).toContain(`\`${definition.key}\``);
    expect(text).toContain('9 of 22 on');
    expect(emu.responses()).toEqual([]); // the reply went in the ack, not via response_url
  });

  it('lets an operator enable a flag, seen by the HTTP API and announced; refuses an outsider', async () => {
    const refused = await slash('enable retry_logic', OUTSIDER);
    expect(textOf(refused.payload as never)).toContain('Only operators may do this');
    expect((await flag('retry_logic')).enabled).toBe(false);

    const done = await slash('enable retry_logic over socket mode', OPERATOR);
    expect(textOf(done.payload as never)).toContain('Done');
    const state = await flag('retry_logic');
    expect(state.enabled).toBe(true);
    expect(state.updatedBy).toBe(OPERATOR);
    const announcement = await emu.waitForCall('chat.postMessage', (call) =>
      String(call.params.text).includes('retry_logic'),
    );
    expect(announcement.params.channel).toBe(CHANNEL);
    expect(String(announcement.params.text)).toContain('over socket mode');
  });

  it('runs a confirmation button as an interactive envelope', async () => {
    const ask = await slash('disable circuit-breaker flapping', OPERATOR);
    expect(textOf(ask.payload as never)).toContain('safety flag');
    const match = /"action_id":"switchyard\.confirm","value":"([^"]+)"/.exec(JSON.stringify(ask.payload));
    expect(match).not.toBeNull();
    const responseUrl = emu.createResponseUrl({ channel: CHANNEL });
    const ack = await emu.sendEnvelope('interactive', {
      type: 'block_actions',
      user: { id: OPERATOR, username: 'operator', team_id: 'T0LOCAL' },
      api_app_id: 'A0LOCAL',
      token: 'local-verification-token',
      container: { type: 'message', channel_id: CHANNEL, is_ephemeral: true },
      trigger_id: `1234.5678.${randomBytes(8).toString('hex')}`, // unique, as Slack's are: a repeated one is a replay
      team: { id: 'T0LOCAL', domain: 'local' },
      channel: { id: CHANNEL, name: 'incidents' },
      response_url: responseUrl,
      actions: [
        {
          type: 'button',
          action_id: 'switchyard.confirm',
          block_id: 'actions',
          value: match![1],
          text: { type: 'plain_text', text: 'Confirm' },
          action_ts: '1700000000.000001',
        },
      ],
    });
    expect(ack.payload).toEqual({});
    const reply = await emu.waitForResponse((r) => r.url === responseUrl);
    expect(reply.status).toBe(200);
    expect(reply.body.replace_original).toBe(true);
    expect((await flag('circuit_breaker')).enabled).toBe(false);
    const restored = await sendJson(
      'PUT',
      `${t.url}/api/v1/features/circuit_breaker`,
      { enabled: true, reason: 'test cleanup' },
      { authorization: `Bearer ${API_TOKEN}` },
    );
    expect(restored.status).toBe(200);
  });

  it('serves no Slack HTTP endpoint, but still health, the flag API and metrics', async () => {
    const events = await fetch(`${t.url}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'command=%2Fflags&text=list',
    });
    expect(events.status).toBe(404);
    await events.body?.cancel();

    expect(await getJson(`${t.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
    const all = await getJson(`${t.url}/api/v1/features`);
    expect(all.status).toBe(200);
    expect(all.body.flags).toHaveLength(22);

    const metrics = await fetch(`${t.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/switchyard_commands_total\{[^}]*subcommand="list"[^}]*\} 1\n/);
    expect(text).toMatch(/switchyard_flag_enabled\{[^}]*flag="retry_logic"[^}]*\} 1\n/);
  });

  it('closes its connection on stop and does not come back', async () => {
    stopped = true;
    await t.stop();
    await eventually(() => expect(emu.socketModeConnected()).toBe(false));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(emu.socketModeConnected()).toBe(false);
    expect(emu.calls('apps.connections.open')).toHaveLength(1);
  });
});
