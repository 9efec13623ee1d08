/**
 * Alertmanager's webhook payload (version "4") as plain data. The HTTP adapter validates the JSON
 * and hands these shapes to the core; nothing here does I/O.
 */

export type Severity = 'sev1' | 'sev2' | 'sev3';

export type AlertStatus = 'firing' | 'resolved';

export interface Alert {
  /** Alertmanager's hash of the label set: the identity of an alert within its group. */
  fingerprint: string;
  status: AlertStatus;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** RFC 3339. */
  startsAt: string;
  /** RFC 3339; `0001-01-01T00:00:00Z` while the alert is firing. */
  endsAt: string;
  /** Alertmanager sends `""` for alerts posted without one. */
  generatorURL?: string;
}

export interface AlertNotification {
  receiver: string;
  /** `firing` when at least one alert of the payload is firing. */
  status: AlertStatus;
  alerts: Alert[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  /** `"4"`. */
  version: string;
  /** Identifies the aggregation group (route and group labels), e.g. `{}/{team="messaging"}:{alertname="X"}`. */
  groupKey: string;
  /** How many alerts of the group `max_alerts` left out of this payload. */
  truncatedAlerts: number;
}

/** Alertmanager's zero time: the `endsAt` of a firing alert. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** One tier of the escalation chain (`escalation.tiers[]`). */
export interface EscalationTier {
  /** ms after the bot first received the episode (`escalationStart`). */
  after: number;
  /** Slack user (U…/W…) or user-group (S…) IDs. */
  notify: string[];
  /** The role the tier reaches (`escalation.tiers[].name`); `tierName` gives the seed's default. */
  name?: string;
}
