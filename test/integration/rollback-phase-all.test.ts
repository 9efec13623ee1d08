import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { API_TOKEN, OPERATOR, OUTSIDER, startTestBot, type TestBot } from '../support/bot.js';
import { eventually, getJson, sendJson, textOf } from '../support/http.js';
import { releaseImage, startSeededCluster } from '../support/kube.js';
import { ANSWER_TIMEOUT_MS, clickConfirm } from '../support/slack.js';

const NS = 'messaging-system';
let kube: KubeEmulator;
let t: TestBot;

const enable = (flag: string) =>
  sendJson(
    'PUT',
    `${t.url}/api/v1/features/${flag}`,
    { enabled: true, reason: 'setup' },
    { authorization: `Bearer ${API_TOKEN}` },
  );
const enabled = async (flag: string) => (await getJson(`${t.url}/api/v1/features/${flag}`)).body.enabled;
const click = (body: unknown, userId = OPERATOR) => clickConfirm(t.slack, t.client, body, userId);
const image = (name: string) => kube.get('Deployment', NS, name)!.spec.template.spec.containers[0]!.image;

beforeAll(async () => {
  kube = await startSeededCluster();
  await releaseImage(kube, 'messaging-core', 'registry.local/messaging-core:2.0.0');
  t = await startTestBot({ kube, rolloutTiming: { pollMs: 100, updateEveryMs: 300 } });
});
afterAll(async () => {
  await t.stop();
  await kube.stop();
});

describe('/rollback phase', () => {
  it('says there is nothing before phase 0', async () => {
    const reply = await t.client.slashCommand({ command: '/rollback', text: 'phase', userId: OPERATOR });
    expect(textOf(reply.body as never)).toContain('Already at Phase 0');
  });

  it('goes back one phase: the phase’s new features off, baseline flags and earlier phases untouched', async () => {
    for (const flag of [
      'adaptive_timing',
      'timing_calibration',
      'retry_logic',
      'flag_validation',
      'intelligent_ordering',
      'urgent_first',
    ]) {
      expect((await enable(flag)).status).toBe(200);
    }
    const ask = await t.client.slashCommand({
      command: '/rollback',
      text: 'phase ordering regressions',
      userId: OPERATOR,
    });
    const text = textOf(ask.body as never);
    expect(text).toContain('Roll back from Phase 2 — Intelligence to Phase 1 — Foundation?');
    expect(text).toContain('`intelligent_ordering` on → off');
    expect(text).toContain('`urgent_first` on → off');
    expect(text).not.toContain('`dashboard`');
    expect(await enabled('intelligent_ordering')).toBe(true);

    expect(await click(ask.body, OUTSIDER)).toContain('Only operators may do this');
    expect(await enabled('intelligent_ordering')).toBe(true);

    expect(await click(ask.body)).toContain('Back to Phase 1 — Foundation');
    expect(await enabled('intelligent_ordering')).toBe(false);
    expect(await enabled('urgent_first')).toBe(false);
    expect(await enabled('dashboard')).toBe(true);
    expect(await enabled('retry_logic')).toBe(true);
    const status = await t.client.slashCommand({ command: '/phase', text: 'status', userId: OUTSIDER });
    expect(textOf(status.body as never)).toContain('Phase 1 — Foundation');
    const announcement = await t.slack.waitForCall(
      'chat.postMessage',
      (call) => String(call.params.text).includes('rolled the rollout back a phase'),
      ANSWER_TIMEOUT_MS,
    );
    expect(String(announcement.params.text)).toContain('ordering regressions');
    expect(kube.get('ConfigMap', NS, 'messaging-feature-flags')!.data!.MESSAGING_INTELLIGENT_ORDERING).toBe(
      'false',
    );
  });
});

describe('/rollback flags', () => {
  it('is the kill switch under another name: asks, then turns every new feature off', async () => {
    await enable('adaptive_timing');
    const ask = await t.client.slashCommand({
      command: '/rollback',
      text: 'flags timing bug',
      userId: OPERATOR,
    });
    expect(textOf(ask.body as never)).toContain('`adaptive_timing` on → off');
    expect(await enabled('adaptive_timing')).toBe(true);
    expect(await click(ask.body)).toContain('Kill switch: turned off');
    expect(await enabled('adaptive_timing')).toBe(false);
    expect(await enabled('retry_logic')).toBe(false);
    await enable('retry_logic');
  });
});

describe('/rollback all', () => {
  it('lists flags and Deployments, then pulls the kill switch and rolls back what has history', async () => {
    const ask = await t.client.slashCommand({
      command: '/rollback',
      text: 'all total outage',
      userId: OPERATOR,
    });
    const text = textOf(ask.body as never);
    expect(text).toContain('Roll back everything?');
    expect(text).toContain('flag `retry_logic` on → off');
    expect(text).toMatch(
      /Deployment `messaging-core` revision 2 → 1 \(`registry\.local\/messaging-core:1\.0\.0`\)/,
    );
    expect(text).toContain(
      'Deployment `messaging-timing-engine`: left out — `messaging-timing-engine` has no earlier revision',
    );
    expect(image('messaging-core')).toBe('registry.local/messaging-core:2.0.0');

    const done = await click(ask.body);
    expect(done).toContain('Flags: turned off');
    expect(done).toContain('Rolling back `messaging-core` to revision 1');
    expect(await enabled('retry_logic')).toBe(false);
    expect(await enabled('circuit_breaker')).toBe(true);
    await eventually(
      () => expect(image('messaging-core')).toBe('registry.local/messaging-core:1.0.0'),
      10_000,
    );
    expect(t.slack.violations).toEqual([]);
  });

  it('again right after: does not bring back the build the first one removed, and says why', async () => {
    await kube.waitForRollout('messaging-core');
    const reply = await t.client.slashCommand({ command: '/rollback', text: 'all', userId: OPERATOR });
    const text = textOf(reply.body as never);
    // kubectl's rule (undo of an undo) would take revision 2, 2.0.0, back: the bot leaves it out.
    expect(text).toContain('Nothing to roll back');
    expect(text).toContain('`messaging-core` has nothing safe to go back to');
    expect(text).toContain(
      `Skipped revision 2 (\`registry.local/messaging-core:2.0.0\`): a rollback moved away from it (to revision 3) by <@${OPERATOR}> with the bot`,
    );
    expect(text).not.toContain('flag `');
    expect(image('messaging-core')).toBe('registry.local/messaging-core:1.0.0');
  });
});

describe('/rollback all without a cluster', () => {
  it('rolls back only the flags, and says when there is nothing to do', async () => {
    const bare = await startTestBot();
    try {
      const nothing = await bare.client.slashCommand({ command: '/rollback', text: 'all', userId: OPERATOR });
      expect(textOf(nothing.body as never)).toContain(
        'Nothing to roll back: every new feature is already off (no cluster configured',
      );
      await sendJson(
        'PUT',
        `${bare.url}/api/v1/features/retry_logic`,
        { enabled: true, reason: 'x' },
        { authorization: `Bearer ${API_TOKEN}` },
      );
      const ask = await bare.client.slashCommand({ command: '/rollback', text: 'all', userId: OPERATOR });
      expect(textOf(ask.body as never)).toContain('No cluster configured: only the flags are rolled back.');
    } finally {
      await bare.stop();
    }
  });
});
