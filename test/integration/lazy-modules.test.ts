import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import { BOT_TOKEN, DEFAULT_CONFIG, PROCESS_TEST_TIMEOUT_MS, tempDir, testEnv } from '../support/bot.js';
import { startSeededCluster } from '../support/kube.js';

/**
 * The bot as `npm start` runs it (the built bundle) loads `@kubernetes/client-node` only when a
 * cluster is configured: the client is most of the start time and memory of a bot without one.
 * What a start loaded is traced by a module-loader hook; which built file holds the client is read
 * from the build's own metafile, so the check follows the bundle as it is.
 */
let slack: SlackEmulator;
let kube: KubeEmulator;
const running: ChildProcess[] = [];

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit' });
  slack = new SlackEmulator({ botToken: BOT_TOKEN });
  await slack.start();
  kube = await startSeededCluster();
}, 180_000);

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await slack?.stop();
  await kube?.stop();
});

/** The built files that contain the Kubernetes client's sources. */
function clientFiles(): string[] {
  const meta = JSON.parse(readFileSync('dist/meta.json', 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  const files = Object.entries(meta.outputs)
    .filter(([, output]) =>
      Object.keys(output.inputs).some((input) => input.includes('@kubernetes/client-node')),
    )
    .map(([file]) => resolve(file));
  expect(files.length).toBeGreaterThan(0);
  return files;
}

/** Starts the built bot, waits for its ready line, and returns the files of every module it loaded. */
async function modulesLoadedAtStart(extra: Record<string, string>): Promise<string[]> {
  const stateDir = tempDir();
  const configPath = join(stateDir, 'switchyard.yml');
  writeFileSync(configPath, DEFAULT_CONFIG);
  const trace = join(stateDir, 'modules.txt');
  writeFileSync(trace, '');
  const child = spawn(process.execPath, ['--import', './test/support/module-trace.mjs', 'dist/src/main.js'], {
    env: {
      ...process.env,
      ...testEnv(slack, stateDir, configPath, extra),
      HOME: stateDir, // no ~/.kube/config of the machine's
      KUBERNETES_SERVICE_HOST: '',
      LOG_LEVEL: 'info',
      SWITCHYARD_MODULE_TRACE: trace,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.push(child);
  await new Promise<void>((ready, failed) => {
    child.on('exit', (code) => failed(new Error(`the bot exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"msg":"Switchyard is')) ready();
    });
  });
  child.kill('SIGKILL');
  return readFileSync(trace, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith('file:'))
    .map((url) => new URL(url).pathname);
}

describe('lazy loading of the Kubernetes client', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('is not loaded when no cluster is configured', async () => {
    const loaded = await modulesLoadedAtStart({});
    expect(loaded.some((file) => file.endsWith('dist/src/main.js'))).toBe(true);
    const client = clientFiles();
    expect(loaded.filter((file) => client.includes(file))).toEqual([]);
  });

  it('is loaded when a cluster is configured (the trace sees it)', async () => {
    const kubeconfig = kube.writeKubeconfig(join(tempDir(), 'kubeconfig'), 'messaging-system');
    const loaded = await modulesLoadedAtStart({ KUBECONFIG: kubeconfig });
    const client = clientFiles();
    expect(loaded.filter((file) => client.includes(file)).length).toBeGreaterThan(0);
  });
});
