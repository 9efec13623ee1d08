import type { DueEscalation } from '../core/alerts/escalation.js';
import type { GroupChange } from '../core/alerts/group.js';
import type { Alert } from '../core/alerts/types.js';
import { formatDuration } from '../core/duration.js';
import type { GroupRecord } from '../ports/alert-groups.js';
import {
  channelRef,
  clip,
  escapeText as escapeMrkdwn,
  inlineCode,
  mention as ping,
  slackDate,
} from './text.js';

/** Most alerts named in one thread note; the rest are counted. */
const MAX_LISTED = 10;
const MAX_NOTE_CHARS = 3_000;

/**
 * The thread history of a group, one note per notification: new firing alerts, resolved ones, a
 * severity change, the group resolving or reopening. Undefined when there is nothing new to say
 * (a resend) or when the top-level message says it all (a group just opened).
 */
export function changesNote(
  record: GroupRecord,
  changes: readonly GroupChange[],
  oncall?: string,
): string | undefined {
  const alerts = record.state.alerts;
  const lines: string[] = [];
  const fired = changes.flatMap((c) => (c.kind === 'alert-firing' ? [alerts[c.fingerprint]] : []));
  const cleared = changes.flatMap((c) => (c.kind === 'alert-resolved' ? [alerts[c.fingerprint]] : []));
  const opened = changes.some((c) => c.kind === 'opened');
  if (changes.some((c) => c.kind === 'reopened')) {
    const page = record.state.severity === 'sev1' && oncall ? ` ${ping(oncall)}` : '';
    lines.push(`:rotating_light: *Firing again* (${record.state.severity}).${page}`);
  }
  if (!opened && fired.length > 0) lines.push(listOf(':fire: Firing', fired));
  if (cleared.length > 0) lines.push(listOf(':white_check_mark: Resolved', cleared));
  for (const change of changes) {
    if (change.kind !== 'severity-changed') continue;
    const page = change.to === 'sev1' && record.state.status === 'firing' && oncall ? ` ${ping(oncall)}` : '';
    lines.push(
      `:arrow_${rankUp(change.from, change.to) ? 'up' : 'down'}: Severity ${change.from} → ${change.to}.${page}`,
    );
  }
  if (changes.some((c) => c.kind === 'group-resolved')) {
    const { openedAt, resolvedAt } = record.state;
    lines.push(
      `:white_check_mark: *Group resolved* after ${formatDuration((resolvedAt ?? openedAt) - openedAt)}.`,
    );
  }
  return lines.length > 0 ? clip(lines.join('\n'), MAX_NOTE_CHARS) : undefined;
}

function listOf(head: string, alerts: Array<Alert | undefined>): string {
  const known = alerts.filter((alert): alert is Alert => alert !== undefined);
  const listed = known.slice(0, MAX_LISTED).map((alert) => `• ${escapeMrkdwn(describe(alert))}`);
  const more = known.length > MAX_LISTED ? [`…and ${known.length - MAX_LISTED} more`] : [];
  return [`${head} (${known.length}):`, ...listed, ...more].join('\n');
}

function describe(alert: Alert): string {
  const text =
    alert.annotations.summary ?? alert.annotations.description ?? alert.labels.alertname ?? alert.fingerprint;
  const instance = alert.labels.instance ? `${alert.labels.instance}: ` : '';
  return clip(`${instance}${text}`.replace(/\s+/g, ' '), 200);
}

function rankUp(from: string, to: string): boolean {
  return to < from; // sev1 < sev2 < sev3
}

export function acknowledgedNote(by: string): string {
  return `:eyes: Acknowledged by ${ping(by)}. Escalation stopped.`;
}

export function silencedNote(by: string, until: number, silenceId: string): string {
  return `:mute: Silenced by ${ping(by)} until ${slackDate(until)} (Alertmanager silence ${inlineCode(silenceId)}).`;
}

export function unsilencedNote(by: string): string {
  return `:loud_sound: Silence expired by ${ping(by)}.`;
}

export function escalationNote(due: DueEscalation): string {
  const who = due.notify.length > 0 ? due.notify.map(ping).join(' ') : '(nobody configured for this tier)';
  return `:rotating_light: *Escalation tier ${due.tierIndex + 1}*: still unacknowledged. ${who}`;
}

export function escalationDm(record: GroupRecord, due: DueEscalation, channel: string): string {
  const title = record.state.groupLabels.alertname ?? record.state.commonLabels.alertname ?? 'an alert';
  const where = channelRef(channel);
  return `:rotating_light: You are paged (escalation tier ${due.tierIndex + 1}): sev1 *${escapeMrkdwn(title)}* has been firing unacknowledged since ${slackDate(record.state.openedAt)}. Please acknowledge it in ${where}.`;
}
