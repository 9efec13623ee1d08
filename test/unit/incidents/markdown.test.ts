import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { draftPostMortem } from '../../../src/core/incidents/post-mortem.js';
import type { IncidentEvent } from '../../../src/core/incidents/timeline.js';
import { mdActor, mdCode, renderPostMortem } from '../../../src/messages/incident.js';

const T0 = Date.parse('2026-12-04T03:00:00Z');
const MIN = 60_000;
const WINDOW = { since: T0 - 60 * MIN, until: T0 + 60 * MIN };
const HEADINGS = ['## Summary', '## Impact', '## Timeline', '## Response', '## Root cause', '## Prevention'];
const LINK = 'https://slack.com/archives/C0INCIDENTS/p1764817200000100';

/** Events carrying outside text everywhere one can: alert names and summaries, reasons, notes, names. */
function hostileEvents(text: string): IncidentEvent[] {
  return [
    {
      kind: 'alert-fired',
      at: T0,
      actor: { id: 'alertmanager' },
      group: 'g',
      alert: text,
      severity: 'sev1',
      summary: text,
      link: LINK,
    },
    { kind: 'ack', at: T0 + MIN, actor: { id: text }, group: 'g', alert: text },
    {
      kind: 'flag-change',
      at: T0 + 2 * MIN,
      actor: { id: 'U0OPERATOR', name: text },
      action: 'disable-all',
      via: 'slack',
      changes: [{ flag: text, to: false }],
      reason: text,
    },
    {
      kind: 'rollback',
      at: T0 + 3 * MIN,
      actor: { id: 'U0OPERATOR' },
      deployment: text,
      fromRevision: 2,
      toRevision: 1,
      fromImages: [text],
    },
    {
      kind: 'runbook',
      at: T0 + 4 * MIN,
      actor: { id: 'U0OPERATOR' },
      runbook: text,
      what: 'step-done',
      step: 1,
      stepTitle: text,
      note: text,
      link: `${text}`,
    },
    {
      kind: 'phase',
      at: T0 + 5 * MIN,
      actor: { id: 'U0OPERATOR' },
      what: 'requested',
      from: text,
      to: text,
      status: 'open',
      approvals: [],
      reason: text,
    },
    {
      kind: 'alert-resolved',
      at: T0 + 6 * MIN,
      actor: { id: 'alertmanager' },
      group: 'g',
      alert: text,
      severity: 'sev1',
    },
  ];
}

/** What Markdown would read as markup, once the inert code spans and the bot's own Slack links are taken out. */
function outsideCode(markdown: string): string {
  return markdown
    .replace(/`[^`\n]*`/g, 'CODE')
    .replace(/\[Slack message\]\(https:\/\/slack\.com\/archives\/[A-Z0-9]+\/p\d+\)/g, 'LINK');
}

describe('outside text in the post-mortem Markdown', () => {
  it('property: any text is one inert code span: one line, one backtick at each end, none inside', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const code = mdCode(text);
        expect(code).toMatch(/^`[^`\n\r]+`$/);
        expect(code.length).toBeLessThanOrEqual(302);
      }),
    );
  });

  it('cannot add a heading, a link, an autolink, HTML or a list item, and cannot break a line', () => {
    const hostile =
      '\n# Pwned\n[click](https://evil.example) <https://evil.example> https://evil.example <img src=x> `code` **bold**\r\n- item';
    const markdown = renderPostMortem(draftPostMortem(hostileEvents(hostile), WINDOW, T0 + 60 * MIN));
    const headings = markdown.split('\n').filter((line) => line.startsWith('#'));
    expect(headings.slice(1)).toEqual(HEADINGS);
    expect(headings[0]).toMatch(/^# Post-mortem draft: `[^`]+` \(sev1\)$/);
    const markup = outsideCode(markdown);
    expect(markup).not.toMatch(/https?:|<|>|\[|\]\(|\*\*bold/);
    expect(markup).toContain('LINK'); // the bot's own link to the alert message stays
    expect(
      markdown
        .split('\n')
        .filter((line) => line.includes('Pwned'))
        .every((line) => /^- |^# /.test(line)),
    ).toBe(true);
  });

  it('property: whatever the text, the draft has exactly the template headings and no markup of its own making', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const markdown = renderPostMortem(draftPostMortem(hostileEvents(text), WINDOW, T0 + 60 * MIN));
        expect(markdown.split('\n').filter((line) => line.startsWith('## '))).toEqual(HEADINGS);
        expect(outsideCode(markdown)).not.toMatch(/https?:|<|\]\(/);
      }),
      { numRuns: 200 },
    );
  });

  it('names people by Slack id, systems by name, and anything else as code', () => {
    expect(mdActor({ id: 'U0OPERATOR' })).toBe('@U0OPERATOR');
    expect(mdActor({ id: 'U0OPERATOR', name: 'Ana' })).toBe('`Ana` (@U0OPERATOR)');
    expect(mdActor({ id: 'alertmanager' })).toBe('Alertmanager');
    expect(mdActor({ id: 'api' })).toBe('the flag API');
    expect(mdActor({ id: '[x](http://e)' })).toBe('`[x](http://e)`');
  });
});

describe('a window with more events than a draft lists', () => {
  it('lists the first 2000, says how many later ones it left out, and counts durations on them all', () => {
    const events: IncidentEvent[] = Array.from({ length: 2_003 }, (_, index) => ({
      kind: 'flag-change',
      at: T0 + index,
      actor: { id: 'U0OPERATOR' },
      action: 'enable',
      via: 'slack',
      changes: [{ flag: 'retry_logic', to: true }],
    }));
    events.push({
      kind: 'alert-fired',
      at: T0 - 1,
      actor: { id: 'alertmanager' },
      group: 'g',
      alert: 'A',
      severity: 'sev2',
    });
    events.push({ kind: 'ack', at: T0 + 5_000, actor: { id: 'U0OPERATOR' }, group: 'g', alert: 'A' });
    const draft = draftPostMortem(events, { since: T0 - MIN, until: T0 + MIN }, T0 + MIN);
    expect(draft.timeline).toHaveLength(2_000);
    expect(draft.omitted).toBe(5);
    expect(draft.durations.timeToAcknowledge).toBe(5_001);
    expect(renderPostMortem(draft)).toContain('- … and 5 later events left out: ask for a shorter window.');
  });
});
