import { join } from 'node:path';
import { z } from 'zod';
import { JsonLinesLog } from '../storage/json-lines-log.js';

/**
 * The durable record of deliveries beyond Slack: `STATE_DIR/notify/deliveries.jsonl`, one JSON object
 * per line, appended (and fsynced) after each attempt. The incident timeline reads it. Format
 * (version 1; fields are only ever added):
 *
 * - `v`: 1
 * - `id`: the delivery's id, the same on every attempt (webhooks get it as `X-Switchyard-Delivery`)
 * - `target`: `webhook` or `pagerduty`; `destination`: the target's origin (`https://status.example.com`,
 *   never a path or query, which may hold a secret)
 * - `event`: `opened`, `acknowledged`, `resolved` or `status-update` (PagerDuty: `trigger`,
 *   `acknowledge`, `resolve`); `dedupKey` for PagerDuty
 * - `groupId`, `alertname`, `severity`: the alert group, when the event is about one
 * - `by`: the Slack user who caused it (an acknowledgement, a runbook step), when a person did
 * - `at`: when the event happened (ISO 8601, the bot's clock); `attemptAt`: when this attempt ended
 * - `attempt`: 1, 2, …; `status`: `delivered`, `retrying` (5xx, network), `rate-limited` (429) or
 *   `dropped` (4xx, or too many attempts); `httpStatus` and `error` when known
 */
export interface DeliveryRecord {
  v: 1;
  id: string;
  target: 'webhook' | 'pagerduty';
  destination: string;
  event: string;
  dedupKey?: string;
  groupId?: string;
  alertname?: string;
  severity?: string;
  by?: string;
  at: string;
  attemptAt: string;
  attempt: number;
  status: 'delivered' | 'retrying' | 'rate-limited' | 'dropped';
  httpStatus?: number;
  error?: string;
}

const recordSchema = z.looseObject({
  v: z.literal(1),
  id: z.string(),
  target: z.enum(['webhook', 'pagerduty']),
  destination: z.string(),
  event: z.string(),
  at: z.string(),
  attemptAt: z.string(),
  attempt: z.number(),
  status: z.enum(['delivered', 'retrying', 'rate-limited', 'dropped']),
});

/** Where the record is kept: readers (the incident timeline) open it with `new DeliveryLog(path)`. */
export function deliveryLogPath(stateDir: string): string {
  return join(stateDir, 'notify', 'deliveries.jsonl');
}

export class DeliveryLog {
  private readonly log: JsonLinesLog<DeliveryRecord>;
  private readonly listeners = new Set<(record: DeliveryRecord) => void>();

  constructor(readonly path: string) {
    this.log = new JsonLinesLog(path, (value) => {
      const parsed = recordSchema.safeParse(value);
      return parsed.success
        ? { ok: true, record: parsed.data as DeliveryRecord }
        : { ok: false, reason: 'not a delivery record' };
    });
  }

  async append(record: DeliveryRecord): Promise<void> {
    await this.log.append([record]);
    for (const listener of this.listeners) listener(record);
  }

  /** Every record, oldest first (damaged lines are skipped). */
  async read(): Promise<DeliveryRecord[]> {
    return (await this.log.read()).records;
  }

  /** Called after each record is written (tests wait on it). */
  onRecord(listener: (record: DeliveryRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The origin of a URL: what a record names as the destination. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '?';
  }
}
