import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_FLAGS } from '../../src/core/flags/catalog.js';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import {
  API_TOKEN,
  BOT_TOKEN,
  DEFAULT_CONFIG,
  PROCESS_TEST_TIMEOUT_MS,
  spawnBot,
  tempDir,
  testEnv,
} from '../support/bot.js';
import { getJson } from '../support/http.js';
import { seededRandom } from '../support/random.js';

let slack: SlackEmulator;
beforeAll(async () => {
  slack = new SlackEmulator({ botToken: BOT_TOKEN });
  await slack.start();
});
afterAll(async () => {
  await slack.stop();
});

function setup() {
  const stateDir = tempDir();
  const configPath = join(stateDir, 'switchyard.yml');
  writeFileSync(configPath, DEFAULT_CONFIG);
  return { stateDir, env: testEnv(slack, stateDir, configPath) };
}

describe('crash safety of flag changes', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('after SIGKILL in a burst of changes, the state file is valid and equals the audit log', async () => {
    const { stateDir, env } = setup();
    const first = await spawnBot(env);
    // Flags with no rules between them, so every write is accepted and each one is audited.
    const free = [
      'adaptive_timing',
      'retry_logic',
      'flag_validation',
      'intelligent_ordering',
      'metrics_collection',
      'dashboard',
    ];
    const random = seededRandom('crash-recovery burst');
    let sent = 0;
    let fortySent: () => void = () => {};
    const reachedForty = new Promise<void>((resolve) => {
      fortySent = resolve;
    });
    const burst = async (worker: number) => {
      for (let i = 0; ; i++) {
        const name = free[(worker + i) % free.length]!;
        try {
          await fetch(`${first.url}/api/v1/features/${name}`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ enabled: random.next() < 0.5, reason: `burst ${worker}/${i}` }),
          });
          if (++sent === 40) fortySent();
        } catch {
          return; // the process is gone
        }
      }
    };
    const workers = Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(burst));
    // Kill mid-burst once a fair number of writes got through, however slow the machine is.
    await Promise.race([reachedForty, workers]);
    first.child.kill('SIGKILL');
    await workers;
    await first.exited;
    expect(sent).toBeGreaterThan(20);

    const second = await spawnBot(env);
    try {
      const audit = readFileSync(join(stateDir, 'flags', 'audit.jsonl'), 'utf8');
      const complete = audit
        .slice(0, audit.lastIndexOf('\n') + 1)
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(complete.length).toBeGreaterThan(10);
      const lastValues: Record<string, boolean> = Object.fromEntries(
        SEED_FLAGS.map((flag) => [flag.key, flag.defaultEnabled]),
      );
      for (const entry of complete) lastValues[entry.flag] = entry.after;

      const state = JSON.parse(readFileSync(join(stateDir, 'flags', 'flags.json'), 'utf8'));
      expect(state.values).toEqual(lastValues);
      expect(state.seq).toBe(complete[complete.length - 1].seq);
      const served = (await getJson(`${second.url}/api/v1/features`)).body.flags as Array<{
        name: string;
        enabled: boolean;
      }>;
      expect(Object.fromEntries(served.map((flag) => [flag.name, flag.enabled]))).toEqual(lastValues);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('on SIGTERM finishes what it is doing and exits 0', async () => {
    const { env } = setup();
    const bot = await spawnBot(env);
    const inFlight = fetch(`${bot.url}/api/v1/features/retry_logic`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: true, reason: 'before shutdown' }),
    });
    const response = await inFlight;
    bot.child.kill('SIGTERM');
    expect(response.status).toBe(200);
    expect(await bot.exited).toBe(0);
    expect(bot.logs.join('\n')).toContain('shutting down');
    expect(bot.logs.join('\n')).toContain('"msg":"stopped"');
  });
});
