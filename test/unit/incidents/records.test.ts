import { describe, expect, it } from 'vitest';
import { eventsFromRecords, slackLink } from '../../../src/adapters/incidents/incident-records.js';
import { escalationKey } from '../../../src/core/alerts/escalation.js';
import type { AlertGroupState } from '../../../src/core/alerts/group.js';
import type { AuditEntry } from '../../../src/core/flags/state.js';
import { SEED_RUNBOOKS } from '../../../src/core/runbooks/seed.js';
import type { GroupRecord } from '../../../src/ports/alert-groups.js';

const T0 = Date.parse('2026-12-04T03:00:00Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

const state: AlertGroupState = {
  groupKey: '{}:{alertname="MessagingSystemDown"}',
  receiver: 'switchyard',
  groupLabels: { alertname: 'MessagingSystemDown' },
  commonLabels: { alertname: 'MessagingSystemDown', severity: 'critical' },
  commonAnnotations: { summary: 'Messaging system is down' },
  alerts: {},
  truncatedAlerts: 0,
  openedAt: T0,
  status: 'resolved',
  severity: 'sev1',
  acknowledged: { by: 'U0OPERATOR', at: T0 + 18 * MIN },
  silence: { id: 's1', by: 'U0OPERATOR', until: T0 + 80 * MIN, at: T0 + 20 * MIN },
  resolvedAt: T0 + 40 * MIN,
  lastNotificationAt: T0 + 40 * MIN,
};
const group: GroupRecord = {
  id: 'a'.repeat(24),
  state,
  message: { channel: 'C0INCIDENTS', ts: '1764817200.000100' },
  sentEscalations: [escalationKey(state, 0), escalationKey({ ...state, openedAt: T0 - 1 }, 1)],
};
const TIERS = [
  { after: 15 * MIN, notify: ['U0TEAMLEAD'] },
  { after: 60 * MIN, notify: ['U0ENGMGR'] },
];
const audit = (seq: number, flag: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  seq,
  at: iso(T0 + 20 * MIN),
  actor: { id: 'U0OPERATOR', name: 'ana' },
  via: 'slack',
  action: 'disable-all',
  flag,
  before: true,
  after: false,
  reason: 'error rate',
  correlationId: 'c1',
  ...extra,
});
const none = {
  flagAudit: [],
  rollbacks: [],
  runbookRuns: [],
  runbooks: SEED_RUNBOOKS,
  phaseRequests: [],
  tiers: TIERS,
};

describe('the bot records as incident events', () => {
  it('reads an alert group: fired, the on-call page, the escalations sent in this episode only, ack, silence, resolved', () => {
    const events = eventsFromRecords({ ...none, groups: [group], oncall: 'S0ONCALL' });
    const link = 'https://slack.com/archives/C0INCIDENTS/p1764817200000100';
    expect(events.map((e) => [e.kind, e.at - T0, e.actor.id, e.link])).toEqual([
      ['alert-fired', 0, 'alertmanager', link],
      ['page', 0, 'switchyard', link],
      ['page', 15 * MIN, 'switchyard', link],
      ['ack', 18 * MIN, 'U0OPERATOR', link],
      ['silence', 20 * MIN, 'U0OPERATOR', link],
      ['alert-resolved', 40 * MIN, 'alertmanager', link],
    ]);
    expect(events[2]).toMatchObject({ tier: 1, targets: ['U0TEAMLEAD'] });
    expect(events[0]).toMatchObject({ alert: 'MessagingSystemDown', summary: 'Messaging system is down' });
  });

  it('leaves out a silence recorded before silences kept their time, and the page of a group that is not sev1', () => {
    const { at: _at, ...oldSilence } = state.silence!;
    const events = eventsFromRecords({
      ...none,
      groups: [{ ...group, state: { ...state, severity: 'sev2', silence: oldSilence } }],
      oncall: 'S0ONCALL',
    });
    expect(events.filter((e) => e.kind === 'silence' || (e.kind === 'page' && e.tier === 0))).toEqual([]);
  });

  it('makes one event of one change: the kill switch turns many flags off in one line each', () => {
    const events = eventsFromRecords({
      ...none,
      groups: [],
      flagAudit: [
        audit(3, 'adaptive_timing'),
        audit(4, 'retry_logic'),
        audit(5, 'retry_logic', { action: 'enable', after: true, before: false, correlationId: 'c2' }),
      ],
    });
    expect(events).toEqual([
      {
        kind: 'flag-change',
        at: T0 + 20 * MIN,
        actor: { id: 'U0OPERATOR', name: 'ana' },
        action: 'disable-all',
        via: 'slack',
        changes: [
          { flag: 'adaptive_timing', to: false },
          { flag: 'retry_logic', to: false },
        ],
        reason: 'error rate',
      },
      expect.objectContaining({ action: 'enable', changes: [{ flag: 'retry_logic', to: true }] }),
    ]);
  });

  it('reads rollbacks, runbook steps with their messages, and phase requests with who settled them', () => {
    const events = eventsFromRecords({
      ...none,
      groups: [],
      rollbacks: [
        {
          deployment: 'messaging-core',
          fromRevision: 3,
          fromReplicaSet: 'rs3',
          fromImages: ['core:1.2'],
          toRevision: 2,
          at: iso(T0 + 25 * MIN),
          by: 'U0OPERATOR',
        },
      ],
      runbookRuns: [
        {
          channel: 'C0INCIDENTS',
          ts: '1764817200.000200',
          stepTs: ['1764817200.000300'],
          run: {
            id: 'r1',
            runbook: SEED_RUNBOOKS[0]!.name,
            startedBy: 'U0OPERATOR',
            startedAt: iso(T0 + 21 * MIN),
            steps: [
              { status: 'done', by: 'U0ONCALL1', at: iso(T0 + 22 * MIN), note: 'p95 ok' },
              ...SEED_RUNBOOKS[0]!.steps.slice(1).map(() => ({ status: 'pending' as const })),
            ],
            aborted: { by: 'U0OPERATOR', at: iso(T0 + 23 * MIN) },
          },
        },
      ],
      phaseRequests: [
        {
          id: 'p1',
          from: { number: 1, name: 'Phase 1' },
          to: { number: 2, name: 'Phase 2' },
          toEnable: [],
          gateSummary: [],
          requester: 'U0OPERATOR',
          required: 2,
          requestedAt: iso(T0 + 50 * MIN),
          expiresAt: iso(T0 + 65 * MIN),
          approvals: ['U0APPROVER1'],
          status: 'cancelled',
          cancelledBy: 'U0OPERATOR',
          settledAt: iso(T0 + 55 * MIN),
          channel: 'C0INCIDENTS',
          ts: '1764817200.000400',
        },
      ],
    });
    expect(events.map((e) => [e.kind, e.at - T0, e.actor.id, e.link])).toEqual([
      ['rollback', 25 * MIN, 'U0OPERATOR', undefined],
      ['runbook', 21 * MIN, 'U0OPERATOR', 'https://slack.com/archives/C0INCIDENTS/p1764817200000200'],
      ['runbook', 22 * MIN, 'U0ONCALL1', 'https://slack.com/archives/C0INCIDENTS/p1764817200000300'],
      ['runbook', 23 * MIN, 'U0OPERATOR', 'https://slack.com/archives/C0INCIDENTS/p1764817200000200'],
      ['phase', 50 * MIN, 'U0OPERATOR', 'https://slack.com/archives/C0INCIDENTS/p1764817200000400'],
      ['phase', 55 * MIN, 'U0OPERATOR', 'https://slack.com/archives/C0INCIDENTS/p1764817200000400'],
    ]);
    expect(events[2]).toMatchObject({
      what: 'step-done',
      step: 1,
      stepTitle: SEED_RUNBOOKS[0]!.steps[0]!.title,
    });
    expect(events[3]).toMatchObject({ what: 'aborted' });
    expect(events[5]).toMatchObject({ what: 'settled', status: 'cancelled', approvals: ['U0APPROVER1'] });
  });

  it('links only to messages it can name by id', () => {
    expect(slackLink('C0INCIDENTS', '1764817200.000100')).toBe(
      'https://slack.com/archives/C0INCIDENTS/p1764817200000100',
    );
    expect(slackLink('#messaging-system-incidents', '1764817200.000100')).toBeUndefined();
    expect(slackLink('C0INCIDENTS', '')).toBeUndefined();
  });
});

describe('pages of an episode the bot received late', () => {
  it('count from receipt along the chain snapshotted at open, with its role names', () => {
    const late: GroupRecord = {
      ...group,
      state: {
        ...state,
        receivedAt: T0 + 5 * MIN,
        chain: [{ after: 10 * MIN, notify: ['U0LEAD'], name: 'Shift Lead' }],
      },
      sentEscalations: [escalationKey(state, 0)],
    };
    const pages = eventsFromRecords({ ...none, groups: [late], oncall: 'S0ONCALL' }).filter(
      (e) => e.kind === 'page',
    );
    expect(
      pages.map((e) => [e.at - T0, e.kind === 'page' && e.role, e.kind === 'page' && e.targets]),
    ).toEqual([
      [5 * MIN, undefined, ['S0ONCALL']],
      [15 * MIN, 'Shift Lead', ['U0LEAD']],
    ]);
  });
});
