import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  haConfigYaml,
  REPLICAS,
  type ReplicaSetup,
  replicaEnv,
  roleOf,
  type SharedSetup,
  termOf,
} from '../../scripts/local-ha-setup.js';
import { loadConfig } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'local-ha-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const configPath = join(dir, 'switchyard.yml');
writeFileSync(
  configPath,
  haConfigYaml({
    operator: 'U0LOCAL',
    oncallGroup: 'S0ONCALL',
    approversGroup: 'S0APPROVERS',
    teamLead: 'U0TEAMLEAD',
  }),
);
const shared: SharedSetup = {
  slackApiUrl: 'http://127.0.0.1:4100/api/',
  botToken: 'xoxb-local-ha-0123',
  signingSecret: 'local-ha-secret',
  webhookToken: 'local-ha-webhook',
  flagApiToken: 'local-ha-flags',
  kubeconfig: join(dir, 'kubeconfig'),
  configPath,
  channel: 'C0INCIDENTS',
  logLevel: 'warn',
  prometheusUrl: 'http://127.0.0.1:4200',
};
const setups: ReplicaSetup[] = REPLICAS.map((name, i) => ({
  name,
  port: 4300 + i,
  stateDir: join(dir, name),
}));
const envs = setups.map((setup) => replicaEnv(shared, setup, { PATH: '/usr/bin', HOME: '/home/me' }));

describe('npm run local:ha: each bot process is started as a replica of the Deployment', () => {
  it("the bot's own config loader accepts each replica's environment: kubernetes state in switchyard, Slack HTTP mode against the emulator", () => {
    for (const [i, env] of envs.entries()) {
      const config = loadConfig(env);
      expect(config.env).toMatchObject({
        STATE_BACKEND: 'kubernetes',
        STATE_NAMESPACE: 'switchyard',
        POD_NAME: REPLICAS[i],
        PORT: 4300 + i,
        KUBECONFIG: shared.kubeconfig,
        KUBE_NAMESPACE: 'messaging-system',
        SLACK_API_URL: shared.slackApiUrl,
        PROMETHEUS_URL: shared.prometheusUrl,
      });
      // Not `local`: a local-mode bot would start a Slack emulator of its own, and two would not share one.
      expect(config.slackMode).toBe('http');
      expect(config.channel).toBe('C0INCIDENTS');
      expect(config.file.leaderElection).toMatchObject({
        leaseDuration: 12_000,
        renewDeadline: 8_000,
        retryPeriod: 1_000,
      });
      expect(config.file.escalation.oncall).toBe('S0ONCALL');
      expect(config.file.escalation.tiers[0]).toMatchObject({ after: 20_000, notify: ['U0TEAMLEAD'] });
    }
  });

  it('the replicas differ only in their Lease identity, port and local directory', () => {
    const [a, b] = envs as [Record<string, string>, Record<string, string>];
    const differing = Object.keys({ ...a, ...b }).filter((key) => a[key] !== b[key]);
    expect(differing.sort()).toEqual(['POD_NAME', 'PORT', 'STATE_DIR']);
  });

  it("takes nothing from the caller's environment but PATH and HOME (a SLACK_APP_TOKEN there would switch to Socket Mode)", () => {
    const env = replicaEnv(shared, setups[0]!, {
      PATH: '/bin',
      HOME: '/h',
      SLACK_APP_TOKEN: 'xapp-1',
      STATE_BACKEND: 'file',
    });
    expect(env.SLACK_APP_TOKEN).toBeUndefined();
    expect(env.STATE_BACKEND).toBe('kubernetes');
    expect(env).toMatchObject({ PATH: '/bin', HOME: '/h' });
  });

  it('sets the state variables as the shipped Deployment does', () => {
    const docs = parseAllDocuments(readFileSync('deploy/kubernetes/base/switchyard.yaml', 'utf8')).map((d) =>
      d.toJS(),
    );
    const deployment = docs.find((doc) => doc.kind === 'Deployment');
    const env = Object.fromEntries(
      (deployment.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>).map(
        (v) => [v.name, v.value],
      ),
    );
    expect(envs[0]!.STATE_BACKEND).toBe(env.STATE_BACKEND);
    expect(envs[0]!.KUBE_NAMESPACE).toBe(env.KUBE_NAMESPACE);
    // The downward API gives the pod's namespace.
    expect(envs[0]!.STATE_NAMESPACE).toBe(deployment.metadata.namespace);
  });

  it('is run by npm run local:ha through tsx', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['local:ha']).toBe('tsx scripts/local-ha.ts');
  });
});

describe('local:ha reading what the replicas report', () => {
  it("a replica's role from its /readyz body", () => {
    expect(roleOf({ status: 'ready', role: 'leader', checks: {} })).toBe('leader');
    expect(roleOf({ status: 'ready', role: 'follower' })).toBe('follower');
    expect(roleOf({ status: 'ready', checks: {} })).toBe('unknown');
    expect(roleOf({ role: 'candidate' })).toBe('unknown');
    expect(roleOf(undefined)).toBe('unknown');
    expect(roleOf('ready')).toBe('unknown');
  });

  it("the lease term a post's metadata carries, as an object or as Slack's JSON string", () => {
    const payload = { event_type: 'switchyard_post', event_payload: { holder: 'replica-b', transitions: 3 } };
    expect(termOf({ metadata: payload })).toBe('replica-b, term 3');
    expect(termOf({ metadata: JSON.stringify(payload) })).toBe('replica-b, term 3');
    expect(termOf({ metadata: { event_type: 'x', event_payload: { holder: 'replica-a' } } })).toBe(
      'replica-a',
    );
    expect(termOf({ text: 'no metadata' })).toBeUndefined();
    expect(termOf({ metadata: 'not json' })).toBeUndefined();
  });
});
