/**
 * The messages layer escapes every piece of outside text: for any string in a reason, an actor
 * header, an alert's name, labels or annotations, a runbook note or a cluster message, no rendered
 * message carries a `<…>` token the bot did not make (no broadcast, foreign mention or link).
 * Seeded: FC_SEED=<n> replays a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyNotification, type GroupChange } from '../../../src/core/alerts/group.js';
import type { Alert } from '../../../src/core/alerts/types.js';
import type { PhaseRequest } from '../../../src/core/phases/request.js';
import type { RunbookRun } from '../../../src/core/runbooks/run.js';
import type { Runbook } from '../../../src/core/runbooks/runbook.js';
import { renderAlertMessage } from '../../../src/messages/alert-message.js';
import {
  acknowledgedNote,
  changesNote,
  escalationDm,
  escalationNote,
  escalationPage,
  orphanPage,
  silencedNote,
} from '../../../src/messages/alert-notes.js';
import { renderNotice } from '../../../src/messages/render.js';
import { escapeText } from '../../../src/messages/text.js';
import type { GroupRecord } from '../../../src/ports/alert-groups.js';
import { groupIdOf } from '../../../src/ports/alert-groups.js';
import type { Notice } from '../../../src/ports/chat.js';
import { foreignTokens, HOSTILE, stringsOf } from '../../support/slack-tokens.js';
import { firing, notification, resolved, T0 } from '../alerts/builders.js';

const SEED = Number(process.env.FC_SEED ?? 20_261_204);
const RUNS = 300;
/** IDs the bot itself may mention in these fixtures (users and groups it knows). */
const KNOWN = ['U0OPERATOR', 'U0LEAD1', 'U0LEAD2', 'S0ONCALL', 'U0TEAMLEAD'];

/** Any string, with hostile fragments mixed in often. */
const hostile = fc
  .array(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...HOSTILE)), { minLength: 1, maxLength: 6 })
  .map((parts) => parts.join(''));
/** A Slack ID that the bot may or may not recognise as one. */
const someId = fc.oneof(fc.constantFrom(...KNOWN), hostile);

/** Links the bot makes itself: the builders' generatorURL and externalURL, and Slack permalinks. */
const LINKS = [
  'http://prometheus:9090/graph?',
  'http://alertmanager:9093/#/silences',
  'https://slack.com/archives/',
];

function expectClean(rendered: unknown, known: readonly string[] = KNOWN) {
  for (const text of stringsOf(rendered)) {
    expect(foreignTokens(text, known, LINKS), JSON.stringify(text)).toEqual([]);
  }
}

const run = (predicate: fc.IProperty<unknown> | fc.IAsyncProperty<unknown>) =>
  fc.assert(predicate as fc.IProperty<unknown>, { seed: SEED, numRuns: RUNS });

function phaseRequest(reason: string, text: string, requester: string, approvals: string[]): PhaseRequest {
  return {
    id: 'r1',
    from: { number: 1, name: text },
    to: { number: 2, name: text },
    toEnable: [text],
    gateSummary: [text],
    requester,
    reason,
    required: 2,
    requestedAt: new Date(T0).toISOString(),
    expiresAt: new Date(T0 + 3_600_000).toISOString(),
    approvals,
    status: 'advanced',
    checklist: {
      id: 'phase-1',
      title: text,
      total: 2,
      unticked: [text],
      override: { reason, by: requester },
    },
    gates: [{ name: text, passed: false, detail: text }],
    outcome: text,
    channel: 'C0INCIDENTS',
    ts: '1.000001',
  };
}

function runbookOf(text: string): { runbook: Runbook; run: RunbookRun } {
  const runbook: Runbook = {
    name: 'high-latency',
    title: text,
    alerts: [text],
    summary: text,
    steps: [
      { kind: 'check', title: text, query: text, expect: text },
      { kind: 'manual', title: text, text },
      { kind: 'rollback', title: text, deployment: text },
    ],
  };
  const run: RunbookRun = {
    id: 'run1',
    runbook: runbook.name,
    startedBy: 'U0OPERATOR',
    startedAt: new Date(T0).toISOString(),
    steps: [
      { status: 'done', by: 'U0OPERATOR', at: new Date(T0).toISOString(), note: text },
      { status: 'current', note: text },
      { status: 'pending' },
    ],
  };
  return { runbook, run };
}

/** Every kind of notice, each with outside text in every field that can hold it. */
function notices(text: string, id: string): Notice[] {
  const { runbook, run } = runbookOf(text);
  const status = {
    state: 'waiting' as const,
    message: text,
    progress: { desired: 2, total: 3, updated: 1, ready: 1, available: 2 },
  };
  return [
    { kind: 'note', text },
    ...(['enable', 'disable', 'disable-all', 'drift', 'phase'] as const).flatMap((action) =>
      (['slack', 'api', 'cluster', 'system'] as const).map(
        (via): Notice => ({
          kind: 'flags-changed',
          action,
          changes: [{ key: text, to: false }],
          actor: { id, name: text },
          via,
          reason: text,
        }),
      ),
    ),
    { kind: 'phase-request', request: phaseRequest(text, text, id, [id, 'U0LEAD1']) },
    { kind: 'phase-outcome', request: phaseRequest(text, text, id, [id, 'U0LEAD2']) },
    { kind: 'rollback-started', headline: { deployment: text, revision: 3, requestedBy: id, reason: text } },
    { kind: 'rollback-progress', deployment: text, status, elapsedMs: 1_000 },
    {
      kind: 'rollback-result',
      result: {
        deployment: text,
        revision: 3,
        outcome: 'failed',
        message: text,
        pods: [
          {
            name: text,
            phase: text,
            ready: false,
            labels: {},
            containers: [{ name: text, image: text, ready: false, restartCount: 1, state: text }],
          },
        ],
        logs: { pod: text, container: text, text },
      },
    },
    {
      kind: 'rollback-result',
      result: {
        deployment: text,
        revision: 3,
        outcome: 'lost',
        message: text,
        pods: [],
        logs: { pod: text, error: text },
      },
    },
    { kind: 'runbook-header', runbook, run, now: new Date(T0).toISOString() },
    {
      kind: 'runbook-header',
      runbook,
      run: { ...run, completedAt: new Date(T0).toISOString() },
      now: new Date(T0).toISOString(),
    },
    ...[0, 1, 2].map((index): Notice => ({ kind: 'runbook-step', runbook, run, index })),
    // Issue 10: an aborted run, a step waiting for a confirmation, one with a recorded link.
    {
      kind: 'runbook-header',
      runbook,
      run: {
        ...run,
        completedAt: new Date(T0).toISOString(),
        aborted: { by: id, at: new Date(T0).toISOString() },
        steps: run.steps.map((step) => ({ ...step, link: text })),
      },
      now: new Date(T0).toISOString(),
    },
    ...[0, 1].map(
      (index): Notice => ({
        kind: 'runbook-step',
        runbook,
        run: {
          ...run,
          steps: run.steps.map((step) => ({
            ...step,
            link: text,
            doneOffered: true,
            awaiting: [{ ref: text, by: id, at: new Date(T0).toISOString() }],
          })),
        },
        index,
      }),
    ),
  ];
}

function alertRecord(text: string, label: string, by: string): GroupRecord {
  const labels = {
    alertname: text,
    deployment: label,
    instance: text,
    [label || 'x']: text,
    severity: 'critical',
  };
  const alerts: Alert[] = [
    { ...firing('a1', T0, labels), annotations: { summary: text, description: text, runbook_url: text } },
    resolved({ ...firing('a2', T0, labels), annotations: { description: text } }, T0 + 60_000),
  ];
  const groupKey = `{}:{alertname="${text}"}`;
  const { state } = applyNotification(
    undefined,
    notification(alerts, {
      groupKey,
      groupLabels: { alertname: text },
      commonLabels: labels,
      commonAnnotations: { summary: text },
    }),
    T0,
  );
  return {
    id: groupIdOf(groupKey),
    sentEscalations: [],
    state: {
      ...state,
      acknowledged: { by, at: T0 },
      silence: { id: text, by, until: T0 + 3_600_000 },
    },
    message: { channel: 'C0INCIDENTS', ts: '1.000001' },
  } as GroupRecord;
}

describe(`the messages layer escapes outside text (seed ${SEED})`, () => {
  it('escapes exactly Slack’s three characters', () => {
    expect(escapeText('<!channel> & <@U1|x>')).toBe('&lt;!channel&gt; &amp; &lt;@U1|x&gt;');
  });

  it('names the leaks the issue found: a reason and an actor header on the flag API', () => {
    const rendered = renderNotice({
      kind: 'flags-changed',
      action: 'disable-all',
      changes: [{ key: 'adaptive_timing', to: false }],
      actor: { id: 'api', name: '<@U0VP>' },
      via: 'api',
      reason: '<!channel> <https://evil|runbook>',
    });
    expect(rendered.text).toContain('&lt;!channel&gt; &lt;https://evil|runbook&gt;');
    expect(rendered.text).toContain('&lt;@U0VP&gt;');
    expectClean(rendered);
  });

  it('property: no notice of any kind carries a token the bot did not make', () => {
    run(
      fc.property(hostile, someId, (text, id) => {
        for (const notice of notices(text, id)) expectClean(renderNotice(notice));
      }),
    );
  });

  it('property: alert messages and notes, for any alert name, label, annotation or clicker', () => {
    run(
      fc.property(hostile, hostile, someId, (text, label, by) => {
        const record = alertRecord(text, label, by);
        for (const options of [
          { oncall: 'S0ONCALL', silences: true, rollback: true },
          { oncall: 'S0ONCALL', silences: false, rollback: false },
        ]) {
          expectClean(renderAlertMessage(record, options));
          expectClean(
            renderAlertMessage(
              { ...record, state: { ...record.state, acknowledged: undefined, silence: undefined } },
              options,
            ),
          );
        }
        const changes: GroupChange[] = [
          { kind: 'reopened' },
          { kind: 'alert-firing', fingerprint: 'a1' },
          { kind: 'alert-resolved', fingerprint: 'a2' },
          { kind: 'severity-changed', from: 'sev2', to: 'sev1' },
          { kind: 'group-resolved' },
        ] as GroupChange[];
        expectClean(changesNote(record, changes, 'S0ONCALL'));
        expectClean(acknowledgedNote(by));
        expectClean(silencedNote(by, T0, text));
        const due = { tierIndex: 0, name: text, notify: [by, 'U0TEAMLEAD'], dueAt: T0, key: 'k' };
        expectClean(escalationNote(due));
        expectClean(escalationDm(record, due, text));
        expectClean(escalationPage(record, due, text).text);
        expectClean(orphanPage(due));
      }),
    );
  });
});
