import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FLAGS_CONFIGMAP_NAME,
  KubeEmulator,
  MESSAGING_FLAG_DEFAULTS,
  seedMessagingSystem,
} from '../../src/emulators/kube/index.js';
import { API_TOKEN, CHANNEL, DEFAULT_CONFIG, OPERATOR, startTestBot, type TestBot } from '../support/bot.js';
import { eventually, getJson, sendJson, textOf } from '../support/http.js';
import { ANSWER_TIMEOUT_MS, confirmId } from '../support/slack.js';

const NS = 'messaging-system';
const CONFIG = `${DEFAULT_CONFIG}
kubernetes:
  driftCheckInterval: 300ms
  restartOnFlagChange: [messaging-retry-engine]
`;

let kube: KubeEmulator;
let t: TestBot;

const configMap = () => kube.get('ConfigMap', NS, FLAGS_CONFIGMAP_NAME)!;
const data = () => configMap().data ?? {};
const audit = (bot: TestBot) => {
  try {
    return readFileSync(join(bot.stateDir, 'flags', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  } catch {
    return [];
  }
};
const handEdit = (changes: Record<string, string>) => {
  const map = configMap();
  kube.apply({ ...map, data: { ...map.data, ...changes } });
};
const configMapWrites = () =>
  kube.requests.filter((r) => r.resource === 'configmaps' && r.verb !== 'get' && r.verb !== 'list');

beforeAll(async () => {
  kube = new KubeEmulator({ podReadyAfterMs: 100 });
  await kube.start();
  seedMessagingSystem(kube);
  t = await startTestBot({ kube, configYaml: CONFIG });
});
afterAll(async () => {
  await t.stop();
  await kube.stop();
});
afterEach(() => {
  expect(t.slack.violations).toEqual([]);
});

describe('flags in the cluster ConfigMap', () => {
  it('starts without drift when the ConfigMap matches, and is ready with the cluster reachable', async () => {
    expect(audit(t)).toEqual([]);
    const ready = await getJson(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ store: 'ok', slack: 'ok', cluster: 'ok' });
  });

  it('writes a flag enabled from Slack to its ConfigMap key, keeping keys it does not own', async () => {
    const reply = await t.client.slashCommand({
      command: '/flags',
      text: 'enable adaptive_timing canary',
      userId: OPERATOR,
    });
    expect(textOf(reply.body as never)).toContain('Done');
    expect(data().MESSAGING_ADAPTIVE_TIMING).toBe('true');
    expect(data().OTHER_SETTING).toBe('keep-me');
    expect(Object.keys(data())).toHaveLength(Object.keys(MESSAGING_FLAG_DEFAULTS).length + 1);
  });

  it('restarts the configured Deployments after a change, as kubectl rollout restart does', async () => {
    const stamp = await eventually(() => {
      const value = kube.get('Deployment', NS, 'messaging-retry-engine')?.spec.template.metadata
        ?.annotations?.['kubectl.kubernetes.io/restartedAt'];
      if (!value) throw new Error('not restarted yet');
      return value;
    });
    expect(Date.parse(stamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(kube.get('Deployment', NS, 'messaging-core')?.spec.template.metadata?.annotations).toBeUndefined();
  });

  it('writes disable-all to all affected keys in one update', async () => {
    await t.client.slashCommand({ command: '/flags', text: 'enable retry_logic', userId: OPERATOR });
    await t.client.slashCommand({ command: '/flags', text: 'enable exponential_backoff', userId: OPERATOR });
    expect(data().MESSAGING_EXPONENTIAL_BACKOFF).toBe('true');
    kube.requests.length = 0;
    const ask = await t.client.slashCommand({
      command: '/flags',
      text: 'disable-all spike',
      userId: OPERATOR,
    });
    const click = await t.client.blockAction({
      actionId: 'switchyard.confirm',
      value: confirmId(ask.body),
      userId: OPERATOR,
      responseUrl: t.slack.createResponseUrl(),
    });
    const reply = await t.slack.waitForResponse((r) => r.url === click.responseUrl, ANSWER_TIMEOUT_MS);
    expect(textOf(reply.body as never)).toContain('Kill switch');
    expect(configMapWrites().map((r) => [r.verb, r.name, r.status])).toEqual([
      ['update', FLAGS_CONFIGMAP_NAME, 200],
    ]);
    expect(data()).toMatchObject({
      MESSAGING_ADAPTIVE_TIMING: 'false',
      MESSAGING_RETRY_LOGIC: 'false',
      MESSAGING_EXPONENTIAL_BACKOFF: 'false',
      MESSAGING_TIMING_FALLBACK: 'true',
      OTHER_SETTING: 'keep-me',
    });
  });

  it('retries a write that lost a race (409) from a fresh read, keeping the concurrent edit', async () => {
    kube.requests.length = 0;
    kube.latencyMs = 150;
    try {
      const command = t.client.slashCommand({
        command: '/flags',
        text: 'enable flag_validation',
        userId: OPERATOR,
      });
      // The bot's PUT is on its way (held by the latency): someone edits the map by hand meanwhile.
      await eventually(
        () => {
          if (!kube.requests.some((r) => r.verb === 'update' && r.resource === 'configmaps'))
            throw new Error('no update yet');
        },
        5_000,
        5,
      );
      handEdit({ OTHER_SETTING: 'edited-by-hand' });
      const reply = await command;
      expect(textOf(reply.body as never)).toContain('Done');
    } finally {
      kube.latencyMs = 0;
    }
    expect(configMapWrites().map((r) => [r.verb, r.status])).toEqual([
      ['update', 409],
      ['update', 200],
    ]);
    expect(data().MESSAGING_FLAG_VALIDATION).toBe('true');
    expect(data().OTHER_SETTING).toBe('edited-by-hand');
  });

  it('reports a hand edit of an owned key as drift: audit entry via cluster and a channel message, not reverted', async () => {
    const before = audit(t).length;
    handEdit({ MESSAGING_INTELLIGENT_ORDERING: 'true', MESSAGING_DASHBOARD: 'false' });
    const entries = await eventually(() => {
      const fresh = audit(t).slice(before);
      if (fresh.length < 2) throw new Error('no drift recorded yet');
      return fresh;
    }, 15_000);
    expect(
      entries.map((e) => [e.flag, e.before, e.after, e.action, e.via, (e.actor as { id: string }).id]),
    ).toEqual([
      ['intelligent_ordering', false, true, 'drift', 'cluster', 'cluster'],
      ['dashboard', true, false, 'drift', 'cluster', 'cluster'],
    ]);
    const notice = await t.slack.waitForCall(
      'chat.postMessage',
      (call) => String(call.params.text).includes('Flags changed outside Switchyard'),
      ANSWER_TIMEOUT_MS,
    );
    expect(notice.params.channel).toBe(CHANNEL);
    expect(String(notice.params.text)).toContain('`intelligent_ordering` on');
    expect(String(notice.params.text)).toContain(
      `ConfigMap ${NS}/${FLAGS_CONFIGMAP_NAME} edited outside Switchyard`,
    );
    expect(data().MESSAGING_DASHBOARD).toBe('false');
    const get = await t.client.slashCommand({ command: '/flags', text: 'get dashboard', userId: OPERATOR });
    expect(textOf(get.body as never)).toMatch(/is \*off\*.*by a hand edit in the cluster/s);
    const api = await getJson(`${t.url}/api/v1/features/intelligent_ordering`);
    expect(api.body.enabled).toBe(true);
  });

  it('never takes its own slow writes for drift, and records a hand edit made meanwhile exactly once', async () => {
    const before = audit(t).length;
    kube.requests.length = 0;
    // Every API call takes 150 ms: each flag change spans drift checks (every 300 ms), which wait
    // for the flag lock instead of reading the map while the bot's write is half done.
    kube.latencyMs = 150;
    try {
      const enable = t.client.slashCommand({
        command: '/flags',
        text: 'enable adaptive_timing',
        userId: OPERATOR,
      });
      await eventually(
        () => {
          if (!kube.requests.some((r) => r.verb === 'update' && r.resource === 'configmaps'))
            throw new Error('no update yet');
        },
        5_000,
        5,
      );
      handEdit({ MESSAGING_FLAG_VALIDATION: 'false' });
      expect(textOf((await enable).body as never)).toContain('Done');
      const disable = await t.client.slashCommand({
        command: '/flags',
        text: 'disable adaptive_timing',
        userId: OPERATOR,
      });
      expect(textOf(disable.body as never)).toContain('Done');
      await eventually(() => {
        if (!audit(t).some((e) => e.flag === 'flag_validation' && e.action === 'drift'))
          throw new Error('hand edit not recorded yet');
      }, 15_000);
      // A few more checks, with the bot writing again meanwhile.
      await t.client.slashCommand({ command: '/flags', text: 'enable adaptive_timing', userId: OPERATOR });
      // Barrier: three reads of the map after the bot's last write mean at least two whole drift
      // checks ran after it (checks never overlap), so any false drift would be in the audit now.
      const afterLastWrite = kube.requests.length;
      await eventually(() => {
        const reads = kube.requests
          .slice(afterLastWrite)
          .filter((r) => r.resource === 'configmaps' && r.verb === 'get');
        if (reads.length < 3) throw new Error(`only ${reads.length} drift checks since the last write`);
      }, 15_000);
    } finally {
      kube.latencyMs = 0;
    }
    const fresh = audit(t).slice(before);
    expect(fresh).toHaveLength(4);
    expect(fresh.filter((e) => e.flag === 'adaptive_timing').map((e) => [e.action, e.after])).toEqual([
      ['enable', true],
      ['disable', false],
      ['enable', true],
    ]);
    expect(fresh.filter((e) => e.flag === 'flag_validation').map((e) => [e.action, e.via, e.after])).toEqual([
      ['drift', 'cluster', false],
    ]);
    expect(configMapWrites().filter((r) => r.status === 200)).toHaveLength(3);
    expect(data()).toMatchObject({ MESSAGING_ADAPTIVE_TIMING: 'true', MESSAGING_FLAG_VALIDATION: 'false' });
    expect((await getJson(`${t.url}/api/v1/features/flag_validation`)).body.enabled).toBe(false);
  });
});

describe('when the cluster refuses the write', () => {
  it('changes nothing in the bot either, and says why', async () => {
    const undo = kube.deny('update', 'configmaps');
    try {
      const before = audit(t).length;
      const reply = await t.client.slashCommand({
        command: '/flags',
        text: 'enable retry_logic',
        userId: OPERATOR,
      });
      const text = textOf(reply.body as never);
      expect(text).toContain('The cluster did not take the change, so nothing was changed');
      expect(text).toContain(
        'configmaps "messaging-feature-flags" is forbidden: User "system:serviceaccount:messaging-system:switchyard" cannot update',
      );
      expect(audit(t).length).toBe(before);
      expect((await getJson(`${t.url}/api/v1/features/retry_logic`)).body.enabled).toBe(false);
      expect(data().MESSAGING_RETRY_LOGIC).toBe('false');

      const api = await sendJson(
        'PUT',
        `${t.url}/api/v1/features/retry_logic`,
        { enabled: true, reason: 'via api' },
        { authorization: `Bearer ${API_TOKEN}` },
      );
      expect(api.status).toBe(503);
      expect(String(api.body.error)).toContain('The cluster did not take the change');
      expect(audit(t).length).toBe(before);
    } finally {
      undo();
    }
  });
});

describe('the flag ConfigMap at start', () => {
  it('records a difference found at start as drift, and creates a missing ConfigMap from the bot state', async () => {
    const other = new KubeEmulator({ podReadyAfterMs: 50 });
    await other.start();
    try {
      seedMessagingSystem(other);
      const map = other.get('ConfigMap', NS, FLAGS_CONFIGMAP_NAME)!;
      other.apply({
        ...map,
        data: { ...map.data, MESSAGING_RETRY_LOGIC: 'true', MESSAGING_ALERTING: 'maybe' },
      });
      const bot = await startTestBot({ kube: other });
      try {
        expect(audit(bot).map((e) => [e.flag, e.after, e.action, e.via])).toEqual([
          ['retry_logic', true, 'drift', 'cluster'],
        ]);
        await bot.slack.waitForCall(
          'chat.postMessage',
          (call) => String(call.params.text).includes('`MESSAGING_ALERTING: "maybe"`, which is neither'),
          ANSWER_TIMEOUT_MS,
        );
      } finally {
        await bot.stop();
      }

      other.delete('ConfigMap', NS, FLAGS_CONFIGMAP_NAME);
      const fresh = await startTestBot({ kube: other });
      try {
        const created = other.get('ConfigMap', NS, FLAGS_CONFIGMAP_NAME);
        expect(created?.data).toEqual(
          Object.fromEntries(
            Object.entries(MESSAGING_FLAG_DEFAULTS).map(([key, value]) => [key, String(value)]),
          ),
        );
      } finally {
        await fresh.stop();
      }
    } finally {
      await other.stop();
    }
  });
});
