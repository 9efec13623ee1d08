import type { Server } from 'node:http';

import { flagsCommand } from '../commands/flags.js';
import { incidentCommand } from '../commands/incident.js';
import { oncallCommand } from '../commands/oncall.js';
import { phaseCommand, phaseStatus } from '../commands/phase.js';
import { rollbackCommand } from '../commands/rollback.js';
import { runbookCommand } from '../commands/runbook.js';
import { startFlagTimer } from './adapters/flag-timer.js';
import { featureApiRoutes } from './adapters/http/features-api.js';
import { cachedCheck, healthRoutes } from './adapters/http/health.js';
import { incidentApiRoutes } from './adapters/http/incidents-api.js';
import { createHttpServer, type Route, sendJson } from './adapters/http/server.js';
import { incidentEventReader, readingOrEmpty } from './adapters/incidents/record-reader.js';
import type { ClusterSources } from './adapters/kubernetes/cluster-sources.js';
import { startClusterWiring } from './adapters/kubernetes/wiring.js';
import { Leadership } from './adapters/leadership.js';
import { createMetrics, type Metrics, setFlagGauges } from './adapters/metrics.js';
import type { NotifyJob } from './adapters/notify/notifier.js';
import { type Notify, openNotify } from './adapters/notify/wiring.js';
import { PrometheusClient } from './adapters/prometheus/prometheus-client.js';
import {
  type Alerting,
  openSlackOutbox,
  slackClientOptions,
  startAlerting,
} from './adapters/slack/alert-wiring.js';
import { announceFlagChanges } from './adapters/slack/announcer.js';
import { App } from './adapters/slack/bolt-app.js';
import { toBoltLogger } from './adapters/slack/bolt-logger.js';
import { OutboxHomePublisher } from './adapters/slack/home-jobs.js';
import { OutboxChat, type SlackJob } from './adapters/slack/outbox-chat.js';
import { SignedRequestReceiver } from './adapters/slack/receiver.js';
import { registerSlackHandlers } from './adapters/slack/slack-app.js';
import { SlackWebChat } from './adapters/slack/web-chat.js';
import { openState } from './adapters/state-wiring.js';
import { Quarantine } from './adapters/storage/quarantine.js';
import {
  announcedWarningsSchema,
  checklistStateSchema,
  homeUsersSchema,
  pendingActionsSchema,
  phaseRequestsSchema,
  rollbackAuditSchema,
  runbookRunsSchema,
  timedChangesSchema,
} from './adapters/storage/state-schemas.js';
import type { CommandSpec } from './commanding/spec.js';
import type { AppConfig } from './config/load.js';
import { FlagCatalog } from './core/flags/catalog.js';
import type { TimedChanges } from './core/flags/timed.js';
import { type ChecklistState, configuredChecklists, emptyChecklistState } from './core/phases/checklists.js';
import { SEED_PHASES } from './core/phases/plan.js';
import { SEED_RUNBOOKS } from './core/runbooks/seed.js';
import { checklistInteractions } from './interactions/checklists.js';
import { confirmationInteractions } from './interactions/confirmation.js';
import { homeInteractions } from './interactions/home.js';
import { phaseApprovalInteractions } from './interactions/phase-approvals.js';
import { InteractionRouter } from './interactions/router.js';
import { runbookInteractions } from './interactions/runbook-buttons.js';
import { InFlight } from './lifecycle.js';
import type { Logger } from './logger.js';
import { renderHome } from './messages/home.js';
import { AccessControl } from './services/access.js';
import { ChecklistService } from './services/checklist-service.js';
import { Confirmations, type PendingActions } from './services/confirmations.js';
import { FlagService } from './services/flag-service.js';
import { HomeService, type HomeUsers } from './services/home-service.js';
import { IncidentService } from './services/incident-service.js';
import { OncallService } from './services/oncall-service.js';
import { type PhaseRequests, PhaseService } from './services/phase-service.js';
import type { RollbackAudit } from './services/rollback-service.js';
import type { WatchTiming } from './services/rollback-watch.js';
import { RUNBOOK_STEP_OPENER, type RunbookRuns, RunbookService } from './services/runbook-service.js';
import type { Services } from './services/services.js';
import { type AnnouncedWarnings, reportStartupWarnings } from './services/startup-warnings.js';
import { StoreHealth } from './services/store-health.js';

/** How often the leader deletes state past its time (replay records, sent outbox jobs). */
const PRUNE_EVERY_MS = 60_000;

/** The slash commands of the manifest. */
export const COMMANDS: readonly CommandSpec[] = [
  flagsCommand,
  phaseCommand,
  rollbackCommand,
  runbookCommand,
  oncallCommand,
  incidentCommand,
];

export interface RunningBot {
  url: string;
  port: number;
  services: Services;
  metrics: Metrics;
  alerting: Alerting;
  /** The App Home: what it shows for the current state (the sandbox and tests compare against it). */
  home: HomeService;
  /** Webhooks and PagerDuty (`notify`), when configured. */
  notify?: Notify;
  /** Single replica, or leader / follower of several (STATE_BACKEND=kubernetes). */
  leadership: Leadership;
  /** Resolves once the bot has no work left: replies after acks, announcements, queued Slack posts. */
  settled(): Promise<void>;
  /** Stops taking requests, finishes in-flight work, then closes. */
  stop(): Promise<void>;
}

export interface BotOverrides {
  /** Extra operators (local mode makes its CLI user one). */
  extraOperators?: string[];
  host?: string;
  /** Where a cluster configuration is looked for (tests: an empty home, no service account). */
  clusterSources?: ClusterSources;
  /** Rollout watch pacing (tests make it quicker). */
  rolloutTiming?: Partial<WatchTiming>;
  /** Local mode adds its own routes (the sandbox) and observes the Slack route; nothing else does. */
  routes?: (routes: Route[], bot: Pick<RunningBot, 'settled'>) => Route[];
  /** Clock (ms) of the time rules: confirmation and phase request expiry, escalation, retention. */
  now?: () => number;
  /**
   * Start-up warnings (configuration that would do nothing): logged always; also said once in the
   * channel unless `log` (tests whose channel must hold only what they cause).
   */
  startupWarnings?: 'announce' | 'log';
}

/** Builds every adapter from the config, wires them and starts listening. */
export async function startBot(
  config: AppConfig,
  log: Logger,
  overrides: BotOverrides = {},
): Promise<RunningBot> {
  const { env, file } = config;
  const metrics = createMetrics();
  const inFlight = new InFlight();
  let shuttingDown = false;

  const catalog = new FlagCatalog();
  // Damaged state is quarantined and reported, never a reason not to start (issue 9).
  const quarantine = new Quarantine(env.STATE_DIR, log);
  // STATE_BACKEND: files under STATE_DIR (one replica), or objects in the API server shared by replicas.
  const state = await openState({
    config,
    log,
    quarantine,
    sources: overrides.clusterSources,
    now: overrides.now,
  });
  const { backend } = state;
  log.info(state.describe, 'state backend');
  // Only the Lease holder does timed and outbound work; with the file backend this replica always does.
  const leadership = new Leadership(log, state.election, (leading, transitions) => {
    metrics.leader.set(leading ? 1 : 0);
    metrics.leaderTransitions.set(transitions);
  });
  if (!state.election) metrics.leader.set(1); // alone, this replica always leads
  const flagStore = backend.flags(catalog);
  const now = overrides.now ?? Date.now;
  // The audit's times come from the bot's clock too: the incident timeline orders them with the alerts'.
  const flags = new FlagService(
    catalog,
    flagStore,
    () => new Date(now()),
    (error) => log.error({ err: error }, 'flag change listener failed'),
  );
  // Timed changes (`--for`): durable, reverted on the injected clock by startFlagTimer below.
  const timedStore = backend.document<TimedChanges>('timed-flags', () => ({}), {
    schema: timedChangesSchema,
    what: 'timed flag changes',
  });
  flags.useTimedChanges(timedStore, now);
  setFlagGauges(metrics, catalog, (await flags.snapshot()).values);
  flags.onChange((event) => {
    setFlagGauges(metrics, catalog, event.values);
    for (const change of event.changes) {
      metrics.flagChanges.inc({ flag: change.key, action: event.action, via: event.meta.via });
    }
  });

  const signingSecret = env.SLACK_SIGNING_SECRET ?? '';
  const receiver =
    config.slackMode === 'socket'
      ? undefined
      : new SignedRequestReceiver({ signingSecret, logger: log, nowSeconds: () => Math.floor(now() / 1000) });
  const app = new App({
    token: env.SLACK_BOT_TOKEN,
    ...(receiver ? { receiver } : { socketMode: true, appToken: env.SLACK_APP_TOKEN }),
    logger: toBoltLogger(log),
    // The one Slack client: Bolt builds it from these options; the outbox sends through it.
    clientOptions: slackClientOptions(env.SLACK_API_URL),
    deferInitialization: true,
  });
  await app.init();
  const web = new SlackWebChat(app.client, metrics, log);
  // Every post goes through the durable outbox, opened before anything can post.
  const outbound = await openSlackOutbox({
    config,
    web,
    metrics,
    log,
    quarantine,
    now,
    groups: await backend.groups(),
    shared: state.shared<SlackJob>('slack'),
  });
  const chat = new OutboxChat(outbound.outbox, () => web.ping());
  // Webhooks and PagerDuty: their own outbox and journal, opened before anything can send to them.
  const notify = await openNotify({
    config,
    log,
    quarantine,
    now,
    shared: state.shared<NotifyJob>('notify'),
  });
  flags.onChange((event) => inFlight.track(announceFlagChanges(chat, config.channel, log)(event)));

  const access = new AccessControl(
    {
      operators: [...file.access.operators, ...(overrides.extraOperators ?? [])],
      approvers: file.access.approvers,
    },
    web,
    undefined,
    now,
  );
  const confirmationStore = backend.document<PendingActions>('confirmations', () => ({}), {
    schema: pendingActionsSchema,
    what: 'pending confirmations',
  });
  const confirmations = new Confirmations(confirmationStore, undefined, now);
  const rollbackAudit = backend.document<RollbackAudit>('rollback-audit', () => ({ rollbacks: [] }), {
    schema: rollbackAuditSchema,
    what: 'rollback audit',
  });
  const cluster = await startClusterWiring({
    config,
    flags,
    chat,
    log,
    track: inFlight.track,
    sources: overrides.clusterSources,
    rolloutTiming: overrides.rolloutTiming,
    now,
    leading: () => leadership.leading,
    rollbackAudit,
  });
  const services: Services = {
    flags,
    access,
    channel: config.channel,
    cluster: cluster.services,
    rollbackDeployments: file.rollback.deployments,
    runbookCatalog: file.runbooks ?? SEED_RUNBOOKS,
  };
  const prometheus = env.PROMETHEUS_URL ? new PrometheusClient(env.PROMETHEUS_URL) : undefined;
  const phaseStore = backend.document<PhaseRequests>('phase-requests', () => ({}), {
    schema: phaseRequestsSchema,
    what: 'phase requests',
  });
  const runbookStore = backend.document<RunbookRuns>('runbook-runs', () => ({}), {
    schema: runbookRunsSchema,
    what: 'runbook runs',
  });
  const checklistStore = backend.document<ChecklistState>('checklists', emptyChecklistState, {
    schema: checklistStateSchema,
    what: 'phase checklist ticks',
  });
  const homeUsers = backend.document<HomeUsers>('home-users', () => ({ users: [] }), {
    schema: homeUsersSchema,
    what: 'App Home users',
  });
  // Read each document now so a damaged one is quarantined at start. A file that cannot be read at
  // all (EISDIR, EACCES) is not damaged data: the store keeps failing at use, and /readyz says so.
  await Promise.all(
    [confirmationStore, phaseStore, runbookStore, checklistStore, homeUsers, timedStore].map((store) =>
      store.read().catch((error: unknown) => log.error({ err: error }, 'a state file cannot be read')),
    ),
  );
  services.checklists = new ChecklistService({
    checklists: configuredChecklists(SEED_PHASES, file.phases.checklists),
    store: checklistStore,
    now: () => new Date(now()),
  });
  services.phases = new PhaseService({
    checklists: services.checklists,
    flags,
    access,
    store: phaseStore,
    chat,
    channel: config.channel,
    approvalsRequired: file.access.approvalsRequired,
    gates: file.gates,
    prometheus,
    prometheusLinkBase: env.PROMETHEUS_EXTERNAL_URL ?? env.PROMETHEUS_URL,
    cluster: cluster.services,
    deployments: file.rollback.deployments,
    requestTimeoutMs: file.phases.requestTimeout,
    now: () => new Date(now()),
  });
  services.runbooks = new RunbookService({
    runbooks: services.runbookCatalog ?? SEED_RUNBOOKS,
    store: runbookStore,
    chat,
    channel: config.channel,
    prometheus,
    cluster: cluster.services,
    ...(notify && { statusPage: notify.notifier }),
    now: () => new Date(now()),
  });
  // A confirmation a runbook step opened tells the run how it ended (done only once executed).
  const runbooks = services.runbooks;
  confirmations.onSettled(RUNBOOK_STEP_OPENER, (opener, outcome) =>
    runbooks.confirmationSettled(opener.ref, outcome),
  );
  // The incident timeline reads what the other use-cases recorded; it keeps nothing of its own.
  services.incidents = new IncidentService({
    events: incidentEventReader({
      groups: outbound.groups,
      flagAudit: () => flagStore.history({ limit: Number.MAX_SAFE_INTEGER }),
      rollbacks: readingOrEmpty(rollbackAudit, { rollbacks: [] }, (error) =>
        log.warn(
          { err: error },
          'the rollback audit cannot be read; the incident timeline leaves rollbacks out',
        ),
      ),
      runbookRuns: runbookStore,
      phaseRequests: phaseStore,
      runbooks: services.runbookCatalog ?? SEED_RUNBOOKS,
      tiers: file.escalation.tiers,
      oncall: file.escalation.oncall,
    }),
    chat,
    channel: config.channel,
    now,
  });
  // The App Home: published on app_home_opened, and again for its openers when what it shows changes.
  const home = new HomeService({
    channel: config.channel,
    flags,
    phaseRequests: phaseStore,
    runbookRuns: runbookStore,
    runbooks: services.runbookCatalog ?? SEED_RUNBOOKS,
    groups: outbound.groups,
    escalation: { oncall: file.escalation.oncall, tiers: file.escalation.tiers },
    users: homeUsers,
    publisher: new OutboxHomePublisher(outbound.outbox),
    log: log.child({ component: 'home' }),
  });
  await home
    .start()
    .catch((error: unknown) => log.error({ err: error }, 'App Home: state unreadable at start'));
  outbound.home.attach(async () => renderHome(await home.state()));
  const homeChanged = () => void inFlight.track(home.changed());
  flags.onChange(homeChanged);
  phaseStore.onChange(homeChanged);
  runbookStore.onChange(homeChanged);
  outbound.groups.onChange(homeChanged);
  // Readiness reads these too, so a phase or runbook file that cannot be read shows in /readyz.
  const phaseHealth = new StoreHealth('phase requests', phaseStore);
  const runbookHealth = new StoreHealth('runbook runs', runbookStore);
  const checklistHealth = new StoreHealth('phase checklist ticks', checklistStore);
  const replay = backend.replay();
  const router = new InteractionRouter({ commands: COMMANDS, services, confirmations, replay, metrics, log });
  const slackDeps = { commands: COMMANDS, router, services, log, track: inFlight.track };
  registerSlackHandlers(app, slackDeps, [
    ...confirmationInteractions(COMMANDS, confirmations),
    ...runbookInteractions({ runbooks: services.runbooks, commands: COMMANDS }),
    ...phaseApprovalInteractions(services.phases),
    ...checklistInteractions({ checklists: services.checklists, status: phaseStatus }),
    ...homeInteractions(home),
  ]);
  const alerting = await startAlerting({
    config,
    app,
    slack: slackDeps,
    outbound,
    metrics,
    log,
    now,
    ...(notify && { notifiers: [notify.notifier] }),
    leadership,
  });
  const notifyShared = notify?.shared;
  if (notifyShared)
    leadership.add({ name: 'notify outbox', start: notifyShared.lead, stop: notifyShared.follow });
  services.oncall = new OncallService({
    groups: outbound.groups,
    tiers: file.escalation.tiers,
    oncall: file.escalation.oncall,
    directory: web,
    now,
  });
  const flagTimer = startFlagTimer(
    flags,
    log.child({ component: 'flag-timer' }),
    (text) => inFlight.track(chat.post(config.channel, { kind: 'note', text }).then(() => undefined)),
    () => leadership.leading,
  );
  inFlight.track(
    quarantine.attach(async (text) => void (await chat.post(config.channel, { kind: 'note', text }))),
  );
  // Configuration that would quietly do nothing: one log line each, and said once in the channel (by
  // the leader, so that two replicas starting together do not both say it).
  const clusterServices = cluster.services;
  const startupWarnings = () =>
    reportStartupWarnings({
      facts: {
        approvers: file.access.approvers,
        tiers: file.escalation.tiers,
        gates: file.gates,
        prometheusUrl: env.PROMETHEUS_URL,
      },
      cluster: clusterServices && {
        configured: file.rollback.deployments,
        namespace: clusterServices.namespace,
        list: async () => (await clusterServices.rollback.listDeployments()).map((row) => row.name),
      },
      log,
      post: async (text) => {
        if (overrides.startupWarnings !== 'log') await chat.post(config.channel, { kind: 'note', text });
      },
      store: backend.document<AnnouncedWarnings>('startup-warnings', () => ({ posted: [] }), {
        schema: announcedWarningsSchema,
        what: 'start-up warnings',
      }),
    }).catch((error: unknown) => log.error({ err: error }, 'start-up warnings could not be reported'));
  let warned = false;
  leadership.add({
    name: 'start-up warnings',
    start() {
      if (warned) return;
      warned = true;
      inFlight.track(startupWarnings());
    },
    stop() {},
  });
  // Time-bounded state the backend keeps (replay records, sent outbox jobs): pruned by the leader.
  let pruning: NodeJS.Timeout | undefined;
  leadership.add({
    name: 'state pruning',
    start() {
      pruning = setInterval(() => {
        void state.prune(now()).catch((error: unknown) => log.warn({ err: error }, 'state pruning failed'));
      }, PRUNE_EVERY_MS);
      pruning.unref();
    },
    stop() {
      clearInterval(pruning);
    },
  });
  leadership.start();

  const settled = async () => {
    while (inFlight.size > 0 || alerting.outbox.depth > 0) {
      await inFlight.idle();
      await alerting.outbox.idle();
    }
  };
  const baseRoutes: Route[] = [
    ...(receiver
      ? [{ method: 'POST', path: '/slack/events', handler: receiver.handle.bind(receiver) } satisfies Route]
      : []),
    ...featureApiRoutes(flags, env.FLAG_API_TOKEN),
    ...incidentApiRoutes(services.incidents, env.FLAG_API_TOKEN),
    ...alerting.routes,
    ...healthRoutes(
      [
        {
          name: 'store',
          check: async () => {
            await flagStore.checkWritable();
            await confirmations.checkReady();
            await replay.checkReady();
            await phaseHealth.check();
            await runbookHealth.check();
            await checklistHealth.check();
          },
        },
        { name: 'slack', check: cachedCheck(() => chat.ping(), 15_000) },
        ...cluster.readiness,
      ],
      () => shuttingDown,
      { role: () => leadership.role() },
    ),
    {
      method: 'GET',
      path: '/metrics',
      handler: async (_req, res) => {
        // Several replicas: a flag changed through another one is not an event here; read it now.
        if (state.election)
          await flags
            .snapshot()
            .then((current) => setFlagGauges(metrics, catalog, current.values))
            .catch((error: unknown) => log.warn({ err: error }, 'metrics: flag state unreadable'));
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(await metrics.registry.metrics());
      },
    },
    { method: 'GET', path: '/', handler: (_req, res) => sendJson(res, 200, { service: 'switchyard' }) },
  ];
  const routes = overrides.routes ? overrides.routes(baseRoutes, { settled }) : baseRoutes;
  if (config.slackMode === 'socket') {
    // Connect before listening, so a bad app token stops start-up without leaving work running.
    try {
      await app.start();
    } catch (error) {
      await cluster.stop();
      await flagTimer.stop();
      await alerting.stop(0);
      await notify?.stop(0);
      await leadership.stop();
      await state.stop();
      throw error;
    }
  }
  const server = createHttpServer(routes, log, metrics);
  let port: number;
  try {
    port = await listen(server, env.PORT, overrides.host ?? '0.0.0.0');
  } catch (error) {
    // The port is taken (say): nothing keeps running, and a Lease won meanwhile is released.
    await cluster.stop();
    await flagTimer.stop();
    await alerting.stop(0);
    await notify?.stop(0);
    await leadership.stop();
    await state.stop();
    throw error;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    services,
    metrics,
    alerting,
    home,
    leadership,
    ...(notify && { notify }),
    settled,
    async stop() {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await cluster.stop();
      await flagTimer.stop();
      if (state.election) {
        // Several replicas: hand over first. The outboxes finish the call in progress (what is queued
        // is the next leader's to send), then the Lease is released, so the other replica takes over
        // at once rather than after this one's requests drain.
        await alerting.stop();
        await notify?.stop();
        await leadership.stop();
      }
      const drained = await inFlight.drain(10_000);
      if (!drained) log.warn({ pending: inFlight.size }, 'stopped with work still in flight');
      if (!state.election) {
        // Alone: the outboxes drain what the requests queued (for a few seconds), then stop.
        await alerting.stop();
        await notify?.stop();
        await leadership.stop();
      }
      await state.stop();
      if (config.slackMode === 'socket') await app.stop();
      server.closeAllConnections();
      await closed;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
