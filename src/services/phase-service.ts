import { randomUUID } from 'node:crypto';
import { formatDuration } from '../core/duration.js';
import type { Actor } from '../core/flags/state.js';
import { planPhaseAdvance } from '../core/phases/advance.js';
import { applyVote, quorum } from '../core/phases/approvals.js';
import { checklistGate, phaseChecklistId } from '../core/phases/checklists.js';
import {
  type Baseline,
  captureBaseline,
  evaluateDegradation,
  evaluateMetricGate,
  evaluateRolloutGate,
  type GateResult,
  gatesFor,
  gatesPassed,
  type MetricGate,
  type MetricReading,
  prometheusGraphLink,
  type RolloutReading,
  unevaluableGates,
} from '../core/phases/gates.js';
import { type Phase, SEED_PHASES } from '../core/phases/plan.js';
import { isActive, mayCancel, newRequestVersus } from '../core/phases/request.js';
import type { Chat } from '../ports/chat.js';
import type { DocumentStore } from '../ports/document-store.js';
import type { PrometheusQuery } from '../ports/prometheus.js';
import type { AccessControl } from './access.js';
import type { ChecklistService } from './checklist-service.js';
import type { ClusterServices } from './cluster-services.js';
import type { FlagService } from './flag-service.js';
import type { PhaseRequest, PhaseRequests } from './phase-request.js';
import { permalink } from './runbook-service.js';

/** The reaction that approves (Slack's name for ✅). */
export const APPROVE_REACTION = 'white_check_mark';

export type { PhaseRequest, PhaseRequests };

export interface PhaseServiceDeps {
  flags: FlagService;
  access: AccessControl;
  store: DocumentStore<PhaseRequests>;
  chat: Chat;
  channel: string;
  approvalsRequired: number;
  gates: readonly MetricGate[];
  prometheus?: PrometheusQuery;
  /** Where people open Prometheus (`PROMETHEUS_EXTERNAL_URL`, else `PROMETHEUS_URL`): each gate links its query there. */
  prometheusLinkBase?: string;
  cluster?: ClusterServices;
  /** Deployments that must be fully rolled out (config `rollback.deployments`). */
  deployments: readonly string[];
  now: () => Date;
  newId?: () => string;
  ttlMs?: number;
  /** `phases.requestTimeout`: a new request supersedes an active one older than this (default 1 h). */
  requestTimeoutMs?: number;
  phases?: readonly Phase[];
  /** The deployment checklists: an advance needs the current phase's all ticked, or an override. */
  checklists?: ChecklistService;
}

export type RequestOutcome =
  | { kind: 'opened'; request: PhaseRequest; link: string; superseded?: PhaseRequest }
  | { kind: 'busy'; request: PhaseRequest; link: string }
  | { kind: 'refused'; error: string }
  /** The current phase's checklist has unticked items and no override reason was given. */
  | { kind: 'unticked'; title: string; unticked: string[] };

export interface RequestOptions {
  /** `--override`: the reason is also the reason to go ahead with unticked checklist items. */
  override?: boolean;
}

export type CancelOutcome =
  | { kind: 'none' }
  /** Its gate checks are running: too late to cancel. */
  | { kind: 'checking'; request: PhaseRequest; link: string }
  | { kind: 'refused'; request: PhaseRequest; link: string }
  | { kind: 'cancelled'; request: PhaseRequest; link: string };

export interface ReactionEvent {
  user: string;
  reaction: string;
  channel: string;
  ts: string;
  added: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * `/phase advance`: an approval request in the channel, approvals by ✅ from approvers (never the
 * requester), then the gate checks, then the next phase's flags on. Requests are kept durably.
 */
export class PhaseService {
  private readonly newId: () => string;
  private readonly phases: readonly Phase[];

  constructor(private readonly deps: PhaseServiceDeps) {
    this.newId = deps.newId ?? (() => randomUUID().slice(0, 12));
    this.phases = deps.phases ?? SEED_PHASES;
  }

  async list(): Promise<PhaseRequest[]> {
    return Object.values(await this.deps.store.read()).sort((a, b) =>
      a.requestedAt.localeCompare(b.requestedAt),
    );
  }

  /** Opens a request and posts it, or points at the one still open (one at a time). */
  async request(
    user: string,
    reason: string | undefined,
    options: RequestOptions = {},
  ): Promise<RequestOutcome> {
    const { values } = await this.deps.flags.snapshot();
    const plan = planPhaseAdvance(this.phases, this.deps.flags.catalog, values);
    if (!plan.ok) return { kind: 'refused', error: plan.error };
    // One at a time comes first: a request still waiting is what the person needs to hear about.
    const waiting = Object.values(await this.deps.store.read()).find((request) => isActive(request));
    if (
      waiting &&
      !this.expired(waiting) &&
      newRequestVersus(
        waiting,
        this.deps.now().getTime(),
        this.deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      ) === 'busy'
    ) {
      return { kind: 'busy', request: waiting, link: permalink(waiting) };
    }
    const found = await this.deps.checklists?.unticked(phaseChecklistId(plan.from));
    const gate = found && checklistGate(found.items, options.override ? reason : undefined);
    if (found && gate && !gate.ok) {
      return { kind: 'unticked', title: found.list.title, unticked: gate.unticked.map((item) => item.text) };
    }
    const checklist =
      found && gate?.ok
        ? {
            id: found.list.id,
            title: found.list.title,
            total: found.list.items.length,
            unticked: gate.unticked.map((item) => item.text),
            ...(gate.override ? { override: { reason: gate.override, by: user } } : {}),
          }
        : undefined;
    await this.expireStale();
    const baseline = await this.baselineOf(plan.from.number, plan.to.number);
    const now = this.deps.now();
    const timeoutMs = this.deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const claimed = await this.deps.store.update<
      | { kind: 'busy'; request: PhaseRequest }
      | { kind: 'new'; request: PhaseRequest; superseded?: { before: PhaseRequest; after: PhaseRequest } }
    >((requests) => {
      const active = Object.values(requests).find((request) => isActive(request));
      if (active && newRequestVersus(active, now.getTime(), timeoutMs) === 'busy') {
        return { next: requests, result: { kind: 'busy', request: active } };
      }
      const request: PhaseRequest = {
        id: this.newId(),
        from: { number: plan.from.number, name: plan.from.name },
        to: { number: plan.to.number, name: plan.to.name },
        toEnable: plan.changes.map((change) => change.key),
        gateSummary: this.gateSummary(plan.to.number),
        gateWarnings: unevaluableGates(gatesFor(this.deps.gates, plan.to.number), {
          prometheus: this.deps.prometheus !== undefined,
          cluster: this.deps.cluster !== undefined,
          deployments: this.deps.deployments,
        }),
        requester: user,
        reason,
        required: this.deps.approvalsRequired,
        requestedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + (this.deps.ttlMs ?? DAY_MS)).toISOString(),
        approvals: [],
        status: 'open',
        ...(checklist ? { checklist } : {}),
        channel: this.deps.channel,
        ts: '',
        ...(baseline ? { baseline } : {}),
      };
      const next = { ...requests, [request.id]: request };
      if (!active) return { next, result: { kind: 'new', request } };
      const after: PhaseRequest = {
        ...active,
        status: 'superseded',
        supersededBy: request.id,
        settledAt: now.toISOString(),
        outcome: `Superseded by a new request: this one was open longer than ${formatDuration(timeoutMs)} (phases.requestTimeout). Nothing was changed.`,
      };
      next[active.id] = after;
      return { next, result: { kind: 'new', request, superseded: { before: active, after } } };
    });
    if (claimed.kind === 'busy')
      return { kind: 'busy', request: claimed.request, link: permalink(claimed.request) };
    const { request, superseded } = claimed;
    let posted: { channel: string; ts: string };
    try {
      posted = await this.deps.chat.post(this.deps.channel, { kind: 'phase-request', request });
    } catch (error) {
      // Not posted: forget it (and give back the one it replaced), so an advance can be asked for again.
      await this.deps.store.update((requests) => {
        const { [request.id]: _dropped, ...rest } = requests;
        if (superseded && rest[superseded.before.id]?.supersededBy === request.id) {
          rest[superseded.before.id] = superseded.before;
        }
        return { next: rest, result: undefined };
      });
      throw error;
    }
    const saved = await this.save(request.id, (stored) => ({
      ...stored,
      channel: posted.channel,
      ts: posted.ts,
    }));
    if (checklist?.override) {
      // The override is in the request itself; the checklists' record says it too.
      await this.deps.checklists?.override({
        checklist: checklist.id,
        unticked: checklist.unticked,
        reason: checklist.override.reason,
        requestId: request.id,
        by: user,
      });
    }
    if (superseded?.after.ts) await this.announceEnd(superseded.after);
    return {
      kind: 'opened',
      request: saved ?? request,
      link: permalink(posted),
      ...(superseded ? { superseded: superseded.after } : {}),
    };
  }

  /**
   * `/phase cancel`: the requester or an operator ends the open request; anyone else is refused.
   * A request whose gate checks already run cannot be cancelled (the checks decide it).
   */
  async cancel(user: string, reason: string | undefined): Promise<CancelOutcome> {
    await this.expireStale();
    const active = Object.values(await this.deps.store.read()).find((request) => isActive(request));
    if (!active) return { kind: 'none' };
    const link = permalink(active);
    const isOperator = user !== active.requester && (await this.deps.access.check(user, 'operator')).allowed;
    if (!mayCancel(active, user, isOperator)) return { kind: 'refused', request: active, link };
    const cancelled = await this.deps.store.update<PhaseRequest | 'checking' | undefined>((requests) => {
      const stored = requests[active.id];
      if (stored?.status === 'checking') return { next: requests, result: 'checking' };
      if (stored?.status !== 'open') return { next: requests, result: undefined };
      const updated: PhaseRequest = {
        ...stored,
        status: 'cancelled',
        cancelledBy: user,
        settledAt: this.deps.now().toISOString(),
        outcome: `Cancelled${reason ? `: “${reason}”` : ''}. Nothing was changed.`,
      };
      return { next: { ...requests, [stored.id]: updated }, result: updated };
    });
    if (cancelled === 'checking') return { kind: 'checking', request: active, link };
    if (!cancelled) return { kind: 'none' };
    if (cancelled.ts) await this.announceEnd(cancelled);
    return { kind: 'cancelled', request: cancelled, link };
  }

  /** A request ended without an advance: its message says so, and its thread says how. */
  private async announceEnd(request: PhaseRequest): Promise<void> {
    await this.deps.chat.update(request.channel, request.ts, { kind: 'phase-request', request });
    await this.deps.chat.post(request.channel, {
      kind: 'phase-outcome',
      request,
      threadTs: request.ts,
    });
  }

  /**
   * A ✅ added or removed on a request message. Retries and duplicates are harmless: approvals are a
   * set of users. Reaching the quorum moves the request to `checking` once, under the store's lock.
   */
  async reaction(event: ReactionEvent): Promise<void> {
    if (event.reaction !== APPROVE_REACTION) return;
    const found = Object.values(await this.deps.store.read()).find(
      (request) => request.ts === event.ts && request.channel === event.channel,
    );
    if (found?.status !== 'open') return;
    if (this.expired(found)) {
      await this.expireStale();
      return;
    }
    const eligible =
      event.added && event.user !== found.requester
        ? (await this.deps.access.check(event.user, 'approver')).allowed
        : false;
    const changed = await this.deps.store.update<{ request: PhaseRequest; check: boolean } | undefined>(
      (requests) => {
        const request = requests[found.id];
        if (request?.status !== 'open') return { next: requests, result: undefined };
        const vote = applyVote(request.approvals, request.requester, {
          user: event.user,
          added: event.added,
          eligible,
        });
        if (vote.outcome !== 'counted' && vote.outcome !== 'withdrawn')
          return { next: requests, result: undefined };
        const reached = quorum(vote.approvals, request.requester, request.required).reached;
        const updated: PhaseRequest = {
          ...request,
          approvals: vote.approvals,
          status: reached ? 'checking' : 'open',
        };
        return { next: { ...requests, [request.id]: updated }, result: { request: updated, check: reached } };
      },
    );
    if (!changed) return;
    await this.deps.chat.update(changed.request.channel, changed.request.ts, {
      kind: 'phase-request',
      request: changed.request,
    });
    if (changed.check) await this.advance(changed.request.id);
  }

  /** The quorum is reached: gates, then the flags (planned again under the flag lock). */
  private async advance(id: string): Promise<void> {
    const request = (await this.deps.store.read())[id];
    if (!request) return;
    let gates: GateResult[] = [];
    try {
      const readings = await Promise.all(this.deps.gates.map((gate) => this.read(gate.query)));
      gates = await this.runGates(readings, request.baseline, request.to.number);
      if (!gatesPassed(gates)) {
        const failing = gates.filter((gate) => !gate.passed);
        await this.settle(
          id,
          'blocked',
          `:no_entry: Blocked by the gate checks: ${failing.map((gate) => `${gate.name}: ${gate.detail}`).join('; ')}. Nothing was changed; fix it and run \`/phase advance\` again.`,
          gates,
        );
        return;
      }
      let error: string | undefined;
      const changes = await this.deps.flags.changeWith(
        (values) => {
          const plan = planPhaseAdvance(this.phases, this.deps.flags.catalog, values);
          if (!plan.ok) {
            error = plan.error;
            return [];
          }
          if (plan.from.number !== request.from.number) {
            error = `The phase changed since the request: it is now Phase ${plan.from.number} — ${plan.from.name}.`;
            return [];
          }
          return plan.changes;
        },
        'phase',
        {
          actor: { id: request.requester } satisfies Actor,
          via: 'slack',
          reason: `Phase ${request.to.number} — ${request.to.name}${request.reason ? `: ${request.reason}` : ''} (approved by ${request.approvals.join(', ')})`,
          correlationId: request.id,
        },
      );
      if (error) {
        await this.settle(id, 'failed', `:warning: ${error} Nothing was changed.`, gates);
        return;
      }
      const turnedOn =
        changes.map((change) => `\`${change.key}\``).join(', ') || 'nothing (its flags were on already)';
      // The new phase's baseline: the gates' values as it begins, kept with the request that began it.
      const nextBaseline = captureBaseline(
        this.deps.gates,
        readings,
        request.to.number,
        this.deps.now().toISOString(),
        'phase-start',
      );
      await this.settle(
        id,
        'advanced',
        `:rocket: Advanced to Phase ${request.to.number} — ${request.to.name}: turned on ${turnedOn}.`,
        gates,
        nextBaseline,
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      await this.settle(id, 'failed', `:warning: The advance failed: ${reason}. Nothing was changed.`, gates);
      throw error;
    }
  }

  /** Each metric gate, then its "no degradation" check against the baseline, then the rollout gate. */
  private async runGates(
    readings: MetricReading[],
    baseline: Baseline | undefined,
    phase: number,
  ): Promise<GateResult[]> {
    const results: GateResult[] = [];
    this.deps.gates.forEach((gate, index) => {
      if (!gatesFor([gate], phase).length) return;
      const reading = readings[index] ?? { kind: 'error', reason: 'not read' };
      const where = this.linkOf(gate.query);
      results.push({ ...evaluateMetricGate(gate, reading), ...where });
      const degradation = evaluateDegradation(gate, baseline, reading);
      if (degradation) results.push({ ...degradation, ...where });
    });
    results.push(evaluateRolloutGate(await this.rollout()));
    return results;
  }

  private linkOf(query: string): { query: string; link?: string } {
    const base = this.deps.prometheusLinkBase;
    return base ? { query, link: prometheusGraphLink(base, query) } : { query };
  }

  /**
   * The baseline the current phase is judged against: the one kept when it began (the newest advance
   * into it), else — the phase began outside an advance, or Phase 0 — the values now, said as such.
   * Only needed for gates with `degradation`, and only readable with a Prometheus.
   */
  private async baselineOf(phase: number, next: number): Promise<Baseline | undefined> {
    const compared = gatesFor(this.deps.gates, next).filter((gate) => gate.degradation);
    if (compared.length === 0 || !this.deps.prometheus) return undefined;
    const started = Object.values(await this.deps.store.read())
      .filter(
        (request) => request.status === 'advanced' && request.to.number === phase && request.nextBaseline,
      )
      .sort((a, b) => (a.settledAt ?? a.requestedAt).localeCompare(b.settledAt ?? b.requestedAt))
      .at(-1)?.nextBaseline;
    if (started) return started;
    const readings = await Promise.all(compared.map((gate) => this.read(gate.query)));
    return captureBaseline(compared, readings, phase, this.deps.now().toISOString(), 'request');
  }

  private async read(query: string): Promise<MetricReading> {
    if (!this.deps.prometheus) return { kind: 'no-prometheus' };
    try {
      return await this.deps.prometheus.query(query);
    } catch (error) {
      return { kind: 'error', reason: error instanceof Error ? error.message : String(error) };
    }
  }

  private async rollout(): Promise<RolloutReading> {
    const cluster = this.deps.cluster;
    if (!cluster) return { kind: 'no-cluster' };
    try {
      return {
        kind: 'rows',
        expected: this.deps.deployments,
        rows: await cluster.rollback.listDeployments(),
      };
    } catch (error) {
      return { kind: 'error', reason: error instanceof Error ? error.message : String(error) };
    }
  }

  private gateSummary(phase: number): string[] {
    const metric = gatesFor(this.deps.gates, phase).map(
      (gate) =>
        `${gate.name} ${gate.max !== undefined ? `below ${gate.max}` : `at least ${gate.min}`}${gate.degradation ? ', no worse than its baseline' : ''}`,
    );
    const rollout = this.deps.cluster
      ? `rollout status of ${this.deps.deployments.map((name) => `\`${name}\``).join(', ') || 'no Deployments'}`
      : 'rollout status (no cluster configured)';
    return [
      ...(this.deps.prometheus ? metric : metric.map((line) => `${line} (no Prometheus configured)`)),
      rollout,
    ];
  }

  private async settle(
    id: string,
    status: PhaseRequest['status'],
    outcome: string,
    gates: GateResult[],
    nextBaseline?: Baseline,
  ): Promise<void> {
    const settled = await this.save(id, (stored) => ({
      ...stored,
      status,
      outcome,
      gates,
      ...(nextBaseline ? { nextBaseline } : {}),
      settledAt: this.deps.now().toISOString(),
    }));
    if (!settled) return;
    await this.deps.chat.update(settled.channel, settled.ts, { kind: 'phase-request', request: settled });
    await this.deps.chat.post(settled.channel, {
      kind: 'phase-outcome',
      request: settled,
      threadTs: settled.ts,
    });
  }

  private expired(request: PhaseRequest): boolean {
    // A request left `checking` (the bot stopped mid-check) is released at expiry too.
    return isActive(request) && Date.parse(request.expiresAt) <= this.deps.now().getTime();
  }

  /** Open requests past their expiry are closed, and their messages say so. */
  private async expireStale(): Promise<void> {
    const expired = await this.deps.store.update((requests) => {
      const stale = Object.values(requests).filter((request) => this.expired(request));
      if (stale.length === 0) return { next: requests, result: [] as PhaseRequest[] };
      const next = { ...requests };
      const settledAt = this.deps.now().toISOString();
      const updated = stale.map((request) => ({ ...request, status: 'expired' as const, settledAt }));
      for (const request of updated) next[request.id] = request;
      return { next, result: updated };
    });
    for (const request of expired) {
      if (request.ts)
        await this.deps.chat.update(request.channel, request.ts, { kind: 'phase-request', request });
    }
  }

  private async save(
    id: string,
    change: (stored: PhaseRequest) => PhaseRequest,
  ): Promise<PhaseRequest | undefined> {
    return this.deps.store.update((requests) => {
      const stored = requests[id];
      if (!stored) return { next: requests, result: undefined };
      const updated = change(stored);
      return { next: { ...requests, [id]: updated }, result: updated };
    });
  }
}
