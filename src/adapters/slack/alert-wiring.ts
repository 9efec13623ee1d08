import { join } from 'node:path';
import { type App, webApi } from '@slack/bolt';
import { AlertService } from '../../alerting/alert-service.js';
import { startEscalationTimer } from '../../alerting/escalation-timer.js';
import { FileGroupStore } from '../../alerting/file-group-store.js';
import type { AppConfig } from '../../config/load.js';
import { sweepInterval } from '../../core/alerts/retention.js';
import type { Logger } from '../../logger.js';
import { AlertmanagerSilences } from '../alertmanager/silences-client.js';
import { alertmanagerWebhookRoute } from '../alertmanager/webhook-route.js';
import type { Route } from '../http/server.js';
import type { Metrics } from '../metrics.js';
import type { Quarantine } from '../storage/quarantine.js';
import { registerAlertActions, rollbackAvailable } from './alert-actions.js';
import { alertJobExecutor } from './alert-jobs.js';
import { SlackAlertNotifier, type SlackJob } from './alert-notifier.js';
import { toBoltLogger } from './bolt-logger.js';
import { Outbox } from './outbox.js';
import { classifySlackError } from './outbox-errors.js';
import { OutboxJournal } from './outbox-journal.js';
import type { SlackAppDeps } from './slack-app.js';
import { SlackWebChat } from './web-chat.js';

export interface Alerting {
  routes: Route[];
  service: AlertService;
  outbox: Outbox<SlackJob>;
  /** Stops the timer, lets the outbox drain for up to `drainMs`, then stops it (the rest stays journalled). */
  stop(drainMs?: number): Promise<void>;
}

/**
 * Builds the alerting module: group store and outbox under STATE_DIR/alerts, the Slack client the
 * outbox owns (no retries of its own, 429 rejected, so the outbox decides), the webhook route, the
 * buttons and the escalation timer. Replays what a crash left pending before it starts.
 */
export async function startAlerting(deps: {
  config: AppConfig;
  app: App;
  slack: SlackAppDeps;
  metrics: Metrics;
  log: Logger;
  /** Where damaged group files and journal lines go (issue 9). */
  quarantine?: Quarantine;
}): Promise<Alerting> {
  const { config, metrics } = deps;
  const { env, file } = config;
  const log = deps.log.child({ component: 'alerting' });
  const client = new webApi.WebClient(env.SLACK_BOT_TOKEN, {
    ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: toBoltLogger(log),
  });
  const chat = new SlackWebChat(client, metrics, log);
  const store = new FileGroupStore(join(env.STATE_DIR, 'alerts', 'groups'), deps.quarantine);
  await store.load();
  const rollback = rollbackAvailable(deps.slack);
  const outbox: Outbox<SlackJob> = new Outbox<SlackJob>({
    journal: new OutboxJournal(join(env.STATE_DIR, 'alerts', 'outbox.jsonl'), deps.quarantine),
    execute: alertJobExecutor({
      chat,
      store,
      channel: config.channel,
      message: { oncall: file.escalation.oncall, silences: env.ALERTMANAGER_URL !== undefined, rollback },
      log,
    }),
    classify: classifySlackError,
    log,
    onDepth: (depth) => metrics.slackQueueDepth.set(depth),
  });
  const service = new AlertService({
    store,
    notifier: new SlackAlertNotifier(outbox, { channel: config.channel, oncall: file.escalation.oncall }),
    silences: env.ALERTMANAGER_URL ? new AlertmanagerSilences(env.ALERTMANAGER_URL) : undefined,
    tiers: file.escalation.tiers,
    severityMapping: file.severity.mapping,
    observer: {
      received: (status, severity, count) => metrics.alertsReceived.inc({ status, severity }, count),
      escalated: (tier) => metrics.escalationsSent.inc({ tier: String(tier + 1) }),
      activeGroups: (count) => metrics.alertGroupsActive.set(count),
    },
    retentionMs: file.alerts.retention,
    // Nothing is forgotten while Slack posts are queued: a queued job must still find its group.
    holdRetention: () => outbox.depth > 0,
  });
  const fences = await outbox.open();
  const forgotten = await service.forgetExpired();
  if (forgotten > 0) log.info({ forgotten }, 'resolved alert groups past retention: forgotten');
  await service.recover(fences);
  outbox.start();
  const timer = startEscalationTimer(() => service.escalate(), log, {
    run: () => service.forgetExpired(),
    everyMs: sweepInterval(file.alerts.retention),
  });
  registerAlertActions(deps.app, { slack: deps.slack, alerts: service, rollback });

  return {
    routes: [
      alertmanagerWebhookRoute({
        token: env.ALERTMANAGER_WEBHOOK_TOKEN,
        ingest: (notification) => service.ingest(notification),
        observeSeconds: (seconds) => metrics.alertWebhookDuration.observe(seconds),
      }),
    ],
    service,
    outbox,
    async stop(drainMs = 5_000) {
      await timer.stop();
      await Promise.race([outbox.idle(), new Promise((resolve) => setTimeout(resolve, drainMs).unref())]);
      await outbox.stop();
    },
  };
}
