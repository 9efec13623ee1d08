import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { type Env, envSchema } from './env.js';
import { type FileConfig, fileConfigSchema } from './file.js';

export type SlackMode = 'http' | 'socket' | 'local';

export interface AppConfig {
  env: Env;
  file: FileConfig;
  slackMode: SlackMode;
  /** Where announcements and alerts go: SLACK_CHANNEL, else the config file's `channel`. */
  channel: string;
  /** Secrets the config file names by environment variable (never logged, never stored). */
  secrets?: { pagerdutyRoutingKey?: string };
}

/** A configuration problem, said in one line that names the variable or key and what it expects. */
export class ConfigError extends Error {}

export function loadConfig(environment: Record<string, string | undefined>): AppConfig {
  const env = parseOrThrow(envSchema, environment, (path) => `environment variable ${path}`);
  const file = loadFileConfig(env.SWITCHYARD_CONFIG);
  const secrets = secretsOf(file, environment);
  return {
    env,
    file,
    slackMode: slackModeOf(env),
    channel: env.SLACK_CHANNEL ?? file.channel,
    ...(secrets && { secrets }),
  };
}

/** The PagerDuty routing key, from the environment variable `notify.pagerduty.routingKeyEnv` names. */
function secretsOf(
  file: FileConfig,
  environment: Record<string, string | undefined>,
): AppConfig['secrets'] | undefined {
  const pagerduty = file.notify.pagerduty;
  if (!pagerduty) return undefined;
  const key = environment[pagerduty.routingKeyEnv]?.trim();
  if (!key) {
    throw new ConfigError(
      `config file key notify.pagerduty.routingKeyEnv: environment variable ${pagerduty.routingKeyEnv} is not set; expected the PagerDuty integration's routing key (32 characters) in it`,
    );
  }
  return { pagerdutyRoutingKey: key };
}

function loadFileConfig(path: string | undefined): FileConfig {
  if (!path) return fileConfigSchema.parse({});
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `SWITCHYARD_CONFIG: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); expected a readable YAML file`,
    );
  }
  let data: unknown;
  try {
    data = parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(`config file ${path}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return parseOrThrow(fileConfigSchema, data, (keyPath) => `config file ${path}: key ${keyPath}`);
}

function slackModeOf(env: Env): SlackMode {
  if (env.SLACK_APP_TOKEN) {
    if (!env.SLACK_BOT_TOKEN)
      throw new ConfigError('SLACK_BOT_TOKEN: required with SLACK_APP_TOKEN (Socket Mode)');
    return 'socket';
  }
  if (env.SLACK_BOT_TOKEN && !env.SLACK_SIGNING_SECRET) {
    throw new ConfigError(
      "SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN (from the app's Basic Information page)",
    );
  }
  if (env.SLACK_SIGNING_SECRET && !env.SLACK_BOT_TOKEN) {
    throw new ConfigError(
      'SLACK_BOT_TOKEN: required with SLACK_SIGNING_SECRET (xoxb-…, from OAuth & Permissions)',
    );
  }
  return env.SLACK_BOT_TOKEN ? 'http' : 'local';
}

function parseOrThrow<S extends z.ZodType>(
  schema: S,
  data: unknown,
  name: (path: string) => string,
): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String).join('.') || '(root)';
  const got = describeValue(issue.path, data);
  throw new ConfigError(`${name(path)}: ${issue.message}${got}`);
}

function describeValue(path: readonly PropertyKey[], data: unknown): string {
  // Never echo a secret back, not even a malformed one.
  if (path.some((key) => /TOKEN|SECRET/i.test(String(key)))) return '';
  let value: unknown = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return '';
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  if (value === undefined || typeof value === 'object') return '';
  return `, got ${JSON.stringify(String(value).slice(0, 60))}`;
}
