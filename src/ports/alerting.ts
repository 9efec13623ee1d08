import type { DueEscalation } from '../core/alerts/escalation.js';
import type { GroupChange } from '../core/alerts/group.js';
import type { Severity } from '../core/alerts/types.js';
import type { GroupRecord } from './alert-groups.js';

export interface Actor {
  id: string;
  name?: string;
}

/**
 * Tells people about alert groups (the Slack adapter queues messages through its outbox). Each method
 * resolves once what it will send is recorded durably, not once it is sent.
 */
export interface AlertNotifier {
  /** A notification changed the group (or the group is new): update the message, note the changes. */
  groupChanged(record: GroupRecord, changes: readonly GroupChange[]): Promise<void>;
  acknowledged(record: GroupRecord, by: Actor): Promise<void>;
  silenced(record: GroupRecord, by: Actor, until: number): Promise<void>;
  unsilenced(record: GroupRecord, by: Actor): Promise<void>;
  /** Tiers now due. Jobs carry the tiers' fencing keys, so a restart can tell they were queued. */
  escalated(record: GroupRecord, due: readonly DueEscalation[]): Promise<void>;
  /** Makes sure the group's message shows its current state (used after a restart). */
  refresh(record: GroupRecord): Promise<void>;
}

export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

/** Alertmanager's silences API (v2). */
export interface SilenceApi {
  create(silence: {
    matchers: SilenceMatcher[];
    startsAt: Date;
    endsAt: Date;
    createdBy: string;
    comment: string;
  }): Promise<string>;
  expire(id: string): Promise<void>;
}

/** Counters the service reports into (metrics); all optional. */
export interface AlertObserver {
  received?(status: 'firing' | 'resolved', severity: Severity, count: number): void;
  escalated?(tierIndex: number): void;
  activeGroups?(count: number): void;
}
