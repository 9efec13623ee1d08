/**
 * The shipped monitoring: every alerting and recording rule has promtool unit tests; the Grafana
 * dashboard has what Grafana's file provisioning needs, shows the seed's twelve key metrics and the
 * bot's own, and every query in it runs against a real Prometheus (Debian's) that scrapes a test
 * exporter and the bot, with the recording rules loaded. Missing tools fail these tests; they never skip.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type PrometheusHandle, startPrometheus } from '../support/alertmanager.js';
import { requireBinary } from '../support/binaries.js';
import { startTestBot, type TestBot } from '../support/bot.js';
import { type Exporter, startExporter } from '../support/exporter.js';
import { eventually } from '../support/http.js';

const PROMETHEUS_DIR = resolve('deploy/prometheus');
const RECORDING = join(PROMETHEUS_DIR, 'recording_rules.yml');
const RECORDING_TEST = join(PROMETHEUS_DIR, 'recording_rules.test.yml');
const DASHBOARD = resolve('deploy/grafana/dashboards/messaging-rollout.json');
const PROVIDER = resolve('deploy/grafana/provisioning/dashboards/switchyard.yaml');
const DATASOURCE = resolve('deploy/grafana/provisioning/datasources/prometheus.yaml');

function run(binary: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(binary, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      done({ code, output: `${stdout}${stderr}` });
    });
  });
}

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string }> }>;
}
interface RuleTestFile {
  rule_files: string[];
  tests: Array<{
    alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }>;
    promql_expr_test?: Array<{ expr: string; exp_samples?: unknown[] }>;
  }>;
}
const readYaml = async <T>(path: string) => parse(await readFile(path, 'utf8')) as T;

let promtool: string;
beforeAll(() => {
  promtool = requireBinary('promtool');
});

describe('deploy/prometheus: every shipped rule has promtool unit tests', () => {
  it('each rule file is checked by promtool and loaded by a test file', async () => {
    const files = (await readdir(PROMETHEUS_DIR)).filter((name) => name.endsWith('.yml'));
    const ruleFiles = files.filter((name) => !name.endsWith('.test.yml'));
    const testFiles = files.filter((name) => name.endsWith('.test.yml'));
    expect(ruleFiles.sort()).toEqual(['alerting_rules.yml', 'recording_rules.yml']);
    const loaded = new Set<string>();
    for (const name of testFiles) {
      for (const file of (await readYaml<RuleTestFile>(join(PROMETHEUS_DIR, name))).rule_files)
        loaded.add(file);
    }
    for (const name of ruleFiles) {
      expect(loaded.has(name), `${name} is loaded by a *.test.yml`).toBe(true);
      const check = await run(promtool, ['check', 'rules', join(PROMETHEUS_DIR, name)]);
      expect(check.output).toContain('SUCCESS');
      expect(check.code).toBe(0);
    }
    for (const name of testFiles) {
      const result = await run(promtool, ['test', 'rules', join(PROMETHEUS_DIR, name)]);
      expect(result.output, name).toContain('SUCCESS');
      expect(result.code, name).toBe(0);
    }
  });

  it('every alert has a case where it fires and one where it stays quiet', async () => {
    const alerts = (await readYaml<RuleFile>(join(PROMETHEUS_DIR, 'alerting_rules.yml'))).groups
      .flatMap((group) => group.rules)
      .map((rule) => rule.alert);
    expect(alerts).toEqual(['MessagingHighErrorRate', 'MessagingHighLatency', 'MessagingSystemDown']);
    const cases = (
      await readYaml<RuleTestFile>(join(PROMETHEUS_DIR, 'alerting_rules.test.yml'))
    ).tests.flatMap((test) => test.alert_rule_test ?? []);
    for (const alert of alerts) {
      const mine = cases.filter((test) => test.alertname === alert);
      expect(
        mine.some((test) => (test.exp_alerts ?? []).length > 0),
        `${alert} fires in a test`,
      ).toBe(true);
      expect(
        mine.some((test) => (test.exp_alerts ?? []).length === 0),
        `${alert} stays quiet in a test`,
      ).toBe(true);
    }
  });

  it('every recording rule has an expected value in a test, and the tests notice a changed expression', async () => {
    const records = (await readYaml<RuleFile>(RECORDING)).groups
      .flatMap((group) => group.rules)
      .map((rule) => rule.record);
    expect(records).toEqual([
      'job:messaging_deliveries:rate5m',
      'job:messaging_deliveries_success:ratio_rate5m',
      'job:messaging_errors:rate5m',
      'job:messaging_errors:ratio_rate5m',
      'job:messaging_delivery_duration:p95_5m',
      'job:messaging_retries:rate5m',
    ]);
    const tested = new Set(
      (await readYaml<RuleTestFile>(RECORDING_TEST)).tests
        .flatMap((test) => test.promql_expr_test ?? [])
        .filter((test) => (test.exp_samples ?? []).length > 0)
        .map((test) => test.expr),
    );
    for (const record of records) expect(tested.has(record!), `${record} is tested`).toBe(true);

    const dir = await mkdtemp(join(tmpdir(), 'switchyard-recording-'));
    try {
      const rules = await readFile(RECORDING, 'utf8');
      const mutated = rules.replace('histogram_quantile(0.95', 'histogram_quantile(0.9');
      expect(mutated).not.toBe(rules);
      await writeFile(join(dir, 'recording_rules.yml'), mutated);
      await copyFile(RECORDING_TEST, join(dir, 'recording_rules.test.yml'));
      const result = await run(promtool, ['test', 'rules', join(dir, 'recording_rules.test.yml')]);
      expect(result.code).not.toBe(0);
      expect(result.output).toContain('job:messaging_delivery_duration:p95_5m');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// ---- the Grafana dashboard ----------------------------------------------------------------------

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  id: number | null;
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown; datasource?: unknown }> };
  annotations: { list: Array<{ name: string; expr?: string; datasource?: { type: string; uid: string } }> };
  __inputs?: unknown;
}

const SEED_METRICS = [
  'Success rate',
  'Latency (p95)',
  'Throughput',
  'Error rate',
  'CPU usage',
  'Memory usage',
  'Active connections',
  'Queue length',
  'Retry rate',
  'Timing calibration',
  'Parallel operations',
  'Agent ordering',
];

async function dashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
}

/** Grafana's reference to the dashboard's `datasource` variable (a literal, not a JS template). */
const DATASOURCE_VARIABLE = { type: 'prometheus', uid: ['$', '{datasource}'].join('') };

const graphPanels = (board: Dashboard) =>
  board.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]).filter((panel) => panel.type !== 'row');

/** Grafana's variables, as a query Prometheus itself can run (the whole job regex, a 1m rate window). */
const concrete = (expr: string) =>
  expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '1m').replaceAll('$job', '.+');

describe('deploy/grafana: a dashboard Grafana 10+ provisions from a file', () => {
  it('has the fields file provisioning needs: a stable uid, a title, no id, no import inputs, Grafana 10 schema', async () => {
    const board = await dashboard();
    expect(board.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(board.title).toBe('Messaging rollout');
    expect(board.id).toBeNull();
    expect(board.__inputs).toBeUndefined();
    expect(board.schemaVersion).toBeGreaterThanOrEqual(38);
  });

  it('lays out panels Grafana accepts: unique ids, a 24-column grid, every target on the datasource variable', async () => {
    const board = await dashboard();
    const all = board.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
    expect(new Set(all.map((panel) => panel.id)).size).toBe(all.length);
    for (const panel of all) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      expect(panel.gridPos.h, panel.title).toBeGreaterThan(0);
    }
    const variables = board.templating.list;
    expect(variables.find((variable) => variable.name === 'datasource')).toMatchObject({
      type: 'datasource',
      query: 'prometheus',
    });
    for (const panel of graphPanels(board)) {
      expect(panel.datasource, panel.title).toEqual(DATASOURCE_VARIABLE);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      const refIds = (panel.targets ?? []).map((target) => target.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
      for (const target of panel.targets ?? []) {
        expect(target.expr, panel.title).not.toBe('');
        expect(target.datasource, panel.title).toEqual(DATASOURCE_VARIABLE);
        // Only variables the dashboard defines, or Grafana's own.
        for (const [, name] of target.expr.matchAll(/\$(\w+)/g)) {
          expect(['__rate_interval', '__interval', ...variables.map((variable) => variable.name)]).toContain(
            name,
          );
        }
      }
    }
  });

  it("shows the seed's twelve key metrics and the bot's own", async () => {
    const board = await dashboard();
    const titles = graphPanels(board).map((panel) => panel.title);
    for (const metric of SEED_METRICS) expect(titles).toContain(metric);
    const exprs = graphPanels(board).flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
    for (const own of [
      'switchyard_flag_enabled',
      'switchyard_alert_groups_active',
      'switchyard_alerts_received_total',
      'switchyard_escalations_sent_total',
      'switchyard_slack_queue_depth',
      'switchyard_slack_api_errors_total',
      'switchyard_commands_total',
      'switchyard_command_duration_seconds_bucket',
      'switchyard_alertmanager_webhook_duration_seconds_bucket',
      'switchyard_flag_changes_total',
    ]) {
      expect(
        exprs.some((expr) => expr.includes(own)),
        own,
      ).toBe(true);
    }
  });

  it('comes with provisioning files for the dashboard folder and the Prometheus datasource', async () => {
    const provider = await readYaml<{
      apiVersion: number;
      providers: Array<{ name: string; type: string; options: { path: string } }>;
    }>(PROVIDER);
    expect(provider.apiVersion).toBe(1);
    expect(provider.providers).toHaveLength(1);
    expect(provider.providers[0]).toMatchObject({ name: 'switchyard', type: 'file' });
    expect(provider.providers[0]!.options.path).toMatch(/^\//);
    const datasources = await readYaml<{
      apiVersion: number;
      datasources: Array<{ type: string; uid: string; url: string }>;
    }>(DATASOURCE);
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources[0]).toMatchObject({ type: 'prometheus', uid: 'prometheus' });
  });
});

describe('every dashboard query against a real Prometheus', () => {
  let exporter: Exporter;
  let bot: TestBot;
  let prometheus: PrometheusHandle;

  beforeAll(async () => {
    exporter = await startExporter();
    bot = await startTestBot();
    prometheus = await startPrometheus({
      ruleFiles: [RECORDING],
      scrapeTargets: [
        { job: 'messaging-system', targets: [exporter.target] },
        { job: 'switchyard', targets: [new URL(bot.url).host] },
      ],
    });
  });
  afterAll(async () => {
    await prometheus?.stop();
    await bot?.stop();
    await exporter?.close();
  });

  async function query(
    expr: string,
  ): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
    const response = await fetch(`${prometheus.url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: expr }),
    });
    return (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  }

  it('runs each panel, annotation and variable query without error; the seed metrics and the flags have data', async () => {
    const board = await dashboard();
    const panels = graphPanels(board);
    const queries = [
      ...panels.flatMap((panel) =>
        (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
      ),
      ...board.annotations.list.flatMap((annotation) =>
        annotation.expr ? [{ panel: `annotation ${annotation.name}`, expr: annotation.expr }] : [],
      ),
    ];
    expect(queries.length).toBeGreaterThan(SEED_METRICS.length);
    for (const { panel, expr } of queries) {
      const answer = await query(concrete(expr));
      expect({ panel, status: answer.status, error: answer.error }).toEqual({
        panel,
        status: 'success',
        error: undefined,
      });
    }
    // With two scrapes and a rule evaluation behind it, each seed panel and the flags panel show data.
    const withData = [...SEED_METRICS, 'Feature flags'];
    await eventually(async () => {
      for (const title of withData) {
        const panel = panels.find((candidate) => candidate.title === title)!;
        for (const target of panel.targets ?? []) {
          const answer = await query(concrete(target.expr));
          if ((answer.data?.result ?? []).length === 0)
            throw new Error(`${title}: no data yet for ${target.expr}`);
        }
      }
    });
    // The job variable lists the exporter's job.
    const job = board.templating.list.find((variable) => variable.name === 'job')!;
    expect(job.query).toMatchObject({ query: 'label_values(messaging_deliveries_total, job)' });
    const values = (await (
      await fetch(`${prometheus.url}/api/v1/label/job/values?match[]=messaging_deliveries_total`)
    ).json()) as { data: string[] };
    expect(values.data).toEqual(['messaging-system']);
  });
});
