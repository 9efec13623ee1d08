/**
 * Real Alertmanager and Prometheus for the integration tests: each runs from its Debian binary on a
 * free loopback port, with a config and data directory of its own under the OS temp dir, clustering
 * off, and is killed (and its directory removed) by `stop()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { requireBinary } from './binaries.js';

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const LOG_LIMIT = 64 * 1024;

/** A free TCP port on 127.0.0.1 (free when asked; the start is retried should another process take it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Daemons still running; killed should the test process exit without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Daemon {
  url: string;
  logs(): string;
  stop(): Promise<void>;
}

/** Spawns `binary` with `args(port)` and waits until `GET /-/ready` answers 200. */
async function startDaemon(name: string, binary: string, args: (port: number) => string[]): Promise<Daemon> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let output = '';
    const child: ChildProcess = spawn(binary, args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-LOG_LIMIT);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', (error) => {
        collect(Buffer.from(String(error)));
        resolve(-1);
      });
    });
    let hasExited = false;
    void exited.then(() => {
      hasExited = true;
    });
    running.add(child);
    void exited.then(() => running.delete(child));

    const stop = async () => {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    };

    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!hasExited && Date.now() < deadline) {
      try {
        const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
        if (response.ok) return { url, logs: () => output, stop };
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    await stop();
    lastError = new Error(
      hasExited
        ? `${name} (${binary}) exited before it was ready on ${url}. Output:\n${output}`
        : `${name} (${binary}) was not ready on ${url} within ${READY_TIMEOUT_MS} ms. Output:\n${output}`,
    );
    if (!/address already in use/i.test(output)) break;
  }
  throw lastError ?? new Error(`${name} did not start`);
}

async function failOnHttpError(response: Response, what: string): Promise<Response> {
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`);
  return response;
}

// ---- Alertmanager -----------------------------------------------------------------------------

export interface AlertmanagerOptions {
  /** Where the `switchyard` webhook receiver posts. */
  webhookUrl: string;
  /** Sent as `Authorization: Bearer …` (written to a credentials file, as in production). */
  bearerToken: string;
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  groupBy?: string[];
  /** The webhook's `max_alerts` (0: no limit). */
  maxAlerts?: number;
  /** A whole config instead of the one-receiver default (the benchmark routes to several receivers). */
  config?: (credentialsFile: string) => Record<string, unknown>;
}

/** An alert as `POST /api/v2/alerts` takes it. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

export interface GettableSilence {
  id: string;
  status: { state: 'active' | 'pending' | 'expired' };
  matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual?: boolean }>;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  createdBy: string;
  comment: string;
}

export interface AlertmanagerHandle {
  url: string;
  configPath: string;
  stop(): Promise<void>;
  /** `POST /api/v2/alerts`. */
  postAlerts(alerts: PostableAlert[]): Promise<void>;
  /** `GET /api/v2/silences`. */
  silences(): Promise<GettableSilence[]>;
  /** Alertmanager's own output so far, for failure messages. */
  logs(): string;
}

export function alertmanagerConfig(
  options: AlertmanagerOptions,
  credentialsFile: string,
): Record<string, unknown> {
  return {
    route: {
      receiver: 'switchyard',
      group_by: options.groupBy ?? ['alertname', 'deployment'],
      group_wait: options.groupWait ?? '1s',
      group_interval: options.groupInterval ?? '2s',
      repeat_interval: options.repeatInterval ?? '1h',
    },
    receivers: [
      {
        name: 'switchyard',
        webhook_configs: [
          {
            url: options.webhookUrl,
            send_resolved: true,
            max_alerts: options.maxAlerts ?? 0,
            http_config: { authorization: { type: 'Bearer', credentials_file: credentialsFile } },
          },
        ],
      },
    ],
  };
}

export async function startAlertmanager(options: AlertmanagerOptions): Promise<AlertmanagerHandle> {
  const binary = requireBinary('alertmanager');
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-alertmanager-'));
  const configPath = join(dir, 'alertmanager.yml');
  const credentialsFile = join(dir, 'webhook-token');
  try {
    await writeFile(credentialsFile, options.bearerToken, { mode: 0o600 });
    const config = options.config?.(credentialsFile) ?? alertmanagerConfig(options, credentialsFile);
    await writeFile(configPath, stringify(config));
    const daemon = await startDaemon('Alertmanager', binary, (port) => [
      `--config.file=${configPath}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=http://127.0.0.1:${port}`,
      '--cluster.listen-address=',
      `--log.level=${process.env.AM_LOG_LEVEL ?? 'warn'}`,
    ]);
    return {
      url: daemon.url,
      configPath,
      logs: daemon.logs,
      async stop() {
        await daemon.stop();
        await rm(dir, { recursive: true, force: true });
      },
      async postAlerts(alerts) {
        await failOnHttpError(
          await fetch(`${daemon.url}/api/v2/alerts`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(alerts),
          }),
          'POST /api/v2/alerts',
        );
      },
      async silences() {
        const response = await failOnHttpError(
          await fetch(`${daemon.url}/api/v2/silences`),
          'GET /api/v2/silences',
        );
        return (await response.json()) as GettableSilence[];
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

// ---- Prometheus -------------------------------------------------------------------------------

export interface PrometheusOptions {
  /** Scrape jobs; each target is `host:port`. */
  scrapeTargets?: Array<{ job: string; targets: string[]; metricsPath?: string }>;
  /** Absolute (or cwd-relative) paths of rule files. */
  ruleFiles?: string[];
  scrapeInterval?: string;
  evaluationInterval?: string;
  /** `host:port` of an Alertmanager to send alerts to. */
  alertmanager?: string;
}

export interface PrometheusHandle {
  url: string;
  configPath: string;
  stop(): Promise<void>;
  logs(): string;
}

export function prometheusConfig(options: PrometheusOptions): Record<string, unknown> {
  return {
    global: {
      scrape_interval: options.scrapeInterval ?? '1s',
      evaluation_interval: options.evaluationInterval ?? '1s',
    },
    ...(options.ruleFiles && { rule_files: options.ruleFiles }),
    ...(options.alertmanager && {
      alerting: { alertmanagers: [{ static_configs: [{ targets: [options.alertmanager] }] }] },
    }),
    scrape_configs: (options.scrapeTargets ?? []).map((target) => ({
      job_name: target.job,
      ...(target.metricsPath && { metrics_path: target.metricsPath }),
      static_configs: [{ targets: target.targets }],
    })),
  };
}

export async function startPrometheus(options: PrometheusOptions = {}): Promise<PrometheusHandle> {
  const binary = requireBinary('prometheus');
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-prometheus-'));
  const configPath = join(dir, 'prometheus.yml');
  try {
    await writeFile(configPath, stringify(prometheusConfig(options)));
    const daemon = await startDaemon('Prometheus', binary, (port) => [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--log.level=${process.env.AM_LOG_LEVEL ?? 'warn'}`,
    ]);
    return {
      url: daemon.url,
      configPath,
      logs: daemon.logs,
      async stop() {
        await daemon.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
