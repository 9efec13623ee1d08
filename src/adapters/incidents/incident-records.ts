import {
  chainOf,
  type EscalationTier,
  escalationStart,
  sentTierIndexes,
  tierName,
} from '../../core/alerts/escalation.js';
import type { AuditEntry } from '../../core/flags/state.js';
import type { EventActor, IncidentEvent } from '../../core/incidents/timeline.js';
import type { PhaseRequest } from '../../core/phases/request.js';
import type { RollbackRecord } from '../../core/rollout/reentry.js';
import type { Runbook } from '../../core/runbooks/runbook.js';
import type { GroupRecord } from '../../ports/alert-groups.js';
import type { StoredRun } from '../../services/runbook-service.js';

/**
 * The bot's records, read into the plain events the incident timeline is built from. Each store keeps
 * what it needs for its own work; this says what each record means as a moment in an incident, with
 * who and, where the bot posted about it, a link to that Slack message.
 */
export interface IncidentRecords {
  groups: readonly GroupRecord[];
  /** The flag audit log, in any order. */
  flagAudit: readonly AuditEntry[];
  rollbacks: readonly RollbackRecord[];
  runbookRuns: readonly StoredRun[];
  runbooks: readonly Runbook[];
  phaseRequests: readonly PhaseRequest[];
  /** `escalation.tiers` (ms) and `escalation.oncall`: who a group's pages went to. */
  tiers: readonly EscalationTier[];
  oncall?: string;
}

const ALERTMANAGER: EventActor = { id: 'alertmanager', name: 'Alertmanager' };
const SWITCHYARD: EventActor = { id: 'switchyard', name: 'Switchyard' };

/** Slack's archive link for a message (`p` + the ts without its dot), as the bot's replies link runs. */
export function slackLink(channel: string, ts: string): string | undefined {
  if (!/^[CGD][A-Z0-9]+$/.test(channel) || !/^\d+\.\d+$/.test(ts)) return undefined;
  return `https://slack.com/archives/${channel}/p${ts.replace('.', '')}`;
}

export function eventsFromRecords(records: IncidentRecords): IncidentEvent[] {
  return [
    ...records.groups.flatMap((group) => groupEvents(group, records.tiers, records.oncall)),
    ...flagEvents(records.flagAudit),
    ...records.rollbacks.flatMap(rollbackEvent),
    ...records.runbookRuns.flatMap((run) => runbookEvents(run, records.runbooks)),
    ...records.phaseRequests.flatMap(phaseEvents),
  ];
}

function groupEvents(
  record: GroupRecord,
  tiers: readonly EscalationTier[],
  oncall?: string,
): IncidentEvent[] {
  const { state } = record;
  const alert =
    state.commonLabels.alertname ??
    state.groupLabels.alertname ??
    Object.values(state.alerts)[0]?.labels.alertname;
  const base = {
    group: record.id,
    alert: alert ?? state.groupKey,
    ...(record.message && { link: slackLink(record.message.channel, record.message.ts) }),
  };
  const summary = state.commonAnnotations.summary;
  const events: IncidentEvent[] = [
    {
      kind: 'alert-fired',
      at: state.openedAt,
      actor: ALERTMANAGER,
      ...base,
      severity: state.severity,
      ...(summary && { summary }),
    },
  ];
  // Pages go out from when the bot received the episode, along the chain snapshotted then.
  const start = escalationStart(state);
  if (state.severity === 'sev1' && oncall) {
    events.push({ kind: 'page', at: start, actor: SWITCHYARD, ...base, tier: 0, targets: [oncall] });
  }
  const chain = chainOf(state, tiers);
  for (const index of sentTierIndexes(state, record.sentEscalations)) {
    const tier = chain[index];
    if (!tier) continue;
    events.push({
      kind: 'page',
      at: start + tier.after,
      actor: SWITCHYARD,
      ...base,
      tier: index + 1,
      role: tierName(tier, index),
      targets: [...tier.notify],
    });
  }
  if (state.acknowledged) {
    events.push({ kind: 'ack', at: state.acknowledged.at, actor: { id: state.acknowledged.by }, ...base });
  }
  if (state.silence?.at !== undefined) {
    events.push({
      kind: 'silence',
      at: state.silence.at,
      actor: { id: state.silence.by },
      ...base,
      until: state.silence.until,
    });
  }
  if (state.status === 'resolved' && state.resolvedAt !== undefined) {
    events.push({
      kind: 'alert-resolved',
      at: state.resolvedAt,
      actor: ALERTMANAGER,
      ...base,
      severity: state.severity,
    });
  }
  return events;
}

/** One event per change: the audit has a line per flag, and one kill switch turns many off at once. */
function flagEvents(audit: readonly AuditEntry[]): IncidentEvent[] {
  const sorted = [...audit].sort((a, b) => a.seq - b.seq);
  const events: IncidentEvent[] = [];
  let previous: AuditEntry | undefined;
  for (const entry of sorted) {
    const at = Date.parse(entry.at);
    if (!Number.isFinite(at)) continue;
    const last = events.at(-1);
    if (previous && last?.kind === 'flag-change' && sameChange(previous, entry)) {
      last.changes.push({ flag: entry.flag, to: entry.after });
    } else {
      events.push({
        kind: 'flag-change',
        at,
        actor: { id: entry.actor.id, ...(entry.actor.name && { name: entry.actor.name }) },
        action: entry.action,
        via: entry.via,
        changes: [{ flag: entry.flag, to: entry.after }],
        ...(entry.reason && { reason: entry.reason }),
      });
    }
    previous = entry;
  }
  return events;
}

function sameChange(a: AuditEntry, b: AuditEntry): boolean {
  return (
    b.seq === a.seq + 1 &&
    a.at === b.at &&
    a.actor.id === b.actor.id &&
    a.action === b.action &&
    a.via === b.via &&
    a.reason === b.reason &&
    a.correlationId === b.correlationId
  );
}

function rollbackEvent(record: RollbackRecord): IncidentEvent[] {
  const at = Date.parse(record.at);
  if (!Number.isFinite(at)) return [];
  return [
    {
      kind: 'rollback',
      at,
      actor: { id: record.by },
      ...(record.thread && { link: slackLink(record.thread.channel, record.thread.ts) }),
      deployment: record.deployment,
      fromRevision: record.fromRevision,
      toRevision: record.toRevision,
      // Records written before images were kept have none.
      fromImages: Array.isArray(record.fromImages) ? [...record.fromImages] : [],
      ...(typeof record.reason === 'string' && record.reason && { reason: record.reason }),
    },
  ];
}

function runbookEvents(stored: StoredRun, runbooks: readonly Runbook[]): IncidentEvent[] {
  const { run } = stored;
  const runbook = runbooks.find((candidate) => candidate.name === run.runbook);
  const top = slackLink(stored.channel, stored.ts);
  const events: IncidentEvent[] = [];
  const push = (at: string | undefined, event: Omit<Extract<IncidentEvent, { kind: 'runbook' }>, 'at'>) => {
    const ms = at === undefined ? Number.NaN : Date.parse(at);
    if (Number.isFinite(ms)) events.push({ ...event, at: ms });
  };
  push(run.startedAt, {
    kind: 'runbook',
    actor: { id: run.startedBy },
    runbook: run.runbook,
    what: 'started',
    ...(top && { link: top }),
  });
  run.steps.forEach((step, index) => {
    const what =
      step.status === 'done'
        ? 'step-done'
        : step.status === 'skipped'
          ? 'step-skipped'
          : step.status === 'failed'
            ? 'step-failed'
            : undefined;
    if (!what) return;
    const stepTs = stored.stepTs[index];
    const link = (stepTs && slackLink(stored.channel, stepTs)) || top;
    const title = runbook?.steps[index]?.title;
    push(step.at, {
      kind: 'runbook',
      actor: step.by ? { id: step.by } : SWITCHYARD,
      runbook: run.runbook,
      what,
      step: index + 1,
      ...(title && { stepTitle: title }),
      ...(step.note && { note: step.note }),
      ...(link && { link }),
    });
  });
  if (run.aborted) {
    push(run.aborted.at, {
      kind: 'runbook',
      actor: { id: run.aborted.by },
      runbook: run.runbook,
      what: 'aborted',
      ...(top && { link: top }),
    });
  } else if (run.completedAt) {
    push(run.completedAt, {
      kind: 'runbook',
      actor: SWITCHYARD,
      runbook: run.runbook,
      what: 'completed',
      ...(top && { link: top }),
    });
  }
  return events;
}

function phaseEvents(request: PhaseRequest): IncidentEvent[] {
  const link = slackLink(request.channel, request.ts);
  const base = {
    kind: 'phase' as const,
    from: request.from.name,
    to: request.to.name,
    approvals: [...request.approvals],
    ...(link && { link }),
  };
  const events: IncidentEvent[] = [];
  const requestedAt = Date.parse(request.requestedAt);
  if (Number.isFinite(requestedAt)) {
    events.push({
      ...base,
      at: requestedAt,
      actor: { id: request.requester },
      what: 'requested',
      status: 'open',
      approvals: [],
      ...(request.reason && { reason: request.reason }),
    });
  }
  const settledAt = request.settledAt === undefined ? Number.NaN : Date.parse(request.settledAt);
  if (Number.isFinite(settledAt)) {
    events.push({
      ...base,
      at: settledAt,
      actor: request.cancelledBy ? { id: request.cancelledBy } : SWITCHYARD,
      what: 'settled',
      status: request.status,
    });
  }
  return events;
}
