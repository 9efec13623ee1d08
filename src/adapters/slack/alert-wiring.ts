import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { App } from '@slack/bolt';
import type { AppConfig } from '../../config/load.js';
import { sweepInterval } from '../../core/alerts/retention.js';
import type { Logger } from '../../logger.js';
import type { AlertMessageOptions } from '../../messages/alert-message.js';
import type { ObservableGroupStore } from '../../ports/alert-groups.js';
import type { AlertNotifier } from '../../ports/alerting.js';
import { AlertService } from '../../services/alert-service.js';
import { AlertmanagerSilences } from '../alertmanager/silences-client.js';
import { alertmanagerWebhookRoute } from '../alertmanager/webhook-route.js';
import { startEscalationTimer } from '../escalation-timer.js';
import type { Route } from '../http/server.js';
import type { Leadership } from '../leadership.js';
import type { Metrics } from '../metrics.js';
import { FanOutNotifier } from '../notify/notifier.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import type { Quarantine } from '../storage/quarantine.js';
import { registerAlertActions, rollbackAvailable } from './alert-actions.js';
import { UsergroupHandles } from './alert-handles.js';
import { slackJobExecutor } from './alert-jobs.js';
import { SlackAlertNotifier } from './alert-notifier.js';
import { HomeJobRunner } from './home-jobs.js';
import type { LeaseTerm } from './not-leader.js';
import { Outbox } from './outbox.js';
import type { SlackJob } from './outbox-chat.js';
import { classifySlackError } from './outbox-errors.js';
import { type Journal, OutboxJournal } from './outbox-journal.js';
import type { SlackAppDeps } from './slack-app.js';
import type { SlackWebChat } from './web-chat.js';

/**
 * How the one Slack client is built (Bolt builds it from these): no retries and no waiting of its
 * own, 429 rejected, so the outbox decides when to try again.
 */
export function slackClientOptions(apiUrl: string | undefined) {
  return {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  };
}

export interface SlackOutbox {
  outbox: Outbox<SlackJob>;
  groups: ObservableGroupStore;
  /**
   * Shared with other replicas (STATE_BACKEND=kubernetes): the outbox sends only while this replica
   * leads (`lead`, which returns the fencing keys the queue holds) and stops before its next call
   * when it no longer does (`follow`). Absent: one replica, always sending.
   */
  shared?: { lead(): Promise<string[]>; follow(): Promise<void> };
  /** Fencing keys the journal held at start (escalations already queued before a restart). */
  fences: string[];
  /** Set once the cluster wiring is known (the alert message's Roll back button depends on it). */
  setAlertMessage(options: AlertMessageOptions): void;
  /** Runs the App Home's views.publish jobs once the home service is attached. */
  home: HomeJobRunner;
  /** After a clean stop (the outbox stopped): the next start is not an unclean one. */
  markStopped(): Promise<void>;
}

/**
 * How long after an unclean start a new group's first post looks for itself in Slack: longer than
 * Alertmanager keeps resending a notification that got no answer (it retries until its next
 * group_interval flush, 5 minutes by default).
 */
const AFTER_CRASH_WINDOW_MS = 15 * 60_000;

/**
 * The one durable outbox for everything the bot says in Slack, with the alert group store its jobs
 * read. Opened (journal replayed) and started before anything can post, so nothing queued is lost.
 */
export async function openSlackOutbox(deps: {
  config: AppConfig;
  web: SlackWebChat;
  metrics: Metrics;
  log: Logger;
  /** Where damaged group files and journal lines go (issue 9). */
  quarantine?: Quarantine;
  /** Clock of the user-group handle cache. */
  now?: () => number;
  /**
   * Several replicas (STATE_BACKEND=kubernetes): the queue shared in the API server, the leader fence
   * asked before every call, and whether this replica starts leading (it follows until `lead()`).
   */
  shared?: { journal: Journal<SlackJob>; fence: () => LeaseTerm; leading: boolean };
  /** Where the alert groups are kept (the state backend's). */
  groups: ObservableGroupStore;
}): Promise<SlackOutbox> {
  const { config, metrics } = deps;
  const { env, file } = config;
  const log = deps.log.child({ component: 'outbox' });
  const { groups } = deps;
  const handles = new UsergroupHandles(() => deps.web.usergroupHandles(), log, deps.now);
  let message: AlertMessageOptions = {
    oncall: file.escalation.oncall,
    silences: env.ALERTMANAGER_URL !== undefined,
    rollback: false,
  };
  const home = new HomeJobRunner(deps.web);
  const now = deps.now ?? Date.now;
  const shared = deps.shared !== undefined;
  // Present while a bot runs on this state; left behind by a crash (removed by a clean stop). Shared
  // state has no such marker: every new leader may follow one that died (see `lead`).
  const runningMarker = join(env.STATE_DIR, 'alerts', 'running');
  const crashed = !shared && existsSync(runningMarker);
  if (!shared) await writeFileAtomic(runningMarker, `${process.pid}\n`);
  let uncertainUntil = crashed ? now() + AFTER_CRASH_WINDOW_MS : 0;
  if (crashed)
    log.warn(
      'the previous run did not stop cleanly: new groups look for their message in Slack before posting it',
    );
  const alertJobs = slackJobExecutor({
    web: deps.web,
    store: groups,
    channel: config.channel,
    message: () => message,
    handles: () => handles.get(),
    afterCrash: () => now() < uncertainUntil,
    log,
  });
  const outbox = new Outbox<SlackJob>({
    // The path predates announcements going through it; kept so a journal left by an older version is replayed.
    journal:
      deps.shared?.journal ??
      new OutboxJournal(join(env.STATE_DIR, 'alerts', 'outbox.jsonl'), deps.quarantine),
    ...(deps.shared && { fence: deps.shared.fence, leading: deps.shared.leading }),
    execute: (job, attempt) => (job.kind === 'home' ? home.run(job) : alertJobs(job, attempt)),
    classify: classifySlackError,
    log,
    onDepth: (depth) => metrics.slackQueueDepth.set(depth),
  });
  // Shared: the queue is read when this replica comes to lead (`lead`), not before.
  const fences = shared ? [] : await outbox.open();
  outbox.start();
  return {
    outbox,
    groups,
    fences,
    home,
    ...(shared && {
      shared: {
        async lead() {
          // The last leader may have died mid-call: new groups look for their message before posting.
          uncertainUntil = now() + AFTER_CRASH_WINDOW_MS;
          await groups.resync?.();
          return outbox.lead();
        },
        follow: async () => outbox.follow(),
      },
    }),
    async markStopped() {
      if (!shared) await unlink(runningMarker).catch(() => undefined);
    },
    setAlertMessage(options) {
      message = options;
    },
  };
}

export interface Alerting {
  routes: Route[];
  service: AlertService;
  outbox: Outbox<SlackJob>;
  /** Stops the timer, lets the outbox drain for up to `drainMs`, then stops it (the rest stays journalled). */
  stop(drainMs?: number): Promise<void>;
}

/**
 * Builds the alerting module over the shared outbox: the webhook route, the buttons and the
 * escalation timer. Refreshes the messages of recent groups (at the lowest priority) before it starts.
 */
export async function startAlerting(deps: {
  config: AppConfig;
  app: App;
  slack: SlackAppDeps;
  outbound: SlackOutbox;
  metrics: Metrics;
  log: Logger;
  /** Clock of the escalation and retention rules (tests inject one). */
  now?: () => number;
  /** Told the same group news after Slack (webhooks, PagerDuty); their failures never reach Slack's path. */
  notifiers?: readonly AlertNotifier[];
  /** Timed work (escalations, retention) runs only on the leader; alone, this replica always leads. */
  leadership?: Leadership;
}): Promise<Alerting> {
  const { config, metrics, outbound } = deps;
  const { env, file } = config;
  const { outbox, groups: store } = outbound;
  const log = deps.log.child({ component: 'alerting' });
  const rollback = rollbackAvailable(deps.slack);
  const runbooks = deps.slack.services.runbooks;
  outbound.setAlertMessage({
    oncall: file.escalation.oncall,
    silences: env.ALERTMANAGER_URL !== undefined,
    rollback,
    // The bot's own runbook for an alert name, as `/runbook run <alertname>` resolves it.
    ...(runbooks && { runbookFor: (alertName: string) => runbooks.find(alertName)?.name }),
  });
  const slackNotifier = new SlackAlertNotifier(outbox, {
    channel: config.channel,
    oncall: file.escalation.oncall,
  });
  const others = deps.notifiers ?? [];
  const service = new AlertService({
    store,
    notifier:
      others.length === 0
        ? slackNotifier
        : new FanOutNotifier(slackNotifier, others, (error, method) =>
            log.error({ err: error, method }, 'notify: could not queue alert news beyond Slack'),
          ),
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
    now: deps.now,
  });
  const leading = () => deps.leadership?.leading ?? true;
  const shared = outbound.shared;
  if (shared) {
    // Several replicas: whoever comes to lead takes the queue over and brings every group up to date.
    deps.leadership?.add({
      name: 'slack outbox',
      async start() {
        const fences = await shared.lead();
        await service.recover(fences);
      },
      stop: () => shared.follow(),
    });
  } else {
    const forgotten = await service.forgetExpired();
    if (forgotten > 0) log.info({ forgotten }, 'resolved alert groups past retention: forgotten');
    await service.recover(outbound.fences);
  }
  const timer = startEscalationTimer(
    async () => (leading() ? service.escalate() : 0),
    log,
    {
      run: async () => (leading() ? service.forgetExpired() : 0),
      everyMs: sweepInterval(file.alerts.retention),
    },
    deps.now,
  );
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
      // Shared: what is queued is the next leader's to send; this replica only finishes its call.
      if (!shared)
        await Promise.race([outbox.idle(), new Promise((resolve) => setTimeout(resolve, drainMs).unref())]);
      await outbox.stop();
      await outbound.markStopped();
    },
  };
}
