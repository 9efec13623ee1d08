import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROCESS_TEST_TIMEOUT_MS, spawnBot, tempDir } from '../support/bot.js';
import { eventually } from '../support/http.js';

const run = promisify(execFile);
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !/^(SLACK_|FLAG_API_TOKEN|SWITCHYARD_CONFIG|PORT|STATE_DIR)/.test(key),
  ),
) as Record<string, string>;

describe('local mode (npm start with no configuration)', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('starts against the embedded Slack emulator and the CLI drives it as an operator', async () => {
    const stateDir = tempDir();
    const env = { ...CLEAN_ENV, STATE_DIR: stateDir, PORT: '0' };
    const bot = await spawnBot(env, 120_000);
    try {
      // One plain sentence: the sandbox URL and the CLI hint, with the STATE_DIR it needs.
      const ready = bot.logs
        .map((line) => (line.startsWith('{') ? (JSON.parse(line) as { msg?: string }).msg : undefined))
        .find((msg) => msg?.startsWith('Switchyard is running locally'));
      expect(ready).toBe(
        `Switchyard is running locally: open ${bot.url}/sandbox in a browser, or try STATE_DIR=${stateDir} npm run cli -- "/flags list" in another terminal.`,
      );
      const cli = (line: string[]) =>
        run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...line], { env });
      const list = await cli(['/flags list']);
      expect(list.stdout).toContain('Feature flags — 9 of 22 on');
      expect(list.stdout).toContain('`circuit_breaker` on');

      const enable = await cli(['/flags', 'enable', 'retry-logic', 'local', 'test']);
      expect(enable.stdout).toContain('Done: `retry_logic` on');
      expect(enable.stdout).toContain('posted in C0INCIDENTS');
      expect(enable.stdout).toContain('@U0LOCAL changed flags in Slack: `retry_logic` on.');

      const ask = await cli(['/flags disable-all']);
      const click = /npm run cli -- click (switchyard\.confirm) (\S+)/.exec(ask.stdout);
      expect(click).not.toBeNull();
      const confirmed = await cli(['click', click![1]!, click![2]!]);
      expect(confirmed.stdout).toContain('Kill switch');
      const after = await cli(['/flags get retry_logic']);
      expect(after.stdout).toContain('*retry_logic* is *off*');
    } finally {
      bot.child.kill('SIGTERM');
      await bot.exited;
    }
  });

  it('runs from the README command `npm start` (the compiled build), and stops cleanly on SIGTERM', async () => {
    const stateDir = tempDir();
    const child = spawn('npm', ['start', '--silent'], {
      env: { ...CLEAN_ENV, STATE_DIR: stateDir, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    // 'close' comes after the output streams end, so everything the bot wrote is in `output`.
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const url = await eventually(
        () => {
          const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)","sandbox"/.exec(output);
          if (!match) throw new Error(`not started yet:\n${output}`);
          return match[1]!;
        },
        PROCESS_TEST_TIMEOUT_MS,
        200,
      );
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      const flags = (await (await fetch(`${url}/api/v1/features`)).json()) as { flags: unknown[] };
      expect(flags.flags).toHaveLength(22);
    } finally {
      // npm runs node in a child: signal the whole group, as a terminal's Ctrl-C would.
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
    expect(output).toContain('"msg":"stopped"');
  });

  it('stops with one line naming a bad variable', async () => {
    const failed = await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...CLEAN_ENV, PORT: 'eighty', STATE_DIR: tempDir() },
    }).catch((error: { code: number; stderr: string }) => error);
    expect('code' in failed && failed.code).toBe(78);
    expect((failed as { stderr: string }).stderr.trim()).toBe(
      'switchyard: configuration error: environment variable PORT: expected a port number between 1 and 65535, got "eighty"',
    );
  });
});
