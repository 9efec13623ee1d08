import { z } from 'zod';

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const optionalUrl = optionalText.pipe(
  z.url({ protocol: /^https?$/, error: 'expected an http(s) URL, e.g. http://alertmanager:9093' }).optional(),
);

/** The environment variables of DESIGN.md; everything else comes from the config file. */
export const envSchema = z.object({
  PORT: z.coerce
    .number({ error: 'expected a port number between 1 and 65535' })
    .int('expected a whole port number')
    .min(0, 'expected a port number between 1 and 65535')
    .max(65535, 'expected a port number between 1 and 65535')
    .default(3000),
  SLACK_BOT_TOKEN: optionalText.pipe(
    z.string().startsWith('xoxb-', 'expected a bot token starting with xoxb-').optional(),
  ),
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_APP_TOKEN: optionalText.pipe(
    z.string().startsWith('xapp-', 'expected an app-level token starting with xapp-').optional(),
  ),
  SLACK_API_URL: optionalUrl,
  SLACK_CHANNEL: optionalText,
  STATE_BACKEND: z.enum(['file', 'kubernetes'], { error: 'expected "file" or "kubernetes"' }).default('file'),
  STATE_DIR: optionalText.transform((value) => value ?? './data'),
  /** Where STATE_BACKEND=kubernetes keeps its objects; default the namespace the bot runs in. */
  STATE_NAMESPACE: optionalText.pipe(
    z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a namespace name, e.g. switchyard')
      .max(63, 'expected a namespace name of at most 63 characters')
      .optional(),
  ),
  /** This replica's name in the leader Lease (default the pod's hostname and a random suffix). */
  POD_NAME: optionalText,
  KUBE_NAMESPACE: optionalText.transform((value) => value ?? 'messaging-system'),
  FLAGS_CONFIGMAP: optionalText.transform((value) => value ?? 'messaging-feature-flags'),
  KUBECONFIG: optionalText,
  ALERTMANAGER_URL: optionalUrl,
  ALERTMANAGER_WEBHOOK_TOKEN: optionalText,
  PROMETHEUS_URL: optionalUrl,
  /** Where people open Prometheus, when not at PROMETHEUS_URL (its `--web.external-url`): gate links use it. */
  PROMETHEUS_EXTERNAL_URL: optionalUrl,
  FLAG_API_TOKEN: optionalText,
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  SWITCHYARD_CONFIG: optionalText,
});

export type Env = z.infer<typeof envSchema>;
