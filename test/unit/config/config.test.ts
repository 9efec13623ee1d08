import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../../../src/config/env.js';
import { fileConfigSchema } from '../../../src/config/file.js';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { tempDir } from '../../support/bot.js';

function configFile(text: string): string {
  const path = join(tempDir(), 'switchyard.yml');
  writeFileSync(path, text);
  return path;
}

describe('configuration', () => {
  it('runs locally with no configuration at all, with the seed defaults', () => {
    const config = loadConfig({});
    expect(config.slackMode).toBe('local');
    expect(config.env.PORT).toBe(3000);
    expect(config.env.STATE_DIR).toBe('./data');
    expect(config.env.KUBE_NAMESPACE).toBe('messaging-system');
    expect(config.env.FLAGS_CONFIGMAP).toBe('messaging-feature-flags');
    expect(config.channel).toBe('#messaging-system-incidents');
    expect(config.file.access.operators).toEqual([]);
    expect(config.file.access.approvalsRequired).toBe(2);
    expect(config.file.escalation.tiers.map((tier) => tier.after)).toEqual([
      15 * 60_000,
      60 * 60_000,
      4 * 3_600_000,
    ]);
  });

  it('picks HTTP or Socket Mode from the Slack variables', () => {
    expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' }).slackMode).toBe('http');
    expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }).slackMode).toBe('socket');
  });

  it.each([
    [{ PORT: 'abc' }, 'environment variable PORT: expected a port number between 1 and 65535, got "abc"'],
    [{ PORT: '70000' }, 'environment variable PORT: expected a port number between 1 and 65535, got "70000"'],
    [
      { STATE_BACKEND: 'redis' },
      'environment variable STATE_BACKEND: expected "file" or "kubernetes", got "redis"',
    ],
    [
      { LOG_LEVEL: 'loud' },
      'environment variable LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent',
    ],
    [{ ALERTMANAGER_URL: 'not a url' }, 'environment variable ALERTMANAGER_URL: expected an http(s) URL'],
    [
      { SLACK_BOT_TOKEN: 'xoxp-user-token', SLACK_SIGNING_SECRET: 's' },
      'environment variable SLACK_BOT_TOKEN: expected a bot token starting with xoxb-',
    ],
    [{ SLACK_BOT_TOKEN: 'xoxb-1' }, 'SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN'],
    [{ SLACK_APP_TOKEN: 'xapp-1' }, 'SLACK_BOT_TOKEN: required with SLACK_APP_TOKEN'],
  ])('refuses %o with one line naming the variable', (env, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('never echoes a malformed token back', () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxp-secret-value', SLACK_SIGNING_SECRET: 's' })).toThrow(
      /^((?!secret-value).)*$/,
    );
  });

  it('reads the YAML file and names the key path of a bad value', () => {
    const good = configFile(
      'access:\n  operators: [U0AAAAAAA, S0ONCALL]\nescalation:\n  tiers:\n    - { after: 90s, notify: [U0LEAD] }\n',
    );
    const config = loadConfig({ SWITCHYARD_CONFIG: good });
    expect(config.file.access.operators).toEqual(['U0AAAAAAA', 'S0ONCALL']);
    expect(config.file.escalation.tiers).toEqual([{ after: 90_000, notify: ['U0LEAD'] }]);

    expect(() => loadConfig({ SWITCHYARD_CONFIG: configFile('access:\n  operators: [alice]\n') })).toThrow(
      /key access\.operators\.0: expected a Slack user ID \(U…\/W…\) or user-group ID \(S…\), got "alice"/,
    );
    expect(() =>
      loadConfig({ SWITCHYARD_CONFIG: configFile('escalation:\n  tiers:\n    - { after: soon }\n') }),
    ).toThrow(/key escalation\.tiers\.0\.after: expected a duration like 90s, 15m or 4h, got "soon"/);
    expect(() => loadConfig({ SWITCHYARD_CONFIG: configFile('acess: {}\n') })).toThrow(
      /key \(root\): Unrecognized key: "acess"/,
    );
    expect(() => loadConfig({ SWITCHYARD_CONFIG: configFile('a: [\n') })).toThrow(/not valid YAML/);
    expect(() => loadConfig({ SWITCHYARD_CONFIG: '/nonexistent/switchyard.yml' })).toThrow(
      /SWITCHYARD_CONFIG: cannot read/,
    );
  });

  it('accepts the example config file in the README as it stands', () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('### The config file'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(yaml).toBeDefined();
    // The example's notify.pagerduty names the variable holding the routing key.
    const config = loadConfig({
      SWITCHYARD_CONFIG: configFile(yaml!),
      PAGERDUTY_ROUTING_KEY: 'k'.repeat(32),
    });
    expect(config.file.access.operators).toEqual(['U0AAAAAAA', 'S0ONCALL']);
    expect(config.file.notify.webhooks).toHaveLength(1);
    expect(config.file.escalation.tiers.map((tier) => tier.after)).toEqual([
      15 * 60_000,
      60 * 60_000,
      4 * 3_600_000,
    ]);
  });

  it('documents every environment variable and every top-level config key in the README', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const name of Object.keys(envSchema.shape)) expect(readme, name).toContain(`| \`${name}\``);
    for (const key of Object.keys(fileConfigSchema.shape))
      expect(readme, key).toMatch(new RegExp(`^${key}:`, 'm'));
  });

  it('takes runbooks from the config file, checking each step', () => {
    const good = configFile(`runbooks:
  - name: queue-backlog
    title: Queue backlog
    alerts: [MessagingQueueBacklog]
    summary: The queue grows.
    steps:
      - { kind: check, title: How long, query: messaging_queue_length, expect: below 1000 }
      - { kind: flag, title: Stop pooling, flag: resource_pooling, enabled: false }
`);
    const config = loadConfig({ SWITCHYARD_CONFIG: good });
    expect(config.file.runbooks?.map((runbook) => runbook.name)).toEqual(['queue-backlog']);
    expect(config.file.runbooks?.[0]?.steps[1]).toEqual({
      kind: 'flag',
      title: 'Stop pooling',
      flag: 'resource_pooling',
      enabled: false,
    });

    const badFlag = configFile(`runbooks:
  - { name: x, title: X, summary: s, steps: [{ kind: flag, title: t, flag: retry_logik, enabled: false }] }
`);
    expect(() => loadConfig({ SWITCHYARD_CONFIG: badFlag })).toThrow(
      /key runbooks\.0\.steps\.0\.flag: expected a flag key: adaptive_timing/,
    );
    const badKind = configFile(`runbooks:
  - { name: x, title: X, summary: s, steps: [{ kind: reboot, title: t }] }
`);
    expect(() => loadConfig({ SWITCHYARD_CONFIG: badKind })).toThrow(
      /key runbooks\.0\.steps\.0(\.kind)?: expected a step kind/,
    );
  });
});
