import type { Severity } from '../alerts/types.js';
import { parseDuration } from '../duration.js';
import type { AuditAction, ChangeChannel } from '../flags/state.js';

/**
 * An incident's story, as data: plain event records read from the bot's own stores (alert groups,
 * the flag audit, the rollback audit, runbook runs, phase requests), put in order, with the durations
 * a post-mortem asks for. Pure: no clock, no I/O; the messages layer words and escapes it.
 */

/** Who did something: a Slack user or user-group id, or one of the systems the bot hears from. */
export interface EventActor {
  /** `U…`/`W…`/`S…`, or `alertmanager`, `switchyard`, `api`, `cluster`. */
  id: string;
  /** A name the record kept (the flag audit does), shown beside the id. */
  name?: string;
}

interface EventBase {
  /** Epoch ms. */
  at: number;
  actor: EventActor;
  /** The Slack message where it happened, when the bot knows it (`https://slack.com/archives/…`). */
  link?: string;
}

export type IncidentEvent = EventBase &
  (
    | { kind: 'alert-fired'; group: string; alert: string; severity: Severity; summary?: string }
    | { kind: 'alert-resolved'; group: string; alert: string; severity: Severity }
    /** Tier 0 is the on-call ping when the group opened; tiers 1… are the escalation tiers. */
    | {
        kind: 'page';
        group: string;
        alert: string;
        tier: number;
        /** The tier's role name (Team Lead…), for tiers 1…. */
        role?: string;
        targets: string[];
      }
    | { kind: 'ack'; group: string; alert: string }
    | { kind: 'silence'; group: string; alert: string; until: number }
    | {
        kind: 'flag-change';
        action: AuditAction;
        via: ChangeChannel;
        changes: Array<{ flag: string; to: boolean }>;
        reason?: string;
      }
    | {
        kind: 'rollback';
        deployment: string;
        fromRevision: number;
        toRevision: number;
        fromImages: string[];
        reason?: string;
      }
    | {
        kind: 'runbook';
        runbook: string;
        /** What happened to the run or to one of its steps. */
        what: 'started' | 'step-done' | 'step-skipped' | 'step-failed' | 'aborted' | 'completed';
        /** 1-based, for step events. */
        step?: number;
        stepTitle?: string;
        note?: string;
      }
    | {
        kind: 'phase';
        what: 'requested' | 'settled';
        from: string;
        to: string;
        status: string;
        approvals: string[];
        reason?: string;
      }
  );

export type IncidentEventKind = IncidentEvent['kind'];

/** Within one millisecond, the order a reader expects (an alert fires before its page goes out). */
const KIND_ORDER: Record<IncidentEventKind, number> = {
  'alert-fired': 0,
  page: 1,
  ack: 2,
  silence: 3,
  runbook: 4,
  'flag-change': 5,
  rollback: 6,
  phase: 7,
  'alert-resolved': 8,
};

export interface TimeWindow {
  /** Epoch ms, inclusive. */
  since: number;
  /** Epoch ms, inclusive. */
  until: number;
}

/**
 * The events inside the window, in time order. The order is total (time, then kind, then content),
 * so the same records give the same timeline whatever order the stores were read in.
 */
export function buildTimeline(events: readonly IncidentEvent[], window: TimeWindow): IncidentEvent[] {
  return events
    .filter((event) => Number.isFinite(event.at) && event.at >= window.since && event.at <= window.until)
    .map((event) => ({ event, key: canonical(event) }))
    .sort(
      (a, b) =>
        a.event.at - b.event.at ||
        KIND_ORDER[a.event.kind] - KIND_ORDER[b.event.kind] ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    )
    .map(({ event }) => event);
}

function canonical(event: IncidentEvent): string {
  return JSON.stringify(event, Object.keys(event).sort());
}

/** Whether the event took something away to stop the harm: a flag turned off, the kill switch, a rollback. */
export function isMitigation(event: IncidentEvent): boolean {
  if (event.kind === 'rollback') return true;
  if (event.kind !== 'flag-change') return false;
  return event.action !== 'drift' && event.changes.some((change) => !change.to);
}

export interface IncidentDurations {
  /** The first alert that fired in the timeline. */
  startedAt?: number;
  /** The first acknowledgement at or after the start. */
  acknowledgedAt?: number;
  /** The first mitigation at or after the start (see `isMitigation`). */
  mitigatedAt?: number;
  /** When the last group that fired was resolved, once every one of them is. */
  resolvedAt?: number;
  timeToAcknowledge?: number;
  timeToMitigate?: number;
  timeToResolve?: number;
  /** The highest severity among the alerts that fired. */
  severity?: Severity;
}

/** Time to acknowledge, to mitigate and to resolve, counted from the first alert of an ordered timeline. */
export function incidentDurations(timeline: readonly IncidentEvent[]): IncidentDurations {
  const fired = timeline.filter((event) => event.kind === 'alert-fired');
  const first = fired[0];
  if (!first) return {};
  const startedAt = first.at;
  const after = (event: IncidentEvent) => event.at >= startedAt;
  const acknowledgedAt = timeline.find((event) => event.kind === 'ack' && after(event))?.at;
  const mitigatedAt = timeline.find((event) => isMitigation(event) && after(event))?.at;
  // A group is resolved when a resolve of it comes after its last firing.
  const open = new Set<string>();
  let resolvedAt: number | undefined;
  for (const event of timeline) {
    if (event.kind === 'alert-fired') open.add(event.group);
    if (event.kind === 'alert-resolved' && open.delete(event.group) && open.size === 0) resolvedAt = event.at;
  }
  if (open.size > 0) resolvedAt = undefined;
  const severity = fired.map((event) => event.severity).sort()[0];
  return {
    startedAt,
    ...(acknowledgedAt !== undefined && { acknowledgedAt, timeToAcknowledge: acknowledgedAt - startedAt }),
    ...(mitigatedAt !== undefined && { mitigatedAt, timeToMitigate: mitigatedAt - startedAt }),
    ...(resolvedAt !== undefined && { resolvedAt, timeToResolve: resolvedAt - startedAt }),
    ...(severity && { severity }),
  };
}

/** How far back `/incident timeline` looks without a `since`. */
export const DEFAULT_LOOKBACK_MS = 24 * 60 * 60 * 1000;
/** The longest window one draft covers. */
export const MAX_WINDOW_MS = 90 * 24 * 60 * 60 * 1000;

export type WindowResult = { ok: true; window: TimeWindow } | { ok: false; error: string };

/**
 * `[since] [until]` as typed: each a duration back from now (`2h`, `90m`, `1d`) or an ISO 8601 time
 * (`2026-12-04T03:00Z`, `2026-12-04`; a time without a zone is UTC). `since` defaults to 24 h ago,
 * `until` to now.
 */
export function parseWindow(since: string | undefined, until: string | undefined, now: number): WindowResult {
  const start = since === undefined ? now - DEFAULT_LOOKBACK_MS : parseTimePoint(since, now);
  if (start === undefined) return { ok: false, error: unparsable('since', since ?? '') };
  const end = until === undefined ? now : parseTimePoint(until, now);
  if (end === undefined) return { ok: false, error: unparsable('until', until ?? '') };
  if (start > end) return { ok: false, error: '`since` is after `until`: give the earlier time first.' };
  if (end - start > MAX_WINDOW_MS)
    return { ok: false, error: 'The window is longer than 90 days: narrow it.' };
  return { ok: true, window: { since: start, until: end } };
}

function unparsable(name: string, text: string): string {
  return `\`${name}\` must be a duration back from now (\`2h\`, \`90m\`, \`1d\`) or a UTC time like \`2026-12-04T03:00Z\`; got \`${text.slice(0, 40).replace(/`/g, "'")}\`.`;
}

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

function parseTimePoint(text: string, now: number): number | undefined {
  const trimmed = text.trim();
  const duration = parseDuration(trimmed);
  if (duration !== undefined) return now - duration;
  if (!ISO.test(trimmed)) return undefined;
  const withZone =
    trimmed.length === 10
      ? `${trimmed}T00:00:00Z`
      : /(?:Z|[+-]\d{2}:\d{2})$/.test(trimmed)
        ? trimmed.replace(' ', 'T')
        : `${trimmed.replace(' ', 'T')}Z`;
  const ms = Date.parse(withZone);
  return Number.isFinite(ms) ? ms : undefined;
}
