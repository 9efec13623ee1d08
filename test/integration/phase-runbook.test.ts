import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, OUTSIDER, startTestBot, type TestBot } from '../support/bot.js';
import { sendJson, textOf } from '../support/http.js';

let t: TestBot;
beforeAll(async () => {
  t = await startTestBot();
});
afterAll(async () => {
  await t.stop();
});

describe('/phase and /runbook', () => {
  it('shows the phase read from the live flags', async () => {
    const before = await t.client.slashCommand({ command: '/phase', text: 'status', userId: OUTSIDER });
    expect(textOf(before.body as never)).toContain('Phase 0 — Pre-Deployment');
    for (const flag of ['adaptive_timing', 'timing_calibration', 'retry_logic', 'flag_validation']) {
      await sendJson(
        'PUT',
        `${t.url}/api/v1/features/${flag}`,
        { enabled: true, reason: 'phase 1' },
        { authorization: `Bearer ${API_TOKEN}` },
      );
    }
    const after = await t.client.slashCommand({ command: '/phase', text: 'status', userId: OUTSIDER });
    const text = textOf(after.body as never);
    expect(text).toContain('Phase 1 — Foundation');
    expect(text).toContain('`intelligent_ordering`, `urgent_first`');
    expect(t.slack.violations).toEqual([]);
  });

  it('lists and shows runbooks, and names the known ones for an unknown name', async () => {
    const list = await t.client.slashCommand({ command: '/runbook', text: 'list', userId: OUTSIDER });
    expect(textOf(list.body as never)).toContain('`high-latency`');
    const show = await t.client.slashCommand({
      command: '/runbook',
      text: 'show MessagingHighLatency',
      userId: OUTSIDER,
    });
    expect(textOf(show.body as never)).toContain('turn `adaptive_timing` off');
    const unknown = await t.client.slashCommand({
      command: '/runbook',
      text: 'show latency',
      userId: OUTSIDER,
    });
    expect(textOf(unknown.body as never)).toContain('Runbooks: high-latency, feature-flag-rollback');
  });
});

describe('runbooks from the config file', () => {
  it('replace the seed runbooks in list and show', async () => {
    const bot = await startTestBot({
      configYaml: `access: { operators: [U0OPERATOR] }
runbooks:
  - name: queue-backlog
    title: Queue backlog
    summary: The delivery queue keeps growing.
    steps:
      - { kind: manual, title: Look, text: Check the consumers. }
`,
    });
    try {
      const list = textOf(
        (await bot.client.slashCommand({ command: '/runbook', text: 'list', userId: OUTSIDER }))
          .body as never,
      );
      expect(list).toContain('`queue-backlog` — Queue backlog');
      expect(list).not.toContain('high-latency');
      const show = textOf(
        (await bot.client.slashCommand({ command: '/runbook', text: 'show queue-backlog', userId: OUTSIDER }))
          .body as never,
      );
      expect(show).toContain('1. Look: Check the consumers.');
    } finally {
      await bot.stop();
    }
  });
});
