import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyNotification } from '../../../src/core/alerts/group.js';
import { cutText, summariseGroup } from '../../../src/core/alerts/summary.js';
import type { Alert } from '../../../src/core/alerts/types.js';
import { firing, MINUTE, notification, resolved, T0 } from './builders.js';

function stateOf(alerts: Alert[], truncatedAlerts = 0) {
  return applyNotification(undefined, notification(alerts, { truncatedAlerts }), T0 + 10 * MINUTE).state;
}

const hasLoneSurrogate = (text: string) =>
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

describe('cutText', () => {
  it('keeps short text and cuts long text with an ellipsis', () => {
    expect(cutText('hello', 5)).toBe('hello');
    expect(cutText('hello world', 8)).toBe('hello w…');
    expect(cutText('hello world', 7)).toBe('hello…');
    expect(cutText('hello', 1)).toBe('…');
    expect(cutText('hello', 0)).toBe('');
  });

  it('never splits a surrogate pair', () => {
    const cut = cutText('ab🔥🔥🔥', 4);
    expect(cut).toBe('ab…');
    expect(hasLoneSurrogate(cut)).toBe(false);
  });
});

describe('summariseGroup', () => {
  it('summarises a small firing group', () => {
    const a = firing('a1', T0);
    const b = firing('b22', T0 + MINUTE);
    const gone = resolved(firing('c333', T0 - MINUTE), T0 + 5 * MINUTE);
    const summary = summariseGroup(stateOf([gone, b, a]));
    expect(summary).toEqual({
      title: 'SEV1 firing (2): MessagingSystemDown (deployment=messaging-core) - Messaging system is down',
      severity: 'sev1',
      status: 'firing',
      firingCount: 2,
      resolvedCount: 1,
      truncated: false,
      lines: [
        // The summary is the group's (in the title), so each line shows its description.
        '[firing] instance=10.0.0.2:8080 severity=critical: Messaging system target a1 has been down for more than 1 minute',
        '[firing] instance=10.0.0.3:8080 severity=critical: Messaging system target b22 has been down for more than 1 minute',
        '[resolved] instance=10.0.0.4:8080 severity=critical: Messaging system target c333 has been down for more than 1 minute',
      ],
      hiddenCount: 0,
      notReceivedCount: 0,
    });
  });

  it('uses an alert’s own summary when it differs from the group’s, and flattens whitespace', () => {
    const own = firing('a1', T0);
    own.annotations.summary = 'Pod\n\tmessaging-core-7d9   lost\r\nits volume';
    const summary = summariseGroup(stateOf([own]));
    expect(summary.lines).toEqual([
      '[firing] instance=10.0.0.2:8080 severity=critical: Pod messaging-core-7d9 lost its volume',
    ]);
  });

  it('lists firing alerts first, sev1 before sev2, earliest first', () => {
    const alerts = [
      firing('late', T0 + 2 * MINUTE, { severity: 'critical' }),
      firing('warn', T0, { severity: 'warning' }),
      resolved(firing('old', T0 - MINUTE), T0),
      firing('early', T0, { severity: 'critical' }),
    ];
    const lines = summariseGroup(stateOf(alerts)).lines;
    expect(lines.map((line) => line.match(/target (\w+)/)?.[1])).toEqual(['early', 'late', 'warn', 'old']);
  });

  it('says a resolved group is resolved', () => {
    const gone = resolved(firing('a1', T0), T0 + MINUTE);
    const summary = summariseGroup(stateOf([gone]));
    expect(summary.title).toBe(
      'SEV1 resolved: MessagingSystemDown (deployment=messaging-core) - Messaging system is down',
    );
    expect([summary.firingCount, summary.resolvedCount]).toEqual([0, 1]);
  });

  it('handles 300 alerts with 20,000-character descriptions within the limits', () => {
    const alerts = Array.from({ length: 300 }, (_, index) => {
      const alert = firing(`fp${String(index).padStart(3, '0')}`, T0 + index * 1000);
      alert.annotations.description = `Alert ${index}: ${'x'.repeat(20_000)}`;
      return alert;
    });
    // Sizes, not a stopwatch: a time bound fails on a busy machine (speed is for `npm run bench:*`).
    const summary = summariseGroup(stateOf(alerts, 12));
    expect(summary.lines).toHaveLength(20);
    expect(summary.hiddenCount).toBe(280);
    expect(summary.notReceivedCount).toBe(12);
    expect(summary.firingCount).toBe(300);
    expect(summary.truncated).toBe(true);
    expect(summary.lines.join('\n').length).toBeLessThanOrEqual(2500);
    // 2500 less 19 newlines, shared evenly: 124 characters a line, and the odd one left over to the last.
    expect(summary.lines.map((line) => line.length)).toEqual([...new Array(19).fill(124), 125]);
    expect(summary.lines.join('\n')).toHaveLength(2500);
    expect(summary.lines[0]).toMatch(
      /^\[firing\] instance=10\.0\.0\.5:8080 severity=critical: Alert 0: x+…$/,
    );
    expect(summary.lines[19]).toMatch(/Alert 19: x+…$/);
  });

  it('gives short lines all they need and the long ones the rest', () => {
    const short = firing('s', T0);
    short.annotations.description = 'short';
    const long = firing('l', T0 + 1);
    long.annotations.description = 'y'.repeat(1000);
    const summary = summariseGroup(stateOf([short, long]), { maxTextChars: 200 });
    expect(summary.lines[0]).toBe('[firing] instance=10.0.0.1:8080 severity=critical: short');
    expect(summary.lines[1]).toHaveLength(200 - 1 - summary.lines[0]!.length);
    expect(summary.lines[1]!.endsWith('…')).toBe(true);
    expect(summary.truncated).toBe(true);
    expect(summary.hiddenCount).toBe(0);
  });

  it('lists fewer alerts rather than useless scraps of many', () => {
    const alerts = Array.from({ length: 10 }, (_, index) => firing(`f${index}`, T0 + index));
    const summary = summariseGroup(stateOf(alerts), { maxTextChars: 60 });
    expect(summary.lines.length).toBe(3); // 3 lines of 19 + 2 newlines = 59; 4 would leave 14 each
    expect(summary.hiddenCount).toBe(7);
    expect(summary.lines.join('\n').length).toBeLessThanOrEqual(60);
  });

  it('honours maxAlerts 0 and tiny budgets', () => {
    const alerts = [firing('a1', T0), firing('b22', T0)];
    expect(summariseGroup(stateOf(alerts), { maxAlerts: 0 }).lines).toEqual([]);
    expect(summariseGroup(stateOf(alerts), { maxAlerts: 0 }).hiddenCount).toBe(2);
    const tiny = summariseGroup(stateOf(alerts), { maxTextChars: 3, maxTitleChars: 4 });
    expect(tiny.lines).toEqual(['[f…']);
    expect(tiny.title).toBe('SEV…');
    expect(summariseGroup(stateOf(alerts), { maxTextChars: 0 }).lines).toEqual([]);
  });

  it('property: never exceeds any limit, and accounts for every alert', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      fc.integer({ min: 0, max: 5000 }).map((n) => `${'🔥'.repeat(n % 7)}${'z'.repeat(n)}`),
    );
    const arbAlerts = fc
      .array(fc.tuple(fc.boolean(), text, fc.option(text, { nil: undefined })), { maxLength: 60 })
      .map((specs) =>
        specs.map(([isFiring, description, summary], index) => {
          const alert = firing(`f${index}`, T0 + index);
          alert.annotations = { description, ...(summary !== undefined && { summary }) };
          alert.labels.note = description.slice(0, 40);
          return isFiring ? alert : resolved(alert, T0 + 5 * MINUTE);
        }),
      );
    const limits = fc.record(
      {
        maxAlerts: fc.integer({ min: 0, max: 30 }),
        maxTextChars: fc.integer({ min: 0, max: 3000 }),
        maxLineChars: fc.integer({ min: 0, max: 600 }),
        maxTitleChars: fc.integer({ min: 0, max: 200 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(arbAlerts, limits, (alerts, options) => {
        const summary = summariseGroup(stateOf(alerts), options);
        const maxAlerts = options.maxAlerts ?? 20;
        const maxTextChars = options.maxTextChars ?? 2500;
        const maxLineChars = options.maxLineChars ?? 500;
        expect(summary.lines.length).toBeLessThanOrEqual(maxAlerts);
        expect(summary.lines.join('\n').length).toBeLessThanOrEqual(maxTextChars);
        expect(summary.title.length).toBeLessThanOrEqual(options.maxTitleChars ?? 150);
        for (const line of summary.lines) {
          expect(line.length).toBeLessThanOrEqual(maxLineChars);
          expect(line).not.toMatch(/[\n\r]/);
          expect(hasLoneSurrogate(line)).toBe(false);
        }
        expect(summary.lines.length + summary.hiddenCount).toBe(alerts.length);
        expect(summary.firingCount + summary.resolvedCount).toBe(alerts.length);
        // Truncated exactly when something was left out: compare with a summary without limits.
        const unlimited = summariseGroup(stateOf(alerts), {
          maxAlerts: 1000,
          maxTextChars: 1e9,
          maxLineChars: 1e9,
        });
        const linesCut = summary.lines.some((line, index) => line !== unlimited.lines[index]);
        expect(summary.truncated).toBe(summary.hiddenCount > 0 || linesCut);
      }),
    );
  });
});
