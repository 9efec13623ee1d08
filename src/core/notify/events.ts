import type { AlertGroupState, GroupChange } from '../alerts/group.js';
import type { Severity } from '../alerts/types.js';
import { renderTemplate, type Template, type TemplateValues } from './template.js';

/**
 * What Switchyard tells the world beyond Slack (webhooks, PagerDuty): which events an alert group's
 * changes make, the JSON a webhook receives, and the PagerDuty Events API v2 event. Pure data.
 */

/** A webhook event. `status-update` is sent by a runbook's status-page step, not by an alert group. */
export type NotifyEvent = 'opened' | 'acknowledged' | 'resolved' | 'status-update';

export const NOTIFY_EVENTS: readonly NotifyEvent[] = ['opened', 'acknowledged', 'resolved', 'status-update'];

/** The group as the events see it: its state and its stable id. */
export interface NotifyGroup {
  id: string;
  state: AlertGroupState;
}

/**
 * The alert events a group change makes for targets that care about `severities`: `opened` when a
 * group opens or reopens at one of them, or is raised into them while it fires (sev3 → sev1: news
 * for whoever never heard of it); `resolved` when such a group resolves.
 */
export function changeEvents(
  state: AlertGroupState,
  changes: readonly GroupChange[],
  severities: readonly Severity[],
): Array<'opened' | 'resolved'> {
  if (!severities.includes(state.severity)) return [];
  const events: Array<'opened' | 'resolved'> = [];
  const opened = changes.some(
    (change) =>
      change.kind === 'opened' ||
      change.kind === 'reopened' ||
      (change.kind === 'severity-changed' && !severities.includes(change.from)),
  );
  if (opened && state.status === 'firing') events.push('opened');
  if (changes.some((change) => change.kind === 'group-resolved')) events.push('resolved');
  return events;
}

/** An acknowledgement is news only for a firing group at one of `severities`. */
export function acknowledgeEvent(state: AlertGroupState, severities: readonly Severity[]): boolean {
  return state.status === 'firing' && severities.includes(state.severity);
}

function alertName(state: AlertGroupState): string {
  return state.groupLabels.alertname ?? state.commonLabels.alertname ?? 'Alerts';
}

function firingCount(state: AlertGroupState): number {
  return Object.values(state.alerts).filter((alert) => alert.status === 'firing').length;
}

/** One line for people: `[SEV1] opened: MessagingSystemDown - Messaging system is down`. */
export function eventText(event: NotifyEvent, group: NotifyGroup | undefined, text?: string): string {
  if (!group) return text ?? '';
  const { state } = group;
  const summary = state.commonAnnotations.summary;
  const line = `[${state.severity.toUpperCase()}] ${event}: ${alertName(state)}${summary ? ` - ${summary}` : ''}`;
  return line.replace(/\s+/g, ' ').trim();
}

/** What happened, for one webhook delivery. */
export interface EventContext {
  event: NotifyEvent;
  /** Absent for a status update. */
  group?: NotifyGroup;
  /** Who caused it (a Slack user ID) when a person did. */
  by?: string;
  /** Epoch ms. */
  at: number;
  /** A status update's words. */
  text?: string;
}

export function templateValues(context: EventContext): TemplateValues {
  const state = context.group?.state;
  return {
    fields: {
      event: context.event,
      text: eventText(context.event, context.group, context.text),
      at: new Date(context.at).toISOString(),
      by: context.by ?? '',
      severity: state?.severity ?? '',
      status: state?.status ?? '',
      alertname: state ? alertName(state) : '',
      summary: state?.commonAnnotations.summary ?? '',
      description: state?.commonAnnotations.description ?? '',
      groupId: context.group?.id ?? '',
      groupKey: state?.groupKey ?? '',
      firing: state ? String(firingCount(state)) : '',
    },
    labels: state?.commonLabels ?? {},
    annotations: state?.commonAnnotations ?? {},
  };
}

/**
 * The JSON body a webhook receives: its template filled in, or, without one, Switchyard's own shape
 * (`version` 1): `{version, event, at, by, text, group?: {id, key, status, severity, alertname,
 * summary, firing, labels}}`.
 */
export function webhookBody(context: EventContext, template?: Template): unknown {
  const values = templateValues(context);
  if (template !== undefined) return renderTemplate(template, values);
  const state = context.group?.state;
  return {
    version: '1',
    event: context.event,
    at: values.fields.at,
    by: context.by ?? null,
    text: values.fields.text,
    ...(context.group &&
      state && {
        group: {
          id: context.group.id,
          key: state.groupKey,
          status: state.status,
          severity: state.severity,
          alertname: values.fields.alertname,
          summary: values.fields.summary,
          firing: firingCount(state),
          labels: { ...state.commonLabels },
        },
      }),
  };
}

/** PagerDuty Events API v2 `event_action`. */
export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';

/** A PagerDuty event without its `routing_key` (added when it is sent, never stored). */
export interface PagerDutyEvent {
  event_action: PagerDutyAction;
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: 'critical' | 'error' | 'warning' | 'info';
    timestamp?: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details?: Record<string, unknown>;
  };
  client?: string;
}

const PD_SEVERITY: Readonly<Record<Severity, 'critical' | 'error' | 'warning'>> = {
  sev1: 'critical',
  sev2: 'error',
  sev3: 'warning',
};

/**
 * One incident per group episode: the group's id and the start of the episode, so every trigger,
 * acknowledge and resolve of the episode names the same incident (a reopened group is a new one).
 */
export function dedupKey(group: NotifyGroup): string {
  return `switchyard-${group.id}-${group.state.openedAt}`;
}

/** The Events API limits `payload.summary` to 1024 characters. */
const SUMMARY_MAX = 1024;

export function pagerDutyEvent(action: PagerDutyAction, group: NotifyGroup): PagerDutyEvent {
  const dedup_key = dedupKey(group);
  if (action !== 'trigger') return { event_action: action, dedup_key };
  const { state } = group;
  const text = eventText('opened', group).replace(/^\[(SEV\d)\] opened: /, '[$1] ');
  const labels = state.commonLabels;
  return {
    event_action: 'trigger',
    dedup_key,
    payload: {
      summary: text.length > SUMMARY_MAX ? `${text.slice(0, SUMMARY_MAX - 1)}…` : text,
      source: labels.instance || labels.job || labels.service || 'switchyard',
      severity: PD_SEVERITY[state.severity],
      timestamp: new Date(state.openedAt).toISOString(),
      class: alertName(state),
      ...(labels.team && { group: labels.team }),
      ...((labels.deployment || labels.service) && { component: labels.deployment || labels.service }),
      custom_details: {
        groupKey: state.groupKey,
        firing: firingCount(state),
        labels: { ...labels },
        annotations: { ...state.commonAnnotations },
      },
    },
    client: 'Switchyard',
  };
}
