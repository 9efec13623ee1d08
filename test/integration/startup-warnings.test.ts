/**
 * Start-up tells what will not work (issue 10, item 6): one warning line each in the log and, once,
 * in the channel, for empty approvers, an escalation chain without targets, gates without
 * PROMETHEUS_URL, and rollback.deployments naming Deployments the cluster does not have.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { CHANNEL, OPERATOR, startTestBot, type TestBot, tempDir } from '../support/bot.js';
import { startSeededCluster } from '../support/kube.js';

const running: TestBot[] = [];
const clusters: KubeEmulator[] = [];
afterEach(async () => {
  for (const bot of running.splice(0)) await bot.stop();
  for (const kube of clusters.splice(0)) await kube.stop();
});

/** Everything in order but what a test takes out. */
const FINE = {
  approvers: `  approvers: [${OPERATOR}]`,
  tiers: '  tiers:\n    - { after: 15m, notify: [U0TEAMLEAD] }',
  gates: 'gates: []',
  deployments: 'rollback:\n  deployments: [messaging-core]',
};

function config(parts: Partial<typeof FINE>): string {
  const { approvers, tiers, gates, deployments } = { ...FINE, ...parts };
  return [`access:\n  operators: [${OPERATOR}]`, approvers, 'escalation:', tiers, gates, deployments]
    .filter(Boolean)
    .join('\n');
}

async function start(configYaml: string, options: { kube?: KubeEmulator; stateDir?: string } = {}) {
  const t = await startTestBot({ configYaml, startupWarnings: 'announce', ...options });
  running.push(t);
  await t.bot.settled(); // the report is tracked work: logged and posted by now
  return t;
}

const warningsLogged = (t: TestBot) =>
  t.logs.entries.filter((entry) => typeof entry.warning === 'string').map((e) => [e.warning, e.msg]);
const channelNotes = (t: TestBot) =>
  t.slack.messages(CHANNEL).filter((m) => !m.thread_ts && (m.text ?? '').includes('will not work'));

describe('start-up warnings', () => {
  it('empty access.approvers: one log line and one channel line', async () => {
    const t = await start(config({ approvers: '  approvers: []' }));
    const line =
      '`access.approvers` is empty: nobody can approve a phase advance, so `/phase advance` cannot complete.';
    expect(warningsLogged(t)).toEqual([['approvers-empty', line]]);
    expect(channelNotes(t).map((m) => m.text)).toEqual([
      `:warning: Configuration that will not work as it stands:\n• ${line}`,
    ]);
  });

  it('an escalation chain with no targets', async () => {
    const t = await start(
      config({ tiers: '  tiers:\n    - { after: 15m }\n    - { after: 60m, notify: [] }' }),
    );
    const line = '`escalation.tiers` notify nobody: an unacknowledged sev1 escalates to no one.';
    expect(warningsLogged(t)).toEqual([['escalation-no-targets', line]]);
    expect(channelNotes(t)).toHaveLength(1);
    expect(channelNotes(t)[0]!.text).toContain(line);
  });

  it('the seed chain (no targets by default) is a warning too', async () => {
    const t = await start(config({ tiers: '' }).replace('escalation:\n', ''));
    expect(warningsLogged(t).map(([key]) => key)).toEqual(['escalation-no-targets']);
  });

  it('gates configured without PROMETHEUS_URL', async () => {
    const t = await start(config({ gates: '' })); // the seed's gates
    const logged = warningsLogged(t);
    expect(logged.map(([key]) => key)).toEqual(['gates-without-prometheus']);
    expect(logged[0]![1]).toMatch(
      /^`gates` are configured \(error rate, p95 latency.*\) but `PROMETHEUS_URL` is not set: phase advances cannot check them\.$/,
    );
    expect(channelNotes(t)[0]!.text).toContain('`PROMETHEUS_URL` is not set');
  });

  it('rollback.deployments naming a Deployment the cluster does not have', async () => {
    const kube = await startSeededCluster();
    clusters.push(kube);
    const t = await start(
      config({ deployments: 'rollback:\n  deployments: [messaging-core, messaging-ghost]' }),
      { kube },
    );
    const logged = warningsLogged(t);
    expect(logged.map(([key]) => key)).toEqual(['rollback-deployments-missing']);
    expect(logged[0]![1]).toContain('does not have: messaging-ghost.');
    expect(logged[0]![1]).not.toContain('messaging-core,');
    expect(channelNotes(t)[0]!.text).toContain('messaging-ghost');
  });

  it('says nothing when all is well, and says the same warnings in the channel only once across restarts', async () => {
    const clean = await start(config({}));
    expect(warningsLogged(clean)).toEqual([]);
    expect(channelNotes(clean)).toEqual([]);

    const stateDir = tempDir('switchyard-warnings-');
    const first = await start(config({ approvers: '  approvers: []' }), { stateDir });
    expect(channelNotes(first)).toHaveLength(1);
    await first.stop();
    running.splice(running.indexOf(first), 1);
    const again = await start(config({ approvers: '  approvers: []' }), { stateDir });
    expect(warningsLogged(again).map(([key]) => key)).toEqual(['approvers-empty']); // logged at every start
    expect(channelNotes(again)).toEqual([]); // its own emulator: nothing posted this time
  });
});
