/**
 * End to end, for a few seeded hostile inputs: a reason and an `X-Switchyard-Actor` header on the flag
 * API, a reason on a slash command and a phase advance, an alert's name and labels (its message, and
 * the kill switch pulled from its button): no call the bot makes to Slack carries a `<…>` token it did
 * not make itself. Every recorded Web API call is inspected once the outbox is idle.
 * Seeded: FC_SEED=<n> replays a run.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedCall } from '../../src/emulators/slack/emulator.js';
import { ALERT_TOKEN, API_TOKEN, CHANNEL, OPERATOR, startTestBot, type TestBot } from '../support/bot.js';
import { eventually, sendJson } from '../support/http.js';
import { clickConfirm } from '../support/slack.js';
import { foreignTokens, HOSTILE, stringsOf } from '../support/slack-tokens.js';
import { firing, notification } from '../unit/alerts/builders.js';

const SEED = Number(process.env.FC_SEED ?? 20_261_204);
const RUNS = 3;
/** The IDs the bot may mention here: the operator who acts, the on-call group it pages. */
const KNOWN = [OPERATOR, 'S0ONCALL'];
const CONFIG = `
access:
  operators: [${OPERATOR}]
  approvers: [S0LEADS]
escalation:
  oncall: S0ONCALL
`;

let t: TestBot;
beforeAll(async () => {
  t = await startTestBot({ configYaml: CONFIG });
});
afterAll(async () => {
  await t?.stop();
});

const hostile = fc
  .array(fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom(...HOSTILE)), {
    minLength: 1,
    maxLength: 5,
  })
  .map((parts) => parts.join('').trim() || '<!channel>');
/** What an HTTP header can carry: printable ASCII on one line. */
const headerText = hostile.map((text) => text.replace(/[^\x20-\x7e]/g, ' ').trim() || '<@U0VP>');

const api = (method: string, path: string, body: unknown, actor: string) =>
  sendJson(method, `${t.url}${path}`, body, {
    authorization: `Bearer ${API_TOKEN}`,
    'x-switchyard-actor': actor,
  });

const posts = (pattern: string) =>
  t.slack
    .calls('chat.postMessage')
    .filter((c) => c.status === 200 && String(c.params.text).includes(pattern));

/** Waits until `count` posts contain `pattern`, then until nothing is queued: the bot is done. */
async function settled(pattern: string, count: number) {
  await eventually(() => expect(posts(pattern).length).toBeGreaterThanOrEqual(count), 30_000);
  await t.bot.alerting.outbox.idle();
}

function foreignIn(call: RecordedCall): string[] {
  const { text, blocks } = call.params;
  const parsed = typeof blocks === 'string' ? JSON.parse(blocks) : blocks;
  return stringsOf([text, parsed]).flatMap((s) => foreignTokens(s, KNOWN, LINKS));
}

/** Links the bot makes itself: the alert's generatorURL and Alertmanager's silences page (the builders'). */
const LINKS = ['http://prometheus:9090/graph?', 'http://alertmanager:9093/#/silences'];

describe(`what the bot posts, end to end (seed ${SEED})`, () => {
  it('property: outside text never becomes a mention, a broadcast or a link', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(hostile, headerText, hostile, hostile, async (reason, actor, alertname, label) => {
        round += 1;
        // The flag API: a change and the kill switch, with the caller's reason and actor header.
        expect(
          (await api('PUT', '/api/v1/features/adaptive_timing', { enabled: true, reason }, actor)).status,
        ).toBe(200);
        await settled(':gear:', round * 2 - 1);
        expect((await api('POST', '/api/v1/features/disable-all', { reason }, actor)).status).toBe(200);
        await settled('Kill switch', round * 2 - 1);

        // A slash command with a reason; then the phase advance request with one.
        await t.client.slashCommand({
          command: '/flags',
          text: `enable adaptive_timing ${reason.replace(/\n/g, ' ')}`,
          userId: OPERATOR,
        });
        await settled(':gear:', round * 2);
        const advance = await t.client.slashCommand({
          command: '/phase',
          text: `advance --override escaping ${reason.replace(/\n/g, ' ')}`,
          userId: OPERATOR,
        });
        expect(advance.status).toBe(200);
        if (round === 1) await settled('Phase advance', 1);

        // An alert whose name and labels are hostile, and the kill switch pulled from its button.
        const name = `${alertname} r${round}`;
        const labels = { alertname: name, severity: 'critical', [`l${round}`]: label, deployment: label };
        const alert = { ...firing(`f${round}`, Date.now(), labels), annotations: { summary: label } };
        const sent = await sendJson(
          'POST',
          `${t.url}/alertmanager`,
          notification([alert], {
            groupKey: `{}:{round="${round}"}`,
            groupLabels: { alertname: name },
            commonLabels: labels,
          }),
          { authorization: `Bearer ${ALERT_TOKEN}` },
        );
        expect(sent.status).toBe(200);
        await settled(`r${round}`, 1);
        const message = t.slack
          .messages(CHANNEL)
          .find((m) => !m.thread_ts && (m.text ?? '').includes(`r${round}`))!;
        const groupId = /"action_id":"switchyard\.alert\.kill-switch","value":"([^"]+)"/.exec(
          JSON.stringify(message.blocks),
        )![1]!;
        const click = await t.client.blockAction({
          actionId: 'switchyard.alert.kill-switch',
          value: groupId,
          userId: OPERATOR,
          channelId: CHANNEL,
          messageTs: message.ts,
        });
        const asked = await t.slack.waitForResponse((r) => r.url === click.responseUrl, 10_000);
        await clickConfirm(t.slack, t.client, asked.body, OPERATOR);
        await settled('Kill switch', round * 2);

        const calls = [...t.slack.calls('chat.postMessage'), ...t.slack.calls('chat.update')];
        expect(calls.length).toBeGreaterThan(0);
        for (const call of calls) expect(foreignIn(call), JSON.stringify(call.params)).toEqual([]);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  });

  it('replies to the person (ack and response_url) show outside text escaped too', async () => {
    const hostileText = HOSTILE.filter((part) => part !== '\n').join(' ');
    const actor = hostileText.replace(/[^\x20-\x7e]/g, ' ');
    expect(
      (await api('PUT', '/api/v1/features/retry_logic', { enabled: true, reason: hostileText }, actor))
        .status,
    ).toBe(200);
    await settled('retry_logic', 1);
    const lines = [
      ['/flags', 'get retry_logic'],
      ['/flags', 'history retry_logic'],
      ['/flags', `get ${hostileText}`],
      ['/flags', `list ${hostileText}`],
      ['/flags', `${hostileText}`],
      ['/flags', `disable-all ${hostileText}`],
      ['/phase', `nonsense ${hostileText}`],
      ['/rollback', `deployment messaging-core ${hostileText}`],
    ] as const;
    for (const [command, text] of lines) {
      const sent = await t.client.slashCommand({ command, text, userId: OPERATOR, channelId: CHANNEL });
      expect(sent.status).toBe(200);
      const interim = /Working on it/.test(JSON.stringify(sent.body ?? ''));
      const body = interim
        ? (await t.slack.waitForResponse((r) => r.url === sent.responseUrl, 30_000)).body
        : sent.body;
      const found = stringsOf(body).flatMap((s) => foreignTokens(s, KNOWN, LINKS));
      expect(found, `${command} ${text}: ${JSON.stringify(body)}`).toEqual([]);
    }
  });
});
