import type { DueEscalation } from '../core/alerts/escalation.js';
import type { GroupChange } from '../core/alerts/group.js';
import type { Alert } from '../core/alerts/types.js';
import { formatDuration } from '../core/duration.js';
import type { GroupRecord } from '../ports/alert-groups.js';
import { ALERT_ACTIONS } from './action-ids.js';
import { actions, button, context, type KnownBlock, type RenderedMessage, section } from './blocks.js';
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

/** `Team Lead (tier 1)`: the role name (config text, escaped) and the tier's place. */
function tierLabel(due: Pick<DueEscalation, 'tierIndex' | 'name'>): string {
  return `${escapeMrkdwn(due.name)} (tier ${due.tierIndex + 1})`;
}

export function escalationNote(due: DueEscalation): string {
  const who = due.notify.length > 0 ? due.notify.map(ping).join(' ') : '(nobody configured for this tier)';
  return `:rotating_light: *Escalation to ${tierLabel(due)}*: still unacknowledged. ${who}`;
}

/** A link to a Slack message (Slack redirects it to the workspace). */
export function messageLink(message: { channel: string; ts: string }): string {
  return `https://slack.com/archives/${encodeURIComponent(message.channel)}/p${message.ts.replace('.', '')}`;
}

/** The escalation DM's text (also the fallback of its blocks). */
export function escalationDm(
  record: GroupRecord,
  due: Pick<DueEscalation, 'tierIndex' | 'name'>,
  channel: string,
): string {
  const title = record.state.groupLabels.alertname ?? record.state.commonLabels.alertname ?? 'an alert';
  const where = record.message
    ? `<${messageLink(record.message)}|the alert> in ${channelRef(record.message.channel)}`
    : channelRef(channel);
  return `:rotating_light: You are paged as ${tierLabel(due)}: sev1 *${escapeMrkdwn(title)}* has been firing unacknowledged since ${slackDate(record.state.openedAt)}. Acknowledge it here or in ${where}.`;
}

/**
 * The escalation DM: the page, a link to the alert's message and, while the group still escalates, an
 * Acknowledge button (the same action as the channel's, so it stops the chain and updates the message).
 */
export function escalationPage(
  record: GroupRecord,
  due: Pick<DueEscalation, 'tierIndex' | 'name'>,
  channel: string,
): RenderedMessage {
  const text = escalationDm(record, due, channel);
  const { acknowledged, status } = record.state;
  const blocks: KnownBlock[] = [section(text)];
  if (acknowledged) {
    blocks.push(
      context(`:eyes: Already acknowledged by ${ping(acknowledged.by)} ${slackDate(acknowledged.at)}.`),
    );
  } else if (status === 'firing') {
    blocks.push(
      actions(`alert-page-${record.id}`, [
        button({
          text: 'Acknowledge',
          actionId: ALERT_ACTIONS.acknowledge,
          value: record.id,
          style: 'primary',
        }),
        ...(record.message
          ? [
              button({
                text: 'Open the alert',
                actionId: ALERT_ACTIONS.openAlert,
                url: messageLink(record.message),
              }),
            ]
          : []),
      ]),
    );
  }
  return { text: clip(text, 3_000), blocks };
}

/** A page whose group was forgotten before it was sent (retention): still said, without the alert. */
export function orphanPage(due: Pick<DueEscalation, 'tierIndex' | 'name'>): string {
  return `:rotating_light: You were paged as ${tierLabel(due)} for an alert that has since been closed.`;
}

/** What the person who clicked Run runbook on an alert is told. */
export function runbookStarted(
  title: string,
  outcome: { kind: 'started' | 'busy'; link: string; run: { run: { startedBy: string } } },
): string {
  return outcome.kind === 'busy'
    ? `:warning: *${escapeMrkdwn(title)}* is already in progress (started by ${ping(outcome.run.run.startedBy)}): <${outcome.link}|continue it in its thread>.`
    : `:arrow_forward: Started *${escapeMrkdwn(title)}* in the alert's thread: <${outcome.link}|its steps>.`;
}
