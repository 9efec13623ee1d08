/**
 * The shipped alerting config, checked by the real tools (promtool, amtool), and the Alertmanager /
 * Prometheus harness proven end to end: a real Alertmanager delivers to a webhook on loopback.
 * A missing binary fails these tests with an install hint; they never skip.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type AlertGroupState, applyNotification } from '../../src/core/alerts/group.js';
import { summariseGroup } from '../../src/core/alerts/summary.js';
import type { AlertNotification } from '../../src/core/alerts/types.js';
import { startAlertmanager, startPrometheus } from '../support/alertmanager.js';
import { requireBinary } from '../support/binaries.js';

const RULES = resolve('deploy/prometheus/alerting_rules.yml');
const RULES_TEST = resolve('deploy/prometheus/alerting_rules.test.yml');
const ALERTMANAGER_CONFIG = resolve('deploy/alertmanager/alertmanager.yml');

interface RunResult {
  code: number;
  output: string;
}

function run(binary: string, args: string[]): Promise<RunResult> {
  return new Promise((done) => {
    execFile(binary, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      done({ code, output: `${stdout}${stderr}` });
    });
  });
}

let promtool: string;
let amtool: string;
beforeAll(() => {
  promtool = requireBinary('promtool');
  amtool = requireBinary('amtool');
});

describe('requireBinary', () => {
  it("finds Debian's prometheus-alertmanager under the name alertmanager", () => {
    expect(requireBinary('alertmanager')).toMatch(/\/(prometheus-)?alertmanager$/);
    expect(requireBinary('promtool')).toMatch(/\/promtool$/);
  });

  it('throws with the install command when a tool is missing', () => {
    expect(() => requireBinary('switchyard-no-such-tool')).toThrow(
      /switchyard-no-such-tool not found on PATH .*Install it with: apt-get install -y prometheus-alertmanager prometheus/,
    );
  });
});

describe('deploy/prometheus/alerting_rules.yml', () => {
  it('passes promtool check rules', async () => {
    const result = await run(promtool, ['check', 'rules', RULES]);
    expect(result.output).toContain('SUCCESS: 3 rules found');
    expect(result.code).toBe(0);
  });

  it('passes its promtool unit tests (each rule fires at its threshold, with its severity)', async () => {
    const result = await run(promtool, ['test', 'rules', RULES_TEST]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('has unit tests that fail when a threshold or a `for` changes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-rules-'));
    try {
      const rules = await readFile(RULES, 'utf8');
      const mutated = rules.replace('> 0.05', '> 0.15').replace('for: 1m', 'for: 2m');
      expect(mutated).not.toBe(rules);
      await writeFile(join(dir, 'alerting_rules.yml'), mutated);
      await copyFile(RULES_TEST, join(dir, 'alerting_rules.test.yml'));
      const result = await run(promtool, ['test', 'rules', join(dir, 'alerting_rules.test.yml')]);
      expect(result.code).not.toBe(0);
      expect(result.output).toContain('alertname: MessagingHighErrorRate, time: 6m');
      expect(result.output).toContain('alertname: MessagingSystemDown, time: 3m');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('labels and annotates every rule for Switchyard', async () => {
    const doc = parse(await readFile(RULES, 'utf8')) as {
      groups: Array<{
        rules: Array<{ alert: string; labels: Record<string, string>; annotations: Record<string, string> }>;
      }>;
    };
    const rules = doc.groups.flatMap((group) => group.rules);
    expect(
      rules.map((rule) => ({
        alert: rule.alert,
        labels: rule.labels,
        runbook: rule.annotations.runbook_url,
        annotations: Object.keys(rule.annotations).sort(),
      })),
    ).toEqual([
      {
        alert: 'MessagingHighErrorRate',
        labels: { severity: 'warning', team: 'messaging', deployment: 'messaging-core' },
        runbook: 'https://switchyard.example/runbooks/high-error-rate',
        annotations: ['description', 'runbook_url', 'summary'],
      },
      {
        alert: 'MessagingHighLatency',
        labels: { severity: 'warning', team: 'messaging', deployment: 'messaging-core' },
        runbook: 'https://switchyard.example/runbooks/high-latency',
        annotations: ['description', 'runbook_url', 'summary'],
      },
      {
        alert: 'MessagingSystemDown',
        labels: { severity: 'critical', team: 'messaging', deployment: 'messaging-core' },
        runbook: 'https://switchyard.example/runbooks/system-down',
        annotations: ['description', 'runbook_url', 'summary'],
      },
    ]);
  });
});

describe('deploy/alertmanager/alertmanager.yml', () => {
  it('passes amtool check-config (the credentials file need not exist for the check)', async () => {
    const result = await run(amtool, ['check-config', ALERTMANAGER_CONFIG]);
    expect(result.output).toContain('SUCCESS');
    expect(result.output).toContain('2 receivers');
    expect(result.code).toBe(0);
  });

  it('sends team=messaging to the switchyard webhook, and other teams elsewhere', async () => {
    const routeOf = async (...labels: string[]) => {
      const result = await run(amtool, [
        'config',
        'routes',
        'test',
        `--config.file=${ALERTMANAGER_CONFIG}`,
        ...labels,
      ]);
      expect(result.code).toBe(0);
      return result.output.split('\n')[0]?.trim();
    };
    expect(await routeOf('team=messaging', 'alertname=MessagingSystemDown', 'severity=critical')).toBe(
      'switchyard',
    );
    expect(await routeOf('team=messaging', 'alertname=MessagingHighLatency', 'severity=warning')).toBe(
      'switchyard',
    );
    expect(await routeOf('team=payments', 'alertname=Whatever')).toBe('default');
  });

  it('posts to Switchyard with a bearer token from a file, resolved alerts included', async () => {
    const config = parse(await readFile(ALERTMANAGER_CONFIG, 'utf8')) as {
      route: { group_by: string[] };
      receivers: Array<{ name: string; webhook_configs?: Array<Record<string, unknown>> }>;
    };
    expect(config.route.group_by).toEqual(['alertname', 'deployment']);
    const webhook = config.receivers.find((receiver) => receiver.name === 'switchyard')?.webhook_configs?.[0];
    expect(webhook).toMatchObject({
      url: 'http://switchyard.messaging-system.svc:3000/alertmanager',
      send_resolved: true,
      http_config: {
        authorization: { type: 'Bearer', credentials_file: '/etc/alertmanager/secrets/switchyard-token' },
      },
    });
  });
});

// ---- the harness, end to end --------------------------------------------------------------------

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: AlertNotification;
}

/** A tiny webhook receiver on loopback that records what it is sent. */
async function startReceiver(): Promise<{ url: string; deliveries: Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      deliveries.push({
        path: request.url ?? '',
        headers: request.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertNotification,
      });
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('receiver has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    deliveries,
    close: () => new Promise((closed) => server.close(() => closed())),
  };
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((wait) => setTimeout(wait, 100));
  }
}

describe('real Alertmanager through the test harness', () => {
  const token = 'test-webhook-token-9f2c';
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let alertmanager: Awaited<ReturnType<typeof startAlertmanager>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    alertmanager = await startAlertmanager({
      webhookUrl: `${receiver.url}/alertmanager`,
      bearerToken: token,
    });
  });
  afterAll(async () => {
    await alertmanager?.stop();
    await receiver?.close();
  });

  it('delivers a posted alert as a version 4 payload with the bearer token, then its resolution', async () => {
    expect(alertmanager.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await alertmanager.silences()).toEqual([]);
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const alert = {
      labels: {
        alertname: 'MessagingSystemDown',
        severity: 'critical',
        team: 'messaging',
        deployment: 'messaging-core',
        instance: '10.0.0.1:8080',
      },
      annotations: {
        summary: 'Messaging system is down',
        description: 'Messaging system target 10.0.0.1:8080 has been down for more than 1 minute',
        runbook_url: 'https://switchyard.example/runbooks/system-down',
      },
      startsAt,
    };
    await alertmanager.postAlerts([alert]);

    const first = await waitFor('the firing notification', () => receiver.deliveries[0]);
    expect(first.path).toBe('/alertmanager');
    expect(first.headers.authorization).toBe(`Bearer ${token}`);
    expect(first.headers['content-type']).toBe('application/json');
    const payload = first.body;
    expect(payload).toMatchObject({
      version: '4',
      receiver: 'switchyard',
      status: 'firing',
      groupLabels: { alertname: 'MessagingSystemDown', deployment: 'messaging-core' },
      commonLabels: alert.labels,
      commonAnnotations: alert.annotations,
      externalURL: alertmanager.url,
      truncatedAlerts: 0,
    });
    expect(payload.groupKey).toBe('{}:{alertname="MessagingSystemDown", deployment="messaging-core"}');
    expect(payload.alerts).toHaveLength(1);
    expect(payload.alerts[0]).toEqual({
      status: 'firing',
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: expect.any(String),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: '',
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(Date.parse(payload.alerts[0]!.startsAt)).toBe(Date.parse(startsAt));

    // The real payload drives the core as-is.
    const opened = applyNotification(undefined, payload, Date.now());
    expect(opened.changes.map((change) => change.kind)).toEqual(['opened', 'alert-firing']);
    expect(opened.state.severity).toBe('sev1');
    expect(opened.state.openedAt).toBe(Date.parse(startsAt));
    expect(summariseGroup(opened.state).title).toBe(
      'SEV1 firing (1): MessagingSystemDown (deployment=messaging-core) - Messaging system is down',
    );

    // Resolving it (endsAt now) brings a `resolved` notification for the same group.
    await alertmanager.postAlerts([{ ...alert, endsAt: new Date().toISOString() }]);
    const second = await waitFor('the resolved notification', () =>
      receiver.deliveries.find((delivery) => delivery.body.status === 'resolved'),
    );
    expect(second.headers.authorization).toBe(`Bearer ${token}`);
    expect(second.body.groupKey).toBe(payload.groupKey);
    expect(second.body.alerts[0]?.fingerprint).toBe(payload.alerts[0]?.fingerprint);
    const closed = applyNotification(opened.state as AlertGroupState, second.body, Date.now());
    expect(closed.changes.map((change) => change.kind)).toEqual(['alert-resolved', 'group-resolved']);
    expect(closed.state.status).toBe('resolved');
  });
});

describe('real Prometheus through the test harness', () => {
  it('loads the shipped rules and scrapes a loopback target', async () => {
    const target = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end('# TYPE messaging_queue_length gauge\nmessaging_queue_length 7\n');
    });
    await new Promise<void>((listening) => target.listen(0, '127.0.0.1', listening));
    const address = target.address();
    if (address === null || typeof address === 'string') throw new Error('target has no port');
    const prometheus = await startPrometheus({
      ruleFiles: [RULES],
      scrapeTargets: [{ job: 'messaging-system', targets: [`127.0.0.1:${address.port}`] }],
    });
    try {
      expect(prometheus.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
        data: {
          groups: Array<{ name: string; rules: Array<{ name: string; labels: Record<string, string> }> }>;
        };
      };
      expect(rules.data.groups.map((group) => group.name)).toEqual(['messaging_system']);
      expect(rules.data.groups[0]?.rules.map((rule) => [rule.name, rule.labels.severity])).toEqual([
        ['MessagingHighErrorRate', 'warning'],
        ['MessagingHighLatency', 'warning'],
        ['MessagingSystemDown', 'critical'],
      ]);
      const query = async (expr: string) => {
        const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = (await response.json()) as { data: { result: Array<{ value: [number, string] }> } };
        return body.data.result[0]?.value[1];
      };
      const queue = await waitFor('the first scrape', () =>
        query('messaging_queue_length{job="messaging-system"}'),
      );
      expect(queue).toBe('7');
      expect(await query('up{job="messaging-system"}')).toBe('1');
    } finally {
      await prometheus.stop();
      await new Promise((closed) => target.close(closed));
    }
  });
});
