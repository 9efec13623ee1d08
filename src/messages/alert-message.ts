import type { ActionsBlockElement, KnownBlock } from '@slack/types';
import { SEVERITY_DESCRIPTIONS } from '../core/alerts/severity.js';
import { summariseGroup } from '../core/alerts/summary.js';
import type { Severity } from '../core/alerts/types.js';
import { formatDuration } from '../core/duration.js';
import type { GroupRecord } from '../ports/alert-groups.js';
import { ALERT_ACTIONS, SILENCE_CHOICES } from './action-ids.js';
import { actions, button, context, type RenderedMessage, section } from './blocks.js';
import {
  clip,
  escapeText as escapeMrkdwn,
  nameWithoutPing,
  mention as ping,
  slackAgo,
  slackDate,
} from './text.js';

export { ALERT_ACTIONS, SILENCE_CHOICES } from './action-ids.js';

export interface AlertMessageOptions {
  oncall?: string;
  /** Silence buttons only when Alertmanager's API is configured. */
  silences: boolean;
  /** Roll back only when `/rollback` exists and a cluster is configured. */
  rollback: boolean;
  /** User-group handles by ID (`usergroups.list`): a group named without a ping shows as `@handle`. */
  handles?: ReadonlyMap<string, string>;
  /** The bot's runbook for an alert name (`/runbook run` resolves it the same way): a Run runbook button. */
  runbookFor?: (alertName: string) => string | undefined;
}

const FIRING_EMOJI: Record<Severity, string> = {
  sev1: ':red_circle:',
  sev2: ':large_orange_circle:',
  sev3: ':large_yellow_circle:',
};

/** The group's one top-level message: status, severity, alerts (summarised within Block Kit limits), buttons. */
export function renderAlertMessage(record: GroupRecord, options: AlertMessageOptions): RenderedMessage {
  const { state } = record;
  const summary = summariseGroup(state, { maxTextChars: 2_400, maxAlerts: 20 });
  const firing = state.status === 'firing';
  const emoji = firing ? FIRING_EMOJI[state.severity] : ':white_check_mark:';
  const title = escapeMrkdwn(summary.title);
  // The ping leads the fallback text (what the notification shows); in the blocks it is said once,
  // in the on-call line.
  const page = firing && state.severity === 'sev1' && options.oncall ? `${ping(options.oncall)} ` : '';
  // The seed's words for the level; once resolved, "immediate action required" no longer holds.
  const meaning = firing ? `\n_${SEVERITY_DESCRIPTIONS[state.severity]}._` : '';

  const blocks: KnownBlock[] = [
    section(`${emoji} *${title}*${meaning}`),
    context(...statusLines(record, summary.firingCount, summary.resolvedCount)),
  ];
  if (summary.lines.length > 0) {
    blocks.push(section(summary.lines.map((line) => `• ${escapeMrkdwn(alertLine(line))}`).join('\n')));
  }
  const left = [
    summary.hiddenCount > 0 && `+${summary.hiddenCount} more alerts not listed here.`,
    summary.notReceivedCount > 0 &&
      `Alertmanager left ${summary.notReceivedCount} alerts of this group out of its notification (max_alerts).`,
  ].filter((line): line is string => typeof line === 'string');
  if (left.length > 0) blocks.push(context(...left));
  const links = linkLine(record);
  if (links) blocks.push(context(links));
  const notice = oncallLine(record, options.oncall, options.handles);
  const handled = handledLines(record);
  if (notice || handled.length > 0)
    blocks.push(context(...[notice, ...handled].filter((l): l is string => !!l)));
  const buttons = actionButtons(record, options);
  if (buttons.length > 0) blocks.push(actions(`alert-actions-${record.id}`, buttons));

  const status = firing ? '' : ` (lasted ${formatDuration(durationOf(record))})`;
  return { text: clip(`${page}${emoji} ${title}${status}`, 3_000), blocks };
}

/** The summary's `[firing] ` tag says nothing the header does not: only resolved alerts keep theirs. */
function alertLine(line: string): string {
  return line.startsWith('[firing] ') ? line.slice('[firing] '.length) : line;
}

function statusLines(record: GroupRecord, firingCount: number, resolvedCount: number): string[] {
  const { state } = record;
  // The title counts the firing alerts; the resolved ones are counted here.
  const counts =
    firingCount > 0
      ? `${firingCount} firing · ${resolvedCount} resolved`
      : `${resolvedCount} alert${resolvedCount === 1 ? '' : 's'} resolved`;
  if (state.status === 'firing') {
    const lines = [`Firing since ${slackDate(state.openedAt)} (${slackAgo(state.openedAt)})`];
    // Received long after it started (Alertmanager or the bot was down): say so, and that
    // escalation counts from the receipt, not from the start.
    const late = state.receivedAt !== undefined ? state.receivedAt - state.openedAt : 0;
    if (late > LATE_RECEIPT_MS) {
      const from = state.severity === 'sev1' ? '; escalation counts from then' : '';
      lines.push(`Received ${slackDate(state.receivedAt!)}, after firing for ${formatDuration(late)}${from}`);
    }
    return resolvedCount > 0 ? [...lines, counts] : lines;
  }
  return [
    `*Resolved* after ${formatDuration(durationOf(record))} (${slackDate(state.openedAt)} – ${slackDate(state.resolvedAt ?? state.lastNotificationAt)})`,
    counts,
  ];
}

/** A receipt more than this after the alert's start (more than Alertmanager's usual waits) is worth a line. */
const LATE_RECEIPT_MS = 5 * 60_000;

/** An http(s) URL that can sit in a mrkdwn link or a button (no `|`, `<`, `>` or space to break out). */
export function safeUrl(url: string | undefined): string | undefined {
  return url && /^https?:\/\/[^\s|<>]+$/.test(url) && url.length <= 2_000 ? url : undefined;
}

/**
 * Where to look next: the alert's own source (`generatorURL`, a Prometheus or Grafana graph: the
 * first firing alert's, else any) and Alertmanager's silences page (`externalURL`).
 */
function linkLine(record: GroupRecord): string | undefined {
  const alerts = Object.values(record.state.alerts);
  const ordered = [
    ...alerts.filter((a) => a.status === 'firing'),
    ...alerts.filter((a) => a.status !== 'firing'),
  ];
  const source = ordered.map((alert) => safeUrl(alert.generatorURL)).find((url) => url !== undefined);
  const base = safeUrl(record.state.externalURL?.replace(/\/+$/, ''));
  const parts = [
    source && `<${source.replace(/&/g, '&amp;')}|:chart_with_upwards_trend: Source graph>`,
    base && `<${base.replace(/&/g, '&amp;')}/#/silences|Alertmanager silences>`,
  ].filter((part): part is string => typeof part === 'string');
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

function durationOf(record: GroupRecord): number {
  return (record.state.resolvedAt ?? record.state.lastNotificationAt) - record.state.openedAt;
}

/**
 * sev1 pages the on-call group in the message itself, and says what escalation does now; sev2 names
 * the group without a ping (Slack has no mention that does not notify); sev3 is quiet.
 */
function oncallLine(
  record: GroupRecord,
  oncall: string | undefined,
  handles: ReadonlyMap<string, string> | undefined,
): string | undefined {
  const { severity, status, acknowledged, silence } = record.state;
  if (!oncall || status !== 'firing') return undefined;
  if (severity === 'sev1') {
    if (acknowledged) return `On call ${ping(oncall)} paged; escalation stopped.`;
    if (silence) return `On call ${ping(oncall)} paged; escalation paused while silenced.`;
    return `On call ${ping(oncall)} paged; escalates until acknowledged.`;
  }
  if (severity === 'sev2') return `On call ${quietName(oncall, handles)} not paged for sev2; no escalation.`;
  return undefined;
}

/** A user group by its handle (`@messaging-oncall`, no ping), else its ID as code. */
function quietName(id: string, handles: ReadonlyMap<string, string> | undefined): string {
  const handle = handles?.get(id);
  return handle ? `*@${escapeMrkdwn(handle)}*` : nameWithoutPing(id);
}

function handledLines(record: GroupRecord): string[] {
  const { acknowledged, silence } = record.state;
  return [
    acknowledged && `:eyes: Acknowledged by ${ping(acknowledged.by)} ${slackDate(acknowledged.at)}`,
    silence && `:mute: Silenced by ${ping(silence.by)} until ${slackDate(silence.until)}`,
  ].filter((line): line is string => typeof line === 'string');
}

function actionButtons(record: GroupRecord, options: AlertMessageOptions): ActionsBlockElement[] {
  const { state } = record;
  const firing = state.status === 'firing';
  const buttons: ActionsBlockElement[] = [];
  if (firing && !state.acknowledged) {
    buttons.push(
      button({
        text: 'Acknowledge',
        actionId: ALERT_ACTIONS.acknowledge,
        value: record.id,
        style: 'primary',
      }),
    );
  }
  if (options.silences && state.silence) {
    buttons.push(button({ text: 'Unsilence', actionId: ALERT_ACTIONS.unsilence, value: record.id }));
  } else if (options.silences && firing) {
    buttons.push({
      type: 'static_select',
      action_id: ALERT_ACTIONS.silence,
      placeholder: { type: 'plain_text', text: 'Silence…' },
      options: SILENCE_CHOICES.map((choice) => ({
        text: { type: 'plain_text', text: choice.label },
        value: `${record.id}:${choice.value}`,
      })),
    });
  }
  const own = firing ? options.runbookFor?.(alertNameOf(record)) : undefined;
  if (own) {
    buttons.push(
      button({ text: `Run runbook ${own}`, actionId: ALERT_ACTIONS.runRunbook, value: record.id }),
    );
  }
  const runbook = runbookUrl(record);
  if (runbook) buttons.push(button({ text: 'Open runbook', actionId: ALERT_ACTIONS.runbook, url: runbook }));
  // The emergency buttons (each asks for confirmation) only for sev1 and sev2: a sev3 is, in the
  // seed's words, fixed in the next deployment. Both stay available as slash commands.
  if (firing && state.severity !== 'sev3') {
    buttons.push(
      button({
        text: 'Kill switch: all flags off',
        actionId: ALERT_ACTIONS.killSwitch,
        value: record.id,
        style: 'danger',
      }),
    );
    const deployment = deploymentOf(record);
    if (options.rollback && deployment) {
      buttons.push(
        button({
          text: `Roll back ${deployment}`,
          actionId: ALERT_ACTIONS.rollback,
          value: record.id,
          style: 'danger',
        }),
      );
    }
  }
  return buttons;
}

/** The `runbook_url` annotation (common, else the first alert's that has one), when it is an http(s) URL. */
export function runbookUrl(record: GroupRecord): string | undefined {
  const candidates = [
    record.state.commonAnnotations.runbook_url,
    ...Object.values(record.state.alerts).map((alert) => alert.annotations.runbook_url),
  ];
  return candidates.find(
    (url): url is string => !!url && /^https?:\/\/\S+$/.test(url) && url.length <= 3_000,
  );
}

export function deploymentOf(record: GroupRecord): string | undefined {
  const name = record.state.groupLabels.deployment ?? record.state.commonLabels.deployment;
  return name && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) ? name : undefined;
}

export function alertNameOf(record: GroupRecord): string {
  return record.state.groupLabels.alertname ?? record.state.commonLabels.alertname ?? 'alert';
}
