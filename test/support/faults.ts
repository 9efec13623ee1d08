import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type RunningBot, startBot } from '../../src/bot.js';
import { loadConfig } from '../../src/config/load.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import type { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import { createLogger } from '../../src/logger.js';
import { DEFAULT_CONFIG, testEnv } from './bot.js';

/** A bot in this process whose log lines are kept (the fault tests check what it says). */
export interface LoggedBot {
  bot: RunningBot;
  url: string;
  logs: string[];
  stop(): Promise<void>;
}

export async function startLoggedBot(options: {
  slack: SlackEmulator;
  stateDir: string;
  /** Where the config (and kubeconfig) files go; outside a tiny tmpfs so they never fill it. */
  configDir: string;
  kube?: KubeEmulator;
  configYaml?: string;
}): Promise<LoggedBot> {
  const configPath = join(options.configDir, 'switchyard.yml');
  writeFileSync(configPath, options.configYaml ?? DEFAULT_CONFIG);
  const kubeEnv: Record<string, string> = options.kube
    ? { KUBECONFIG: options.kube.writeKubeconfig(join(options.configDir, 'kubeconfig')) }
    : {};
  const config = loadConfig(testEnv(options.slack, options.stateDir, configPath, kubeEnv));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const bot = await startBot(config, createLogger('info', sink), {
    host: '127.0.0.1',
    clusterSources: {
      kubeconfig: config.env.KUBECONFIG,
      home: options.configDir,
      tokenFile: join(options.configDir, 'no-service-account-token'),
    },
    startupWarnings: 'log', // the channel holds only what the fault tests cause
  });
  return { bot, url: bot.url, logs, stop: () => bot.stop() };
}

/**
 * Mounts a tmpfs of `size` at `dir` (tests run as root). A refusal fails the test with the reason;
 * there is no fallback that would test something else.
 */
export function mountTmpfs(dir: string, size = '64k'): void {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(
      `mounting a ${size} tmpfs at ${dir} was refused (${stderr || (error as Error).message}); the disk-full tests need root (mount -t tmpfs)`,
    );
  }
}

export function unmount(dir: string): void {
  if (!existsSync(dir)) return;
  const result = spawnSync('umount', [dir], { stdio: 'pipe' });
  if (result.status !== 0) spawnSync('umount', ['-l', dir], { stdio: 'pipe' });
  rmSync(dir, { recursive: true, force: true });
}

/** Fills the file system of `dir` to the last byte (dd stops at ENOSPC); returns the filler's path. */
export function fillDisk(dir: string): string {
  const filler = join(dir, 'filler');
  const result = spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1k'], { stdio: 'pipe' });
  const stderr = result.stderr.toString();
  if (!/No space left on device/.test(stderr)) throw new Error(`dd did not fill ${dir}: ${stderr}`);
  return filler;
}

/** Every file under `dir`, relative, recursively. */
export function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? filesUnder(dir, rel) : [rel];
  });
}

/** The audit log's entries (complete lines only). */
export function auditEntries(
  stateDir: string,
): Array<{ seq: number; flag: string; after: boolean; action: string }> {
  const path = join(stateDir, 'flags', 'audit.jsonl');
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}
