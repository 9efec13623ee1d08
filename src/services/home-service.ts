import {
  chainOf,
  type EscalationTier,
  escalationStart,
  nextEscalationAt,
  sentTierIndexes,
  tierName,
} from '../core/alerts/escalation.js';
import { summariseGroup } from '../core/alerts/summary.js';
import { formatDuration } from '../core/duration.js';
import { type Phase, phasePosition, SEED_PHASES } from '../core/phases/plan.js';
import type { Runbook } from '../core/runbooks/runbook.js';
import type { Logger } from '../logger.js';
import type { GroupRecord } from '../ports/alert-groups.js';
import type { DocumentStore } from '../ports/document-store.js';
import type { HomeAlert, HomePublisher, HomeState } from '../ports/home.js';
import type { FlagService } from './flag-service.js';
import type { PhaseRequests } from './phase-request.js';
import type { RunbookRuns } from './runbook-service.js';

/** Who opened the App Home, most recent last: their Home is republished when what it shows changes. */
export interface HomeUsers {
  users: string[];
}

/** At most this many users are remembered (the oldest opener is dropped first). */
export const MAX_HOME_USERS = 1_000;

export interface HomeServiceDeps {
  channel: string;
  flags: FlagService;
  phases?: readonly Phase[];
  phaseRequests: Pick<DocumentStore<PhaseRequests>, 'read'>;
  runbookRuns: Pick<DocumentStore<RunbookRuns>, 'read'>;
  runbooks: readonly Runbook[];
  groups: { firing(): GroupRecord[] };
  escalation: {
    oncall?: string;
    tiers: ReadonlyArray<{ after: number; notify: readonly string[]; name?: string }>;
  };
  users: DocumentStore<HomeUsers>;
  publisher: HomePublisher;
  log: Logger;
}

const SEVERITY_ORDER = { sev1: 0, sev2: 1, sev3: 2 } as const;

/**
 * The App Home: what it shows (gathered from the bot's state), who gets it, and when it is published
 * again. Opening Home publishes it for that user; a change of anything it shows republishes it for
 * everyone who opened it (once per change of what it shows, not per write). Rendering is the messages
 * layer's (`renderHome`), done by the outbox when it sends.
 */
export class HomeService {
  /** The state last handed out (as JSON); a write that does not change what Home shows publishes nothing. */
  private lastState: string | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly deps: HomeServiceDeps) {}

  /** Someone opened the Home tab: remembered durably, and sent the view. */
  async opened(user: string): Promise<void> {
    if (!/^[UW][A-Z0-9]+$/.test(user)) return; // not a Slack user id: nobody to publish to
    await this.deps.users.update((current) => {
      const others = current.users.filter((id) => id !== user);
      const users = [...others, user].slice(-MAX_HOME_USERS);
      const same = others.length === current.users.length - 1 && current.users.at(-1) === user;
      return { next: same ? current : { users }, result: undefined };
    });
    await this.deps.publisher.publish([user], 'opened');
    // What the opener is sent is the state now: a later refresh compares against it.
    if (this.lastState === undefined && !this.running) this.lastState = JSON.stringify(await this.state());
  }

  /**
   * Something Home shows may have changed: gathers it again and, if it differs, republishes Home for every
   * remembered user. Calls while one runs are folded into one more run. Resolves when that is done.
   */
  changed(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.refresh();
        } while (this.again);
      } catch (error) {
        this.deps.log.error({ err: error }, 'App Home: could not refresh');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Remembers the state at start, so that only a later change republishes Home. */
  async start(): Promise<void> {
    this.lastState = JSON.stringify(await this.state());
  }

  private async refresh(): Promise<void> {
    const { users } = await this.deps.users.read();
    if (users.length === 0) {
      // Nobody to publish to (an alert storm before anyone opened Home renders nothing); whoever opens
      // it gets the view then, and the next change is compared afresh.
      this.lastState = undefined;
      return;
    }
    const state = JSON.stringify(await this.state());
    if (state === this.lastState) return;
    this.lastState = state;
    await this.deps.publisher.publish(users, 'changed');
  }

  /** Everything Home shows, as data. */
  async state(): Promise<HomeState> {
    const { deps } = this;
    const catalog = deps.flags.catalog;
    const snapshot = await deps.flags.snapshot();
    const defaults = catalog.defaults();
    const position = phasePosition(deps.phases ?? SEED_PHASES, snapshot.values, defaults);
    const flags = catalog.flags
      .filter((flag) => snapshot.values[flag.key] !== flag.defaultEnabled)
      .map((flag) => {
        const last = snapshot.lastChange[flag.key];
        return {
          key: flag.key,
          enabled: snapshot.values[flag.key] === true,
          ...(last && { by: last.by.id, at: last.at, ...(last.reason && { reason: last.reason }) }),
        };
      });
    const requests = Object.values(await deps.phaseRequests.read())
      .filter((request) => request.status === 'open' || request.status === 'checking')
      .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
    const runs = Object.values(await deps.runbookRuns.read())
      .filter((stored) => stored.run.completedAt === undefined && !('abortedAt' in stored.run))
      .sort((a, b) => a.run.startedAt.localeCompare(b.run.startedAt));
    const tiers = deps.escalation.tiers.map((tier, index) => ({
      name: tierName(tier, index),
      after: formatDuration(tier.after),
      notify: [...tier.notify],
      ms: tier.after,
    }));
    const alerts = deps.groups
      .firing()
      .map((record) => alertOf(record, tiers))
      .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.openedAt - b.openedAt);
    return {
      channel: deps.channel,
      phase: {
        current: { number: position.current.number, name: position.current.name },
        ...(position.next && {
          next: {
            number: position.next.number,
            name: position.next.name,
            checklist: [...position.next.checklist],
            toEnable: position.toEnable,
          },
        }),
        ahead: position.ahead,
      },
      flags,
      alerts,
      approvals: requests.map((request) => ({
        from: `${request.from.number} ${request.from.name}`,
        to: `${request.to.number} ${request.to.name}`,
        requester: request.requester,
        approvals: [...request.approvals],
        required: request.required,
        status: request.status,
        expiresAt: request.expiresAt,
        channel: request.channel,
        ts: request.ts,
      })),
      runbooks: runs.map(({ run, channel, ts }) => {
        const runbook = deps.runbooks.find((candidate) => candidate.name === run.runbook);
        const current = run.steps.findIndex((step) => step.status === 'current');
        return {
          title: runbook?.title ?? run.runbook,
          startedBy: run.startedBy,
          startedAt: run.startedAt,
          steps: run.steps.length,
          ...(current >= 0 && {
            step: current + 1,
            ...(runbook?.steps[current] && { stepTitle: runbook.steps[current].title }),
          }),
          channel,
          ts,
        };
      }),
      escalation: {
        ...(deps.escalation.oncall && { oncall: deps.escalation.oncall }),
        tiers: tiers.map(({ name, after, notify }) => ({ name, after, notify })),
      },
    };
  }
}

function alertOf(
  record: GroupRecord,
  tiers: ReadonlyArray<{ name: string; notify: string[]; ms: number }>,
): HomeAlert {
  const { state } = record;
  const summary = summariseGroup(state);
  const schedule: EscalationTier[] = tiers.map((tier) => ({
    after: tier.ms,
    notify: tier.notify,
    name: tier.name,
  }));
  const sent = sentTierIndexes(state, record.sentEscalations);
  const at = nextEscalationAt(state, schedule, sent);
  // The group's own chain (snapshot at open) and start (first receipt), as the escalation uses them.
  const chain = chainOf(state, schedule);
  const start = escalationStart(state);
  const tierIndex =
    at === undefined
      ? -1
      : chain.findIndex((tier, index) => !sent.includes(index) && start + tier.after <= at);
  const chained = chain[tierIndex];
  const tier = chained && { name: tierName(chained, tierIndex), notify: chained.notify };
  return {
    title: summary.title,
    severity: state.severity,
    firingCount: summary.firingCount,
    openedAt: state.openedAt,
    ...(state.acknowledged && { acknowledged: { ...state.acknowledged } }),
    ...(state.silence && { silencedUntil: state.silence.until }),
    ...(record.message && { message: { ...record.message } }),
    ...(at !== undefined && tier && { nextPage: { tier: tier.name, notify: [...tier.notify], at } }),
  };
}
