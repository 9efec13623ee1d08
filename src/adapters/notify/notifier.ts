import { randomUUID } from 'node:crypto';
import type { GroupChange } from '../../core/alerts/group.js';
import type { Severity } from '../../core/alerts/types.js';
import {
  acknowledgeEvent,
  changeEvents,
  type EventContext,
  type NotifyEvent,
  type NotifyGroup,
  type PagerDutyAction,
  type PagerDutyEvent,
  pagerDutyEvent,
  webhookBody,
} from '../../core/notify/events.js';
import type { Template } from '../../core/notify/template.js';
import type { GroupRecord } from '../../ports/alert-groups.js';
import type { Actor, AlertNotifier } from '../../ports/alerting.js';
import type { StatusPage } from '../../ports/status-page.js';
import type { Outbox } from '../slack/outbox.js';
import type { OutboxJob } from '../slack/outbox-journal.js';

/** What a delivery is about, kept with the job for its delivery record. */
export interface DeliveryMeta {
  event: string;
  groupId?: string;
  alertname?: string;
  severity?: Severity;
  by?: string;
  /** ISO 8601: when the event happened. */
  at: string;
}

/**
 * A queued delivery. A webhook's body is rendered when the event happens (the group as it was then);
 * a PagerDuty event is stored without its routing key, which is added only when it is sent.
 */
export type NotifyJob =
  | { kind: 'webhook'; url: string; body: unknown; meta: DeliveryMeta }
  | { kind: 'pagerduty'; event: PagerDutyEvent; meta: DeliveryMeta };

export interface WebhookTarget {
  url: string;
  events: readonly NotifyEvent[];
  severities: readonly Severity[];
  template?: Template;
}

export interface NotifyTargets {
  webhooks: readonly WebhookTarget[];
  pagerduty?: { severities: readonly Severity[] };
}

/**
 * Alert news for the world beyond Slack: webhooks (sev1/sev2 opened, acknowledged, resolved) and
 * PagerDuty (trigger, acknowledge, resolve, one dedup_key per group episode), queued durably in the
 * notify outbox, in order per group and target. Targets come only from the config.
 */
export class NotifyNotifier implements AlertNotifier, StatusPage {
  constructor(
    private readonly outbox: Pick<Outbox<NotifyJob>, 'enqueue'>,
    private readonly targets: NotifyTargets,
    private readonly now: () => number,
  ) {}

  groupChanged(record: GroupRecord, changes: readonly GroupChange[]): Promise<void> {
    const jobs: OutboxJob<NotifyJob>[] = [];
    for (const [index, hook] of this.targets.webhooks.entries()) {
      for (const event of changeEvents(record.state, changes, hook.severities)) {
        jobs.push(...this.webhookJobs(index, hook, { event, group: record, at: this.now() }));
      }
    }
    const pd = this.targets.pagerduty;
    if (pd) {
      for (const event of changeEvents(record.state, changes, pd.severities)) {
        jobs.push(this.pagerDutyJob(record, event === 'opened' ? 'trigger' : 'resolve'));
      }
    }
    return this.outbox.enqueue(jobs);
  }

  acknowledged(record: GroupRecord, by: Actor): Promise<void> {
    const jobs: OutboxJob<NotifyJob>[] = [];
    for (const [index, hook] of this.targets.webhooks.entries()) {
      if (!acknowledgeEvent(record.state, hook.severities)) continue;
      jobs.push(
        ...this.webhookJobs(index, hook, { event: 'acknowledged', group: record, by: by.id, at: this.now() }),
      );
    }
    const pd = this.targets.pagerduty;
    if (pd && acknowledgeEvent(record.state, pd.severities)) {
      jobs.push(this.pagerDutyJob(record, 'acknowledge', by.id));
    }
    return this.outbox.enqueue(jobs);
  }

  async statusUpdate(text: string, by: string): Promise<number> {
    const jobs = this.targets.webhooks.flatMap((hook, index) =>
      this.webhookJobs(index, hook, { event: 'status-update', text, by, at: this.now() }),
    );
    await this.outbox.enqueue(jobs);
    return jobs.length;
  }

  // Silences, escalations and refreshes are Slack's business.
  silenced(): Promise<void> {
    return Promise.resolve();
  }
  unsilenced(): Promise<void> {
    return Promise.resolve();
  }
  escalated(): Promise<void> {
    return Promise.resolve();
  }
  refresh(): Promise<void> {
    return Promise.resolve();
  }

  private webhookJobs(index: number, hook: WebhookTarget, context: EventContext): OutboxJob<NotifyJob>[] {
    if (!hook.events.includes(context.event)) return [];
    return [
      {
        id: randomUUID(),
        key: `webhook:${index}:${context.group?.id ?? 'status'}`,
        priority: 1,
        payload: {
          kind: 'webhook',
          url: hook.url,
          body: webhookBody(context, hook.template),
          meta: metaOf(context.event, context.group, context.by, context.at),
        },
      },
    ];
  }

  private pagerDutyJob(record: GroupRecord, action: PagerDutyAction, by?: string): OutboxJob<NotifyJob> {
    return {
      id: randomUUID(),
      key: `pagerduty:${record.id}`,
      priority: 1,
      payload: {
        kind: 'pagerduty',
        event: pagerDutyEvent(action, record),
        meta: metaOf(action, record, by, this.now()),
      },
    };
  }
}

function metaOf(
  event: string,
  group: NotifyGroup | undefined,
  by: string | undefined,
  at: number,
): DeliveryMeta {
  const state = group?.state;
  const alertname = state && (state.groupLabels.alertname ?? state.commonLabels.alertname);
  return {
    event,
    ...(group && { groupId: group.id }),
    ...(alertname && { alertname }),
    ...(state && { severity: state.severity }),
    ...(by && { by }),
    at: new Date(at).toISOString(),
  };
}

/**
 * The Slack notifier first, then the others (webhooks, PagerDuty): Slack behaves exactly as without
 * them, and a failure to queue for another target is logged, never an error of the Slack path.
 */
export class FanOutNotifier implements AlertNotifier {
  constructor(
    private readonly primary: AlertNotifier,
    private readonly others: readonly AlertNotifier[],
    private readonly onError: (error: unknown, method: string) => void,
  ) {}

  groupChanged(record: GroupRecord, changes: readonly GroupChange[]): Promise<void> {
    return this.each('groupChanged', (n) => n.groupChanged(record, changes));
  }
  acknowledged(record: GroupRecord, by: Actor): Promise<void> {
    return this.each('acknowledged', (n) => n.acknowledged(record, by));
  }
  silenced(record: GroupRecord, by: Actor, until: number): Promise<void> {
    return this.each('silenced', (n) => n.silenced(record, by, until));
  }
  unsilenced(record: GroupRecord, by: Actor): Promise<void> {
    return this.each('unsilenced', (n) => n.unsilenced(record, by));
  }
  escalated(record: GroupRecord, due: Parameters<AlertNotifier['escalated']>[1]): Promise<void> {
    return this.each('escalated', (n) => n.escalated(record, due));
  }
  refresh(record: GroupRecord): Promise<void> {
    return this.each('refresh', (n) => n.refresh(record));
  }

  private async each(method: string, call: (notifier: AlertNotifier) => Promise<void>): Promise<void> {
    await call(this.primary);
    for (const other of this.others) {
      await call(other).catch((error: unknown) => this.onError(error, method));
    }
  }
}
