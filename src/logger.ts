import { type Logger, pino } from 'pino';

export type { Logger };

/** Paths that may carry a secret anywhere in a log line; pino replaces them before writing. */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'req.headers["x-slack-signature"]',
  'signingSecret',
  '*.signingSecret',
  'botToken',
  '*.botToken',
  'appToken',
  '*.appToken',
  'password',
  '*.password',
  'credentials',
  '*.credentials',
  // PagerDuty's routing key (notify.pagerduty): never logged, even by accident.
  'routing_key',
  '*.routing_key',
  'routingKey',
  '*.routingKey',
  'pagerdutyRoutingKey',
  '*.pagerdutyRoutingKey',
];

export function createLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'switchyard' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination as pino.DestinationStream | undefined,
  );
}
