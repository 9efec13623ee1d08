/**
 * `npm run local:ha` as a person runs it: the script starts, builds, prints both replicas with their
 * pids and URLs and which one leads, answers `status` on stdin, `kill` SIGKILLs the leader and the
 * other takes over, and Ctrl-C (SIGINT) stops every process it started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/bot.js';
import { eventually } from '../support/http.js';

let harness: ChildProcess | undefined;
let output = '';
const startedPids = () => [...output.matchAll(/replica-[ab]: started, pid (\d+)/g)].map((m) => Number(m[1]));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(() => {
  // Only on failure is anything left: the harness, then the bots it started, by pid.
  if (harness?.exitCode === null) harness.kill('SIGKILL');
  for (const pid of startedPids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

describe('npm run local:ha', () => {
  it(
    'starts two replicas, reports them, and Ctrl-C stops them all',
    async () => {
      harness = spawn(process.execPath, ['--import', 'tsx', 'scripts/local-ha.ts'], {
        env: { ...process.env, LOG_LEVEL: 'warn' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => harness!.on('exit', (code) => resolve(code)));
      harness.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      harness.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });

      await eventually(() => {
        expect(output).toMatch(/replica-a: started, pid \d+, http:\/\/127\.0\.0\.1:\d+/);
        expect(output).toMatch(/replica-b: started, pid \d+, http:\/\/127\.0\.0\.1:\d+/);
        expect(output).toContain('Type a command and Enter');
      }, 60_000);
      expect(output).toMatch(/KUBECONFIG=\S+ kubectl -n switchyard get lease,configmaps -w/);
      const urls = [...output.matchAll(/(replica-[ab]): (http:\/\/127\.0\.0\.1:\d+) {2}\(pid/g)].map(
        (m) => m[2],
      );
      expect(new Set(urls).size).toBe(2);

      harness.stdin!.write('status\n');
      await eventually(() => {
        expect(output).toMatch(/replica-a {2,}\S+ +\S+ +http:\/\/127\.0\.0\.1:\d+/);
        expect(output).toMatch(/replica-b {2,}\S+ +\S+ +http:\/\/127\.0\.0\.1:\d+/);
      }, 30_000);

      // One of them leads; killed, the other takes over (after the Lease runs out: up to ~17 s).
      await eventually(() => expect(output).toMatch(/replica-[ab] \(pid \d+\) is the LEADER/), 120_000);
      harness.stdin!.write('kill\n');
      await eventually(() => expect(output).toMatch(/replica-[ab] \(pid \d+\) now LEADS/), 120_000);

      harness.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output).toContain('stopping both replicas');
      const pids = startedPids();
      expect(pids.length).toBeGreaterThanOrEqual(2);
      expect(pids.filter(alive)).toEqual([]);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
