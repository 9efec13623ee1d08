import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSlackRequest } from '../../src/emulators/slack/signed-client.js';
import { API_TOKEN, OPERATOR, SIGNING_SECRET, startTestBot, type TestBot } from '../support/bot.js';
import { eventually, getJson, sendJson, textOf } from '../support/http.js';
import { ANSWER_TIMEOUT_MS } from '../support/slack.js';

let t: TestBot;
beforeAll(async () => {
  t = await startTestBot();
});
afterAll(async () => {
  await t.stop();
});

const enableBody = (flag: string) =>
  new URLSearchParams({
    command: '/flags',
    text: `enable ${flag}`,
    user_id: OPERATOR,
    user_name: 'op',
    channel_id: 'C0INCIDENTS',
    team_id: 'T0LOCAL',
    response_url: t.slack.createResponseUrl(),
    trigger_id: '1.2.3',
  }).toString();
const FORM = 'application/x-www-form-urlencoded';
const now = () => Math.floor(Date.now() / 1000);
const retryLogic = async () => (await getJson(`${t.url}/api/v1/features/retry_logic`)).body.enabled;

describe('Slack request verification', () => {
  it('accepts a correctly signed request', async () => {
    const body = enableBody('adaptive_timing');
    const response = await t.client.raw({ body, contentType: FORM, timestamp: now() });
    expect(response.status).toBe(200);
    expect((await getJson(`${t.url}/api/v1/features/adaptive_timing`)).body.enabled).toBe(true);
    await sendJson(
      'PUT',
      `${t.url}/api/v1/features/adaptive_timing`,
      { enabled: false, reason: 'reset' },
      { authorization: `Bearer ${API_TOKEN}` },
    );
  });

  it.each([
    ['unsigned', { signature: '' }],
    ['stale (over 5 minutes old)', { timestamp: now() - 400 }],
    ['future-dated (over 5 minutes ahead)', { timestamp: now() + 400 }],
    ['signed with another secret', { secret: 'not-the-secret' }],
  ])('refuses a request that is %s with 401 and changes nothing', async (_name, options) => {
    const response = await t.client.raw({ body: enableBody('retry_logic'), contentType: FORM, ...options });
    expect(response.status).toBe(401);
    expect(await retryLogic()).toBe(false);
  });

  it('refuses a tampered body (signature over different text) with 401', async () => {
    const timestamp = now();
    const signature = signSlackRequest(SIGNING_SECRET, timestamp, enableBody('adaptive_timing'));
    const response = await t.client.raw({
      body: enableBody('retry_logic'),
      contentType: FORM,
      timestamp,
      signature,
    });
    expect(response.status).toBe(401);
    expect(await retryLogic()).toBe(false);
  });

  it('refuses requests with no signature headers at all', async () => {
    const response = await fetch(`${t.url}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: enableBody('retry_logic'),
    });
    expect(response.status).toBe(401);
    expect(await retryLogic()).toBe(false);
  });
});

describe('malformed input never crashes the bot', () => {
  it('answers 100 KB of command text with a clear reply and changes nothing', async () => {
    const reply = await t.client.slashCommand({
      command: '/flags',
      text: `enable retry_logic ${'x'.repeat(100_000)}`,
      userId: OPERATOR,
    });
    expect(reply.status).toBe(200);
    expect(textOf(reply.body as never)).toContain('the most I take is 4,000');
    expect(await retryLogic()).toBe(false);
  });

  it('answers a signed but malformed interactivity payload with 4xx, then keeps serving', async () => {
    const response = await t.client.raw({ body: 'payload=%7Bnot-json', contentType: FORM });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect((await getJson(`${t.url}/healthz`)).status).toBe(200);
  });

  it('rejects bad JSON, wrong types and missing fields on the flag API with 400 and the path', async () => {
    const auth = { authorization: `Bearer ${API_TOKEN}` };
    const badJson = await sendJson('PUT', `${t.url}/api/v1/features/retry_logic`, '{"enabled": tru', auth);
    expect(badJson.status).toBe(400);
    expect(String(badJson.body.error)).toContain('not valid JSON');
    const wrongType = await sendJson(
      'PUT',
      `${t.url}/api/v1/features/retry_logic`,
      { enabled: 'yes', reason: 'x' },
      auth,
    );
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.path).toBe('enabled');
    const noReason = await sendJson('PUT', `${t.url}/api/v1/features/retry_logic`, { enabled: true }, auth);
    expect(noReason.status).toBe(400);
    expect(noReason.body.path).toBe('reason');
    const huge = await sendJson(
      'PUT',
      `${t.url}/api/v1/features/retry_logic`,
      { enabled: true, reason: 'x'.repeat(2_000_000) },
      auth,
    );
    expect(huge.status).toBe(413);
    expect(await retryLogic()).toBe(false);
  });
});

describe('the HTTP flag API', () => {
  it('refuses writes without the bearer token (401) and changes nothing', async () => {
    const none = await sendJson('PUT', `${t.url}/api/v1/features/retry_logic`, {
      enabled: true,
      reason: 'x',
    });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await sendJson(
      'POST',
      `${t.url}/api/v1/features/disable-all`,
      { reason: 'x' },
      { authorization: 'Bearer nope' },
    );
    expect(wrong.status).toBe(401);
    expect(await retryLogic()).toBe(false);
  });

  it('refuses every write when no token is configured', async () => {
    const fresh = await startTestBot({ env: { FLAG_API_TOKEN: '' } });
    try {
      const response = await sendJson(
        'PUT',
        `${fresh.url}/api/v1/features/retry_logic`,
        { enabled: true, reason: 'x' },
        { authorization: 'Bearer anything' },
      );
      expect(response.status).toBe(401);
      expect(String(response.body.error)).toContain('set FLAG_API_TOKEN');
    } finally {
      await fresh.stop();
    }
  });

  it('answers 404 with the nearest name for an unknown flag', async () => {
    const response = await getJson(`${t.url}/api/v1/features/retry_logik`);
    expect(response.status).toBe(404);
    expect(response.body.suggestion).toBe('retry_logic');
  });

  it('changes flags, refuses dependency violations (409), and needs confirm for safety flags', async () => {
    const auth = { authorization: `Bearer ${API_TOKEN}` };
    const refused = await sendJson(
      'PUT',
      `${t.url}/api/v1/features/error-classification`,
      { enabled: true, reason: 'x' },
      auth,
    );
    expect(refused.status).toBe(409);
    expect(refused.body.hint).toBe('/flags enable retry_logic');
    const safety = await sendJson(
      'PUT',
      `${t.url}/api/v1/features/health_checks`,
      { enabled: false, reason: 'x' },
      auth,
    );
    expect(safety.status).toBe(409);
    expect(safety.body.needsConfirmation).toBe(true);
    expect((await getJson(`${t.url}/api/v1/features/health_checks`)).body.enabled).toBe(true);
    const enabled = await sendJson(
      'PUT',
      `${t.url}/api/v1/features/retry_logic`,
      { enabled: true, reason: 'rollout' },
      auth,
    );
    expect(enabled.status).toBe(200);
    expect(enabled.body.enabled).toBe(true);
    expect(enabled.body.updatedBy).toBe('api');
    const killed = await sendJson(
      'POST',
      `${t.url}/api/v1/features/disable-all`,
      { reason: 'emergency_rollback' },
      auth,
    );
    expect(killed.status).toBe(200);
    expect(killed.body.changed).toEqual([{ key: 'retry_logic', from: true, to: false }]);
    const again = await sendJson(
      'POST',
      `${t.url}/api/v1/features/disable-all`,
      { reason: 'emergency_rollback' },
      auth,
    );
    expect(again.body.changed).toEqual([]);
    expect(again.body.message).toBe('nothing to disable');
  });
});

describe('metrics and readiness', () => {
  it('exposes command, latency, flag, Slack error and process metrics', async () => {
    await t.client.slashCommand({ command: '/flags', text: 'list', userId: OPERATOR });
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(
      /switchyard_commands_total\{command="\/flags",subcommand="list",outcome="ok"\} [1-9]/,
    );
    expect(text).toContain('switchyard_command_duration_seconds_bucket');
    expect(text).toMatch(/switchyard_flag_changes_total\{flag="retry_logic",action="enable",via="api"\} 1/);
    expect(text).toMatch(
      /switchyard_flag_enabled\{flag="circuit_breaker",env_var="MESSAGING_CIRCUIT_BREAKER",group="safety"\} 1/,
    );
    expect(text).toMatch(/switchyard_flag_enabled\{flag="retry_logic",[^}]*\} 0/);
    expect(text).toContain('# TYPE switchyard_slack_api_errors_total counter');
    expect(text).toContain('switchyard_process_resident_memory_bytes');
  });

  it('counts Slack API errors', async () => {
    t.slack.failNext('chat.postMessage', { error: 'channel_not_found' });
    await sendJson(
      'PUT',
      `${t.url}/api/v1/features/dashboard`,
      { enabled: false, reason: 'x' },
      { authorization: `Bearer ${API_TOKEN}` },
    );
    await t.slack.waitForCall('chat.postMessage', (call) => call.failure !== undefined, ANSWER_TIMEOUT_MS);
    // The bot counts the error once the client has seen the failed answer: wait for the metric.
    await eventually(async () => {
      const text = await (await fetch(`${t.url}/metrics`)).text();
      expect(text).toMatch(
        /switchyard_slack_api_errors_total\{method="chat.postMessage",error="channel_not_found"\} 1/,
      );
    }, 20_000);
  });

  it('is ready, and turns 503 when the state directory cannot be written', async () => {
    const fresh = await startTestBot();
    try {
      expect((await getJson(`${fresh.url}/readyz`)).status).toBe(200);
      const flagsDir = join(fresh.stateDir, 'flags');
      rmSync(flagsDir, { recursive: true, force: true });
      writeFileSync(flagsDir, 'not a directory');
      const ready = await getJson(`${fresh.url}/readyz`);
      expect(ready.status).toBe(503);
      expect((ready.body.checks as Record<string, string>).store).not.toBe('ok');
      expect((ready.body.checks as Record<string, string>).slack).toBe('ok');
      expect((await getJson(`${fresh.url}/healthz`)).status).toBe(200);
    } finally {
      await fresh.stop();
    }
  });
});
