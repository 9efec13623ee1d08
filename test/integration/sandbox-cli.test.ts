import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSession } from '../../src/local-session.js';
import { type BotProcess, spawnBot, tempDir } from '../support/bot.js';

/**
 * The CLI's scenario commands against a local bot (`src/main.ts` with nothing configured): each call
 * returns once the bot has finished handling it, so what it prints is the bot's whole answer.
 */
const run = promisify(execFile);
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) =>
      !/^(SLACK_|FLAG_API_TOKEN|SWITCHYARD_CONFIG|PORT|STATE_DIR|KUBECONFIG|PROMETHEUS_URL|ALERTMANAGER_)/.test(
        key,
      ),
  ),
) as Record<string, string>;

let bot: BotProcess;
let stateDir: string;
/** Its own temp dir, so the "last local bot started here" pointer is this test's alone. */
let tmp: string;

function cli(args: string[], env: Record<string, string> = { STATE_DIR: stateDir }) {
  return run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: { ...CLEAN_ENV, TMPDIR: tmp, ...env },
  }).catch((error: { code: number; stdout: string; stderr: string }) => error);
}

/** The ts the CLI printed for the channel post whose text contains `marker`. */
function tsOf(output: string, marker: string): string {
  const posts = output.split(/^--- /m).filter((part) => part.includes(marker));
  const ts = posts.map((part) => /\(ts (\d+\.\d+)\)/.exec(part)?.[1]).find(Boolean);
  if (!ts) throw new Error(`no post with "${marker}" in:\n${output}`);
  return ts;
}

beforeAll(async () => {
  stateDir = tempDir();
  tmp = tempDir('switchyard-tmp-');
  bot = await spawnBot({ ...CLEAN_ENV, TMPDIR: tmp, STATE_DIR: stateDir, PORT: '0' }, 120_000);
}, 180_000);

afterAll(async () => {
  bot?.child.kill('SIGTERM');
  await bot?.exited;
});

describe('npm run cli against the local bot', () => {
  it('says plainly that a mistyped command is not one, with the nearest', async () => {
    const answer = await cli(['/flgs list']);
    expect('code' in answer && answer.code).toBe(1);
    expect(answer.stderr.trim()).toBe('`/flgs` is not a Switchyard command. Did you mean `/flags`?');
  }, 60_000);

  it('finds the bot started with a custom STATE_DIR without it being exported', async () => {
    const answer = await cli(['/flags get retry_logic'], {});
    expect(answer.stdout).toContain('*retry_logic* is *off*');
  }, 60_000);

  it('fires and resolves a seed alert as Alertmanager would, with the token local mode made', async () => {
    const session = JSON.parse(readFileSync(join(stateDir, 'local-session.json'), 'utf8')) as LocalSession;
    expect(bot.logs.join('\n')).toContain(`Bearer ${session.webhookToken}`);
    const refused = await fetch(`${session.botUrl}/alertmanager`, { method: 'POST', body: '{}' });
    expect(refused.status).toBe(401);

    const fired = await cli(['alert', 'fire', 'MessagingSystemDown']);
    expect(fired.stdout).toContain('SEV1 firing (1): MessagingSystemDown - Messaging system is down');
    expect(fired.stdout).toContain('posted in C0INCIDENTS');
    const resolved = await cli(['alert', 'resolve', 'MessagingSystemDown']);
    expect(resolved.stdout).toMatch(/updated in C0INCIDENTS[\s\S]*resolved/i);

    const typo = await cli(['alert', 'fire', 'MessagingSystemDwn']);
    expect('code' in typo && typo.code).toBe(1);
    expect(typo.stderr).toContain('Did you mean MessagingSystemDown?');
  }, 120_000);

  it('approves a phase advance with reactions: blocked by an unhealthy Prometheus, then passes', async () => {
    expect((await cli(['prometheus', 'unhealthy'])).stdout).toContain('as unhealthy');
    const first = await cli(['/phase advance --override', 'try', 'it']);
    const request = tsOf(first.stdout, 'Phase advance');
    await cli(['react', request, 'white_check_mark', '--as', 'approver-1']);
    const blocked = await cli(['react', request, 'white_check_mark', '--as', 'approver-2']);
    expect(blocked.stdout).toContain('Blocked by the gate checks');

    expect((await cli(['prometheus', 'healthy'])).stdout).toContain('as healthy');
    const second = await cli(['/phase advance --override', 'again']);
    const retry = tsOf(second.stdout, 'Phase advance');
    const own = await cli(['react', retry, 'white_check_mark']);
    // The requester's own ✅ shows on the message but does not count.
    expect(own.stdout).toContain('Approved by (0/2)');
    expect(own.stdout).toContain(':white_check_mark: 1');
    await cli(['react', retry, 'white_check_mark', '--as', 'approver-1']);
    const advanced = await cli(['react', retry, 'white_check_mark', '--as', 'approver-2']);
    expect(advanced.stdout).toContain('Advanced to Phase 1');
    expect((await cli(['/phase status'])).stdout).toContain('Phase 1');
  }, 180_000);

  it('watch prints thread updates as they happen', async () => {
    const watcher = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'watch'], {
      env: { ...CLEAN_ENV, TMPDIR: tmp, STATE_DIR: stateDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const waitFor = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => lines.some((line) => line.includes(text)) && resolve();
        check();
        reader.on('line', check);
      });
    const reader = createInterface({ input: watcher.stdout! });
    reader.on('line', (line) => lines.push(line));
    try {
      await waitFor('showing what changes from now on');
      const rollback = await cli(['/rollback deployment messaging-core']);
      await cli(['click', 'switchyard.confirm']);
      expect(rollback.stdout).toContain('messaging-core');
      await waitFor('in the thread of');
      expect(lines.join('\n')).toMatch(/messaging-core/);
    } finally {
      watcher.kill('SIGTERM');
    }
  }, 180_000);
});
