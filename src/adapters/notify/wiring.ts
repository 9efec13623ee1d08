import { join } from 'node:path';
import type { AppConfig } from '../../config/load.js';
import type { Logger } from '../../logger.js';
import type { LeaseTerm } from '../slack/not-leader.js';
import { Outbox } from '../slack/outbox.js';
import { type Journal, OutboxJournal } from '../slack/outbox-journal.js';
import type { Quarantine } from '../storage/quarantine.js';
import { classifyDeliveryError, DeliveryError, postJson } from './delivery.js';
import { DeliveryLog, type DeliveryRecord, deliveryLogPath, originOf } from './delivery-log.js';
import { type NotifyJob, NotifyNotifier } from './notifier.js';

export interface Notify {
  notifier: NotifyNotifier;
  outbox: Outbox<NotifyJob>;
  deliveries: DeliveryLog;
  /** Several replicas: sends only while this one leads (see SlackOutbox.shared). */
  shared?: { lead(): Promise<void>; follow(): Promise<void> };
  /** Lets the outbox drain for up to `drainMs`, then stops it (the rest stays journalled). */
  stop(drainMs?: number): Promise<void>;
}

/**
 * The notify module, when the config has webhooks or PagerDuty: a second durable outbox (its own
 * journal, its own error rules: 5xx and network errors retried with backoff, 4xx dropped, 429 waits),
 * whose every attempt is recorded in the delivery log. Undefined when nothing is configured.
 */
export async function openNotify(deps: {
  config: AppConfig;
  log: Logger;
  quarantine?: Quarantine;
  /** The bot's clock (event times in the records). */
  now?: () => number;
  /** Backoff of the first retry (doubles each time, at most 30 s). */
  baseBackoffMs?: number;
  /** Several replicas: the shared queue, the leader fence, and whether this replica starts leading. */
  shared?: { journal: Journal<NotifyJob>; fence: () => LeaseTerm; leading: boolean };
}): Promise<Notify | undefined> {
  const { config } = deps;
  const { webhooks, pagerduty } = config.file.notify;
  if (webhooks.length === 0 && !pagerduty) return undefined;
  const now = deps.now ?? Date.now;
  const log = deps.log.child({ component: 'notify' });
  const shared = deps.shared !== undefined;
  const deliveries = new DeliveryLog(deliveryLogPath(config.env.STATE_DIR));
  const routingKey = config.secrets?.pagerdutyRoutingKey;
  const tries = new Map<string, number>();

  const record = async (job: NotifyJob, id: string, attempt: number, outcome: Partial<DeliveryRecord>) => {
    const target = job.kind;
    const destination = originOf(job.kind === 'webhook' ? job.url : (pagerduty?.url ?? ''));
    const entry: DeliveryRecord = {
      v: 1,
      id,
      target,
      destination,
      ...job.meta,
      ...(job.kind === 'pagerduty' && { dedupKey: job.event.dedup_key }),
      attemptAt: new Date(now()).toISOString(),
      attempt,
      status: 'delivered',
      ...outcome,
    };
    // The log stream keeps every attempt for good; the file (one replica) is what the tests read.
    log.info({ delivery: entry }, 'notify: delivery record');
    if (shared) return;
    try {
      await deliveries.append(entry);
    } catch (error) {
      // The delivery happened (or failed) all the same; resending it would not fix the record.
      log.error({ err: error, delivery: id }, 'notify: delivery record could not be written');
    }
  };

  const execute = async (job: NotifyJob, attempt: { id: string }) => {
    const number = (tries.get(attempt.id) ?? 0) + 1;
    tries.set(attempt.id, number);
    try {
      const answer =
        job.kind === 'webhook'
          ? await postJson(job.url, job.body, { 'x-switchyard-delivery': attempt.id }, number)
          : await sendPagerDuty(job, number);
      tries.delete(attempt.id);
      await record(job, attempt.id, number, { status: 'delivered', httpStatus: answer.status });
      log.info({ delivery: attempt.id, target: job.kind, event: job.meta.event }, 'notify: delivered');
    } catch (error) {
      const failure = classifyDeliveryError(error);
      const status =
        failure.kind === 'drop' ? 'dropped' : failure.kind === 'rate-limited' ? 'rate-limited' : 'retrying';
      if (status === 'dropped') tries.delete(attempt.id);
      await record(job, attempt.id, number, {
        status,
        ...(error instanceof DeliveryError && error.status !== undefined && { httpStatus: error.status }),
        error: failure.kind === 'rate-limited' ? 'HTTP 429' : failure.reason,
      });
      throw error;
    }
  };

  const sendPagerDuty = (job: Extract<NotifyJob, { kind: 'pagerduty' }>, number: number) => {
    if (!pagerduty || !routingKey) {
      throw new DeliveryError('PagerDuty is no longer configured', number, 400);
    }
    // The routing key joins the event only here: never journalled, never logged.
    return postJson(pagerduty.url, { ...job.event, routing_key: routingKey }, {}, number);
  };

  const outbox = new Outbox<NotifyJob>({
    journal:
      deps.shared?.journal ??
      new OutboxJournal(join(config.env.STATE_DIR, 'notify', 'outbox.jsonl'), deps.quarantine),
    ...(deps.shared && { fence: deps.shared.fence, leading: deps.shared.leading }),
    execute,
    classify: classifyDeliveryError,
    log,
    baseBackoffMs: deps.baseBackoffMs ?? 500,
    noun: 'delivery',
  });
  if (!shared) await outbox.open();
  outbox.start();
  const notifier = new NotifyNotifier(
    outbox,
    {
      webhooks: webhooks.map((hook) => ({
        url: hook.url,
        events: hook.events,
        severities: hook.severities,
        ...(hook.template !== undefined && { template: hook.template }),
      })),
      ...(pagerduty && { pagerduty: { severities: pagerduty.severities } }),
    },
    now,
  );
  log.info(
    {
      webhooks: webhooks.map((hook) => originOf(hook.url)),
      pagerduty: pagerduty ? originOf(pagerduty.url) : undefined,
    },
    'notify: targets configured',
  );
  return {
    notifier,
    outbox,
    deliveries,
    ...(shared && {
      shared: { lead: async () => void (await outbox.lead()), follow: async () => outbox.follow() },
    }),
    async stop(drainMs = 2_000) {
      if (!shared)
        await Promise.race([outbox.idle(), new Promise((resolve) => setTimeout(resolve, drainMs).unref())]);
      await outbox.stop();
    },
  };
}
