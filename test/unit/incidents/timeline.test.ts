import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildTimeline,
  type IncidentEvent,
  incidentDurations,
  isMitigation,
  parseWindow,
} from '../../../src/core/incidents/timeline.js';

const T0 = Date.parse('2026-12-04T03:00:00Z');
const MIN = 60_000;
const ALL = { since: 0, until: Number.MAX_SAFE_INTEGER };

const fired = (at: number, group = 'g1', severity: 'sev1' | 'sev2' | 'sev3' = 'sev1'): IncidentEvent => ({
  kind: 'alert-fired',
  at,
  actor: { id: 'alertmanager' },
  group,
  alert: `Alert-${group}`,
  severity,
});
const resolved = (at: number, group = 'g1'): IncidentEvent => ({
  kind: 'alert-resolved',
  at,
  actor: { id: 'alertmanager' },
  group,
  alert: `Alert-${group}`,
  severity: 'sev1',
});
const ack = (at: number, by = 'U0OPERATOR'): IncidentEvent => ({
  kind: 'ack',
  at,
  actor: { id: by },
  group: 'g1',
  alert: 'Alert-g1',
});
const page = (at: number, tier = 0): IncidentEvent => ({
  kind: 'page',
  at,
  actor: { id: 'switchyard' },
  group: 'g1',
  alert: 'Alert-g1',
  tier,
  targets: ['S0ONCALL'],
});
const flags = (
  at: number,
  to: boolean,
  action: 'enable' | 'disable' | 'disable-all' | 'drift' = 'disable',
): IncidentEvent => ({
  kind: 'flag-change',
  at,
  actor: { id: 'U0OPERATOR' },
  action,
  via: 'slack',
  changes: [{ flag: 'retry_logic', to }],
});
const rollback = (at: number): IncidentEvent => ({
  kind: 'rollback',
  at,
  actor: { id: 'U0OPERATOR' },
  deployment: 'messaging-core',
  fromRevision: 3,
  toRevision: 2,
  fromImages: [],
});

describe('buildTimeline', () => {
  it('puts events in time order, an alert before the page it caused at the same moment, and keeps the window', () => {
    const events = [
      resolved(T0 + 40 * MIN),
      page(T0),
      ack(T0 + 18 * MIN),
      fired(T0),
      fired(T0 - 60 * MIN, 'old'),
    ];
    const timeline = buildTimeline(events, { since: T0 - MIN, until: T0 + 30 * MIN });
    expect(timeline.map((event) => event.kind)).toEqual(['alert-fired', 'page', 'ack']);
  });

  it('property: sorted by time, exactly the events in the window, whatever order the records were read in', () => {
    const event = fc.oneof(
      fc.integer({ min: 0, max: 600 }).map((m) => fired(T0 + m * MIN, `g${m % 3}`)),
      fc.integer({ min: 0, max: 600 }).map((m) => resolved(T0 + m * MIN, `g${m % 3}`)),
      fc.integer({ min: 0, max: 600 }).map((m) => ack(T0 + m * MIN)),
      fc.integer({ min: 0, max: 600 }).map((m) => page(T0 + m * MIN, m % 4)),
      fc.tuple(fc.integer({ min: 0, max: 600 }), fc.boolean()).map(([m, to]) => flags(T0 + m * MIN, to)),
      fc.integer({ min: 0, max: 600 }).map((m) => rollback(T0 + m * MIN)),
    );
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 40 }),
        fc.integer({ min: 0, max: 600 }),
        fc.integer({ min: 0, max: 600 }),
        fc.func(fc.integer()),
        (events, a, b, shuffleKey) => {
          const window = { since: T0 + Math.min(a, b) * MIN, until: T0 + Math.max(a, b) * MIN };
          const timeline = buildTimeline(events, window);
          for (let i = 1; i < timeline.length; i++)
            expect(timeline[i]!.at).toBeGreaterThanOrEqual(timeline[i - 1]!.at);
          expect(timeline.length).toBe(
            events.filter((e) => e.at >= window.since && e.at <= window.until).length,
          );
          const shuffled = events
            .map((e, index) => ({ e, key: shuffleKey(index) }))
            .sort((x, y) => x.key - y.key)
            .map(({ e }) => e);
          expect(buildTimeline(shuffled, window)).toEqual(timeline);
        },
      ),
    );
  });
});

describe('incidentDurations', () => {
  it('counts time to acknowledge, to mitigate and to resolve from the first alert', () => {
    const timeline = buildTimeline(
      [
        fired(T0),
        page(T0),
        page(T0 + 15 * MIN, 1),
        flags(T0 + 5 * MIN, true, 'enable'), // turning something on does not mitigate
        ack(T0 + 18 * MIN),
        flags(T0 + 20 * MIN, false, 'disable-all'),
        rollback(T0 + 25 * MIN),
        resolved(T0 + 40 * MIN),
      ],
      ALL,
    );
    expect(incidentDurations(timeline)).toEqual({
      startedAt: T0,
      acknowledgedAt: T0 + 18 * MIN,
      timeToAcknowledge: 18 * MIN,
      mitigatedAt: T0 + 20 * MIN,
      timeToMitigate: 20 * MIN,
      resolvedAt: T0 + 40 * MIN,
      timeToResolve: 40 * MIN,
      severity: 'sev1',
    });
  });

  it('is not resolved while a group that fired is still open, and has no start without an alert', () => {
    const open = buildTimeline(
      [fired(T0, 'a'), fired(T0 + MIN, 'b', 'sev2'), resolved(T0 + 2 * MIN, 'a')],
      ALL,
    );
    expect(incidentDurations(open).resolvedAt).toBeUndefined();
    expect(incidentDurations(open).severity).toBe('sev1');
    expect(incidentDurations(buildTimeline([ack(T0), rollback(T0)], ALL))).toEqual({});
  });

  it('drift is not a mitigation; a flag turned off, the kill switch and a rollback are', () => {
    expect(isMitigation(flags(T0, false, 'drift'))).toBe(false);
    expect(isMitigation(flags(T0, true, 'enable'))).toBe(false);
    expect(isMitigation(flags(T0, false, 'disable'))).toBe(true);
    expect(isMitigation(flags(T0, false, 'disable-all'))).toBe(true);
    expect(isMitigation(rollback(T0))).toBe(true);
  });

  it('property: durations are never negative, and each names the first such event at or after the start', () => {
    const event = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map((m) => fired(T0 + m * MIN, `g${m % 2}`)),
      fc.integer({ min: 0, max: 300 }).map((m) => resolved(T0 + m * MIN, `g${m % 2}`)),
      fc.integer({ min: 0, max: 300 }).map((m) => ack(T0 + m * MIN)),
      fc.tuple(fc.integer({ min: 0, max: 300 }), fc.boolean()).map(([m, to]) => flags(T0 + m * MIN, to)),
      fc.integer({ min: 0, max: 300 }).map((m) => rollback(T0 + m * MIN)),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (events) => {
        const timeline = buildTimeline(events, ALL);
        const d = incidentDurations(timeline);
        const start = timeline.find((e) => e.kind === 'alert-fired')?.at;
        expect(d.startedAt).toBe(start);
        if (start === undefined) return;
        for (const took of [d.timeToAcknowledge, d.timeToMitigate, d.timeToResolve])
          if (took !== undefined) expect(took).toBeGreaterThanOrEqual(0);
        expect(d.acknowledgedAt).toBe(timeline.find((e) => e.kind === 'ack' && e.at >= start)?.at);
        expect(d.mitigatedAt).toBe(timeline.find((e) => isMitigation(e) && e.at >= start)?.at);
        if (d.resolvedAt !== undefined) {
          // Every group that fired has a resolve at or before the resolution, after its last firing.
          for (const group of new Set(
            timeline.filter((e) => e.kind === 'alert-fired').map((e) => (e as { group: string }).group),
          )) {
            const lastFired = timeline.findLastIndex((e) => e.kind === 'alert-fired' && e.group === group);
            const resolve = timeline.findIndex(
              (e, index) => index > lastFired && e.kind === 'alert-resolved' && e.group === group,
            );
            expect(resolve).toBeGreaterThan(lastFired);
            expect(timeline[resolve]!.at).toBeLessThanOrEqual(d.resolvedAt);
          }
        }
      }),
    );
  });
});

describe('parseWindow', () => {
  const now = T0;
  it('defaults to the last 24 hours', () => {
    expect(parseWindow(undefined, undefined, now)).toEqual({
      ok: true,
      window: { since: now - 24 * 60 * MIN, until: now },
    });
  });
  it('takes durations back from now and UTC times', () => {
    expect(parseWindow('2h', '30m', now)).toEqual({
      ok: true,
      window: { since: now - 120 * MIN, until: now - 30 * MIN },
    });
    expect(parseWindow('2026-12-04T02:00Z', '2026-12-04T02:30', now)).toEqual({
      ok: true,
      window: { since: T0 - 60 * MIN, until: T0 - 30 * MIN },
    });
    expect(parseWindow('2026-12-03', undefined, now)).toEqual({
      ok: true,
      window: { since: Date.parse('2026-12-03T00:00:00Z'), until: now },
    });
    expect(parseWindow('2026-12-04T04:00+01:00', undefined, now)).toEqual({
      ok: true,
      window: { since: T0, until: T0 },
    });
  });
  it('refuses nonsense, a reversed window and one longer than 90 days, saying which', () => {
    const bad = parseWindow('yesterday', undefined, now);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^`since` must be a duration/);
    expect(!bad.ok && bad.error).toContain('got `yesterday`');
    const badUntil = parseWindow('2h', 'soon`', now);
    expect(!badUntil.ok && badUntil.error).toMatch(/^`until`.*got `soon'`\.$/);
    expect(parseWindow('30m', '2h', now)).toEqual({
      ok: false,
      error: '`since` is after `until`: give the earlier time first.',
    });
    expect(parseWindow('100d', undefined, now).ok).toBe(false);
  });
});
