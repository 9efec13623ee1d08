import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedCall } from '../../src/emulators/slack/emulator.js';
import { API_TOKEN, CHANNEL, OPERATOR, PROCESS_TEST_TIMEOUT_MS } from '../support/bot.js';
import {
  type HaSetup,
  holderOf,
  leaderAmong,
  postAlert,
  type Replica,
  roleOf,
  STATE_NAMESPACE,
  startHa,
  succeeded,
  TEST_LEASE,
} from '../support/ha.js';
import { eventually, getJson, sendJson } from '../support/http.js';
import { firing, notification } from '../unit/alerts/builders.js';

/** Tier 1 soon after the alert, tier 2 late enough to kill the leader just before it. */
const TIER1_MS = 6_000;
const TIER2_MS = 20_000;
const CONFIG = `
access:
  operators: [${OPERATOR}]
escalation:
  oncall: S0ONCALL
  tiers:
    - { after: ${TIER1_MS / 1000}s, notify: [U0TEAMLEAD] }
    - { after: ${TIER2_MS / 1000}s, notify: [U0ENGMGR] }
`;

let ha: HaSetup;
beforeAll(async () => {
  ha = await startHa(CONFIG);
}, PROCESS_TEST_TIMEOUT_MS);
afterAll(async () => {
  await ha?.stop();
});

function alertGroup(alertname: string) {
  const labels = { alertname };
  return notification([firing(`${alertname}-1`, Date.now(), { alertname })], {
    groupKey: `{}:{alertname="${alertname}"}`,
    groupLabels: labels,
    commonLabels: labels,
  });
}

const posts = () => ha.slack.calls('chat.postMessage').filter(succeeded);
const topLevel = (alertname: string) =>
  posts().filter(
    (call) => call.params.channel === CHANNEL && !call.params.thread_ts && textOf(call).includes(alertname),
  );
const dmsTo = (user: string, alertname: string) =>
  posts().filter((call) => call.params.channel === user && textOf(call).includes(alertname));
const textOf = (call: RecordedCall) => JSON.stringify(call.params);

async function running(): Promise<{ leader: Replica; follower: Replica }> {
  for (const replica of ha.replicas) {
    if (replica.process.child.exitCode !== null) await ha.start(replica.name);
  }
  const { leader, followers } = await leaderAmong(ha.replicas);
  return { leader, follower: followers[0]! };
}

describe('two replicas on Kubernetes state', () => {
  it(
    'pings on-call and each tier exactly once, by the leader; a leader killed just before a tier is due: the other sends it exactly once, within 15 s of its time',
    async () => {
      const { leader, follower } = await running();
      const sentAt = Date.now();
      expect((await postAlert(leader, alertGroup('HaEscalation'))).status).toBe(200);

      // The group's message (which pings on-call for a sev1) and tier 1, by the leader.
      const message = await ha.slack.waitForCall(
        'chat.postMessage',
        (call) => succeeded(call) && call.params.channel === CHANNEL && textOf(call).includes('HaEscalation'),
        30_000,
      );
      expect(textOf(message)).toContain('S0ONCALL');
      expect(holderOf(message)).toBe(leader.name);
      const tier1 = await ha.slack.waitForCall(
        'chat.postMessage',
        (call) =>
          succeeded(call) && call.params.channel === 'U0TEAMLEAD' && textOf(call).includes('HaEscalation'),
        60_000,
      );
      expect(holderOf(tier1)).toBe(leader.name);

      // Kill the leader a moment before tier 2 is due (the tier counts from receipt, after `sentAt`).
      const dueAt = sentAt + TIER2_MS;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueAt - 2_500 - Date.now())));
      expect(dmsTo('U0ENGMGR', 'HaEscalation')).toHaveLength(0);
      await ha.kill(leader);

      const tier2 = await ha.slack.waitForCall(
        'chat.postMessage',
        (call) =>
          succeeded(call) && call.params.channel === 'U0ENGMGR' && textOf(call).includes('HaEscalation'),
        60_000,
      );
      expect(holderOf(tier2)).toBe(follower.name);
      expect((await roleOf(follower)).role).toBe('leader');
      // Within 15 s of its time (the tier fell due no earlier than `dueAt`).
      expect(tier2.at - dueAt).toBeLessThanOrEqual(15_000);

      // Exactly once each: the group's message, tier 1 and tier 2, also once the new leader has
      // taken over the queue the old one left (it adopts rather than resends).
      await eventually(async () => {
        const { role } = await roleOf(follower);
        if (role !== 'leader') throw new Error('not leading');
      });
      await ha.start(leader.name);
      await leaderAmong(ha.replicas);
      expect(topLevel('HaEscalation')).toHaveLength(1);
      expect(dmsTo('U0TEAMLEAD', 'HaEscalation')).toHaveLength(1);
      expect(dmsTo('U0ENGMGR', 'HaEscalation')).toHaveLength(1);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'a webhook accepted by the follower and a flag change made through it are posted exactly once, by the leader',
    async () => {
      const { leader, follower } = await running();
      expect((await postAlert(follower, alertGroup('HaViaFollower'))).status).toBe(200);
      const message = await ha.slack.waitForCall(
        'chat.postMessage',
        (call) =>
          succeeded(call) && call.params.channel === CHANNEL && textOf(call).includes('HaViaFollower'),
        30_000,
      );
      expect(holderOf(message)).toBe(leader.name);

      const put = await sendJson(
        'PUT',
        `${follower.url}/api/v1/features/adaptive_timing`,
        { enabled: true, reason: 'HA test via the follower' },
        { authorization: `Bearer ${API_TOKEN}` },
      );
      expect(put.status).toBe(200);
      expect((await getJson(`${leader.url}/api/v1/features/adaptive_timing`)).body.enabled).toBe(true);
      const scraped = await (await fetch(`${leader.url}/metrics`)).text();
      expect(scraped).toMatch(/switchyard_flag_enabled\{flag="adaptive_timing"[^}]*\} 1/);
      const announcement = await ha.slack.waitForCall(
        'chat.postMessage',
        (call) =>
          succeeded(call) &&
          call.params.channel === CHANNEL &&
          textOf(call).includes('HA test via the follower'),
        30_000,
      );
      expect(holderOf(announcement)).toBe(leader.name);

      // Barrier: a later post by the leader means both were sent before it, and never again.
      expect((await postAlert(follower, alertGroup('HaBarrier'))).status).toBe(200);
      await ha.slack.waitForCall(
        'chat.postMessage',
        (call) => succeeded(call) && textOf(call).includes('HaBarrier'),
        30_000,
      );
      expect(topLevel('HaViaFollower')).toHaveLength(1);
      expect(posts().filter((call) => textOf(call).includes('HA test via the follower'))).toHaveLength(1);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'concurrent flag changes on both replicas: none is lost',
    async () => {
      const { leader, follower } = await running();
      const flags = ['retry_logic', 'flag_validation', 'intelligent_ordering', 'timing_fallback'];
      const targets = [leader, follower];
      const answers = await Promise.all(
        flags.flatMap((flag, index) =>
          [0, 1].map((turn) =>
            sendJson(
              'PUT',
              `${targets[(index + turn) % 2]!.url}/api/v1/features/${flag}`,
              // Each flag set by both replicas at once to the same value: one changes it, one finds it done.
              { enabled: flag !== 'timing_fallback', reason: `concurrent ${flag}` },
              { authorization: `Bearer ${API_TOKEN}` },
            ),
          ),
        ),
      );
      for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      for (const replica of targets) {
        const all = (await getJson(`${replica.url}/api/v1/features`)).body.flags as Array<{
          name: string;
          enabled: boolean;
        }>;
        const enabled = (name: string) => all.find((flag) => flag.name === name)?.enabled;
        expect(enabled('retry_logic')).toBe(true);
        expect(enabled('flag_validation')).toBe(true);
        expect(enabled('intelligent_ordering')).toBe(true);
        expect(enabled('timing_fallback')).toBe(false);
      }
      // The audit holds each change exactly once (the second request of each pair changed nothing).
      const state = ha.kube.get('ConfigMap', STATE_NAMESPACE, 'switchyard-flags');
      const audit = JSON.parse(state?.data?.['audit.json'] ?? '[]') as Array<{
        flag: string;
        reason?: string;
      }>;
      for (const flag of flags) {
        expect(
          audit.filter((entry) => entry.flag === flag && entry.reason === `concurrent ${flag}`),
        ).toHaveLength(1);
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'a leader stopped with SIGTERM releases the Lease on its way out: the other takes it without waiting for it to expire',
    async () => {
      const { leader, follower } = await running();
      const lease = () => ha.kube.get('Lease', STATE_NAMESPACE, 'switchyard-leader')!;
      const renewedBefore = Date.parse(String(lease().spec?.renewTime));
      leader.process.child.kill('SIGTERM');
      expect(await leader.process.exited).toBe(0);
      expect(leader.process.logs.join('\n')).toContain('released the Lease');
      await eventually(async () => expect((await roleOf(follower)).role).toBe('leader'), 30_000);
      // Taken before the old leader's last renewal could have run out: it was released, not expired.
      const taken = lease().spec!;
      expect(taken.holderIdentity).toBe(follower.name);
      expect(Date.parse(String(taken.acquireTime)) - renewedBefore).toBeLessThan(TEST_LEASE.leaseDuration);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'a leader cut off from the API server stops sending before its Lease expires; the new leader never overlaps it',
    async () => {
      const { leader, follower } = await running();
      ha.kube.partition(leader.user);
      try {
        // Alerts keep coming, to the follower, while the old leader is cut off.
        let sent = 0;
        const until = Date.now() + 60_000;
        let takenOver = false;
        while (!takenOver && Date.now() < until) {
          await postAlert(follower, alertGroup(`HaPartition${sent++}`)).catch(() => undefined);
          takenOver = posts().some(
            (call) => holderOf(call) === follower.name && textOf(call).includes('HaPartition'),
          );
          if (!takenOver) await new Promise((resolve) => setTimeout(resolve, 250));
        }
        expect(takenOver).toBe(true);
      } finally {
        ha.kube.heal(leader.user);
      }
      // Every post made under the old holder comes before the first under the new one.
      const byHolder = posts().filter((call) => holderOf(call) !== undefined);
      const firstOfNew = byHolder.findIndex(
        (call) => holderOf(call) === follower.name && call.seq > 0 && textOf(call).includes('HaPartition'),
      );
      const lastOfOld = byHolder.findLastIndex((call) => holderOf(call) === leader.name);
      expect(lastOfOld).toBeLessThan(firstOfNew);
      // And the old leader said it stopped leading.
      await eventually(() => expect(leader.process.logs.join('\n')).toMatch(/no longer leads/));
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
