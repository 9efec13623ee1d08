import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAGS_CONFIGMAP_NAME } from '../../src/emulators/kube/index.js';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import { API_TOKEN, BOT_TOKEN, DEFAULT_CONFIG, spawnBot, tempDir, testEnv } from '../support/bot.js';
import { auditEntries, filesUnder, startLoggedBot } from '../support/faults.js';
import { getJson } from '../support/http.js';
import { startSeededCluster } from '../support/kube.js';

/**
 * SIGKILL between each pair of steps of a flag change (`SWITCHYARD_FAILPOINT`), with a cluster. The
 * caller gets no answer, so either outcome is allowed, but after the restart the served value, the
 * audit log, flags.json and the ConfigMap must all agree, and a change must never be taken for
 * someone else's edit of the ConfigMap ("drift").
 */
let slack: SlackEmulator;
beforeAll(async () => {
  slack = new SlackEmulator({ botToken: BOT_TOKEN });
  await slack.start();
});
afterAll(async () => {
  await slack.stop();
});

describe.each([
  { failpoint: 'before-audit', happened: false },
  { failpoint: 'after-audit', happened: true },
  { failpoint: 'after-cluster', happened: true },
  { failpoint: 'after-state', happened: true },
])('SIGKILL at $failpoint', ({ failpoint, happened }) => {
  it('leaves state, audit and ConfigMap agreeing after the restart', async () => {
    const kube = await startSeededCluster();
    const stateDir = tempDir('switchyard-failpoint-');
    const configPath = join(stateDir, 'switchyard.yml');
    writeFileSync(configPath, DEFAULT_CONFIG);
    const env = testEnv(slack, stateDir, configPath, {
      KUBECONFIG: kube.writeKubeconfig(join(stateDir, 'kubeconfig')),
      SWITCHYARD_FAILPOINT: failpoint,
    });
    const configMap = () => kube.get('ConfigMap', 'messaging-system', FLAGS_CONFIGMAP_NAME)?.data ?? {};
    try {
      const first = await spawnBot(env, 120_000);
      const answer = await fetch(`${first.url}/api/v1/features/retry_logic`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ enabled: true, reason: `killed ${failpoint}` }),
      }).then(
        (response) => response.status,
        () => 'no answer',
      );
      expect(await first.exited).toBeNull(); // killed by a signal, not an exit
      expect(answer).toBe('no answer');

      const bot = await startLoggedBot({ slack, stateDir, configDir: stateDir, kube });
      try {
        await bot.bot.settled(); // its start-up work (the warnings' record, say) is written by now
        const served = (await getJson(`${bot.url}/api/v1/features/retry_logic`)).body.enabled;
        const audit = auditEntries(stateDir);
        const audited = audit.filter((entry) => entry.flag === 'retry_logic').at(-1)?.after ?? false;
        const saved = JSON.parse(readFileSync(join(stateDir, 'flags', 'flags.json'), 'utf8')).values
          .retry_logic;
        const inCluster = configMap().MESSAGING_RETRY_LOGIC === 'true';
        expect({ served, audited, saved, inCluster }).toEqual({
          served: happened,
          audited: happened,
          saved: happened,
          inCluster: happened,
        });
        expect(audit.filter((entry) => entry.action === 'drift')).toEqual([]);
        expect(audit.map((entry) => entry.seq)).toEqual(happened ? [1] : []);
        expect(filesUnder(stateDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
        expect(existsSync(join(stateDir, 'quarantine'))).toBe(false);
      } finally {
        await bot.stop();
      }
    } finally {
      await kube.stop();
    }
    // Two bot starts, one of them a spawned process (tsx compiles at start): slow on a busy machine.
  }, 180_000);
});
