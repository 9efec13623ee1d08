import type { AlertGroupState } from './group.js';
import { compareSeverity, DEFAULT_SEVERITY_MAPPING, severityOf } from './severity.js';
import type { Alert, AlertStatus, Severity } from './types.js';

/**
 * A group summarised for display within limits. Plain text, no markup: a renderer (Slack Block Kit,
 * the CLI) escapes and decorates it.
 */
export interface SummaryOptions {
  /** Most alerts listed. Default 20. */
  maxAlerts?: number;
  /** Most characters of all lines joined with `\n`. Default 2500 (under Slack's 3000 a section). */
  maxTextChars?: number;
  /** Most characters of one line. Default 500. */
  maxLineChars?: number;
  /** Most characters of the title. Default 150. */
  maxTitleChars?: number;
  /** For ordering the lines by severity; the default mapping when omitted. */
  severityMapping?: Readonly<Record<string, Severity>>;
}

export interface GroupSummary {
  title: string;
  severity: Severity;
  status: AlertStatus;
  firingCount: number;
  resolvedCount: number;
  /** Something was left out: alerts not listed, a line cut short, or alerts Alertmanager did not send. */
  truncated: boolean;
  /** One per listed alert, firing first. */
  lines: string[];
  /** Known alerts not listed. */
  hiddenCount: number;
  /** Alerts of the group that Alertmanager left out of its latest notification (`truncatedAlerts`). */
  notReceivedCount: number;
}

export const DEFAULT_SUMMARY_LIMITS = {
  maxAlerts: 20,
  maxTextChars: 2500,
  maxLineChars: 500,
  maxTitleChars: 150,
} as const;

/** Below this many characters a line says nothing useful: list fewer alerts instead. */
const MIN_LINE_CHARS = 16;
const ELLIPSIS = '…';

function limit(value: number | undefined, fallback: number): number {
  return value === undefined || Number.isNaN(value) ? fallback : Math.max(0, Math.floor(value));
}

/** One line of plain text: control characters and runs of whitespace become single spaces. */
function oneLine(text: string): string {
  return text.replace(/[\s\p{Cc}]+/gu, ' ').trim();
}

/** `text` cut to at most `max` UTF-16 units, ending with an ellipsis when cut; never splits a surrogate pair. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let end = max - ELLIPSIS.length;
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end).trimEnd()}${ELLIPSIS}`;
}

function byDisplayOrder(a: Alert, b: Alert, mapping: Readonly<Record<string, Severity>>): number {
  if (a.status !== b.status) return a.status === 'firing' ? -1 : 1;
  const bySeverity = compareSeverity(severityOf(a.labels, mapping), severityOf(b.labels, mapping));
  if (bySeverity !== 0) return bySeverity;
  const byStart = (Date.parse(a.startsAt) || 0) - (Date.parse(b.startsAt) || 0);
  if (byStart !== 0) return byStart;
  return a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0;
}

/**
 * `[firing] instance=10.0.0.1:8080: text` — the labels that set the alert apart from the group, then
 * its `summary` annotation, or its `description` when the summary is the group's (already in the
 * title) or missing.
 */
function alertLine(alert: Alert, state: AlertGroupState): string {
  const distinct = Object.keys(alert.labels)
    .filter((name) => alert.labels[name] !== state.commonLabels[name])
    .sort()
    .map((name) => `${name}=${alert.labels[name]}`)
    .join(' ');
  const { summary, description } = alert.annotations;
  const useDescription =
    description !== undefined && (summary === undefined || summary === state.commonAnnotations.summary);
  const text = (useDescription ? description : summary) ?? alert.labels.alertname ?? alert.fingerprint;
  return oneLine(`[${alert.status}] ${distinct}${distinct ? ': ' : ''}${text}`);
}

/** Shares `budget` among lines of these lengths, each getting at most its length, the short ones first. */
function allocate(lengths: readonly number[], budget: number): number[] {
  const order = lengths.map((length, index) => ({ length, index })).sort((a, b) => a.length - b.length);
  const shares = new Array<number>(lengths.length).fill(0);
  let remaining = budget;
  order.forEach(({ length, index }, position) => {
    const share = Math.min(length, Math.floor(remaining / (order.length - position)));
    shares[index] = share;
    remaining -= share;
  });
  return shares;
}

function titleOf(state: AlertGroupState, firingCount: number): string {
  const labels = Object.keys(state.groupLabels).length > 0 ? state.groupLabels : state.commonLabels;
  const name = labels.alertname ?? state.commonLabels.alertname ?? 'Alerts';
  const others = Object.keys(labels)
    .filter((key) => key !== 'alertname')
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(', ');
  const status = state.status === 'firing' ? `firing (${firingCount})` : 'resolved';
  const summary = state.commonAnnotations.summary;
  return oneLine(
    `${state.severity.toUpperCase()} ${status}: ${name}${others ? ` (${others})` : ''}${summary ? ` - ${summary}` : ''}`,
  );
}

export function summariseGroup(state: AlertGroupState, limits: SummaryOptions = {}): GroupSummary {
  const maxAlerts = limit(limits.maxAlerts, DEFAULT_SUMMARY_LIMITS.maxAlerts);
  const maxTextChars = limit(limits.maxTextChars, DEFAULT_SUMMARY_LIMITS.maxTextChars);
  const maxLineChars = limit(limits.maxLineChars, DEFAULT_SUMMARY_LIMITS.maxLineChars);
  const maxTitleChars = limit(limits.maxTitleChars, DEFAULT_SUMMARY_LIMITS.maxTitleChars);

  const mapping = limits.severityMapping ?? DEFAULT_SEVERITY_MAPPING;
  const alerts = Object.values(state.alerts).sort((a, b) => byDisplayOrder(a, b, mapping));
  const firingCount = alerts.filter((alert) => alert.status === 'firing').length;

  // As many alerts as fit with a useful line each; lines are joined by one newline.
  let shown = Math.min(maxAlerts, alerts.length);
  const budgetFor = (count: number) => maxTextChars - Math.max(0, count - 1);
  const lineCap = Math.min(maxLineChars, maxTextChars);
  while (shown > 0 && Math.min(lineCap, budgetFor(shown) / shown) < Math.min(MIN_LINE_CHARS, lineCap))
    shown -= 1;
  if (lineCap === 0) shown = 0;

  const full = alerts.slice(0, shown).map((alert) => alertLine(alert, state));
  const shares = allocate(
    full.map((line) => Math.min(line.length, maxLineChars)),
    budgetFor(shown),
  );
  const lines = full.map((line, index) => cutText(line, shares[index] ?? 0));
  const cut = lines.some((line, index) => line !== full[index]);
  const hiddenCount = alerts.length - shown;

  return {
    title: cutText(titleOf(state, firingCount), maxTitleChars),
    severity: state.severity,
    status: state.status,
    firingCount,
    resolvedCount: alerts.length - firingCount,
    truncated: hiddenCount > 0 || cut || state.truncatedAlerts > 0,
    lines,
    hiddenCount,
    notReceivedCount: state.truncatedAlerts,
  };
}
