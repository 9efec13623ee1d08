/**
 * The App Home renderer: what it shows, that every piece of outside text is escaped, and that the view
 * always stays within Slack's Home limits (100 blocks; the last then says what was left out).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockKitViolations, viewViolations } from '../../../src/emulators/slack/block-kit-limits.js';
import { section } from '../../../src/messages/blocks.js';
import {
  capBlocks,
  HOME_MAX_BLOCKS,
  type HomeAlert,
  type HomeState,
  renderHome,
} from '../../../src/messages/home.js';
import { foreignTokens, HOSTILE, stringsOf } from '../../support/slack-tokens.js';

const T0 = Date.UTC(2026, 11, 4, 21, 0, 0);
const KNOWN = ['U0OPERATOR', 'U0LEAD1', 'U0LEAD2', 'S0ONCALL', 'U0TEAMLEAD', 'U0ENGMGR'];

function baseState(overrides: Partial<HomeState> = {}): HomeState {
  return {
    channel: 'C0INCIDENTS',
    phase: {
      current: { number: 1, name: 'Foundation' },
      next: {
        number: 2,
        name: 'Intelligence',
        checklist: ['Intelligent ordering active', 'Alerting system tested'],
        toEnable: ['intelligent_ordering', 'urgent_first'],
      },
      ahead: [],
    },
    flags: [
      {
        key: 'retry_logic',
        enabled: true,
        by: 'U0OPERATOR',
        at: new Date(T0).toISOString(),
        reason: 'phase 1 by hand',
      },
    ],
    alerts: [
      {
        title: 'SEV1 firing (1): MessagingSystemDown - Messaging system is down',
        severity: 'sev1',
        firingCount: 1,
        openedAt: T0,
        message: { channel: 'C0INCIDENTS', ts: '1796418000.000100' },
        nextPage: { tier: 'Team lead', notify: ['U0TEAMLEAD'], at: T0 + 15 * 60_000 },
      },
      {
        title: 'SEV2 firing (2): HighLatency',
        severity: 'sev2',
        firingCount: 2,
        openedAt: T0,
        acknowledged: { by: 'U0OPERATOR', at: T0 + 60_000 },
      },
    ],
    approvals: [
      {
        from: '1 Foundation',
        to: '2 Intelligence',
        requester: 'U0OPERATOR',
        approvals: ['U0LEAD1'],
        required: 2,
        status: 'open',
        expiresAt: new Date(T0 + 3_600_000).toISOString(),
        channel: 'C0INCIDENTS',
        ts: '1796418000.000200',
      },
    ],
    runbooks: [
      {
        title: 'High latency',
        startedBy: 'U0LEAD2',
        startedAt: new Date(T0).toISOString(),
        step: 2,
        steps: 4,
        stepTitle: 'Check the p95',
        channel: 'C0INCIDENTS',
        ts: '1796418000.000300',
      },
    ],
    escalation: {
      oncall: 'S0ONCALL',
      tiers: [
        { name: 'Team lead', after: '15m', notify: ['U0TEAMLEAD'] },
        { name: 'Engineering manager', after: '1h', notify: ['U0ENGMGR'] },
        { name: 'VP Engineering', after: '4h', notify: [] },
      ],
    },
    ...overrides,
  };
}

/** The `<…>` tokens the bot did not make; its own links to messages in Slack are allowed. */
function foreign(view: unknown): string[] {
  return stringsOf(view)
    .flatMap((text) => foreignTokens(text, KNOWN))
    .filter((token) => !/^<https:\/\/slack\.com\/archives\/[CG][A-Z0-9]+\/p\d+\|[^<>]*>$/.test(token));
}

/** The text fields of a view or block (not types or ids), joined. */
function text(value: unknown): string {
  if (Array.isArray(value)) return value.map(text).filter(Boolean).join('\n');
  if (!value || typeof value !== 'object') return '';
  const node = value as Record<string, unknown>;
  if (typeof node.text === 'string') return node.text;
  return Object.values(node).map(text).filter(Boolean).join('\n');
}

describe('renderHome', () => {
  it('shows the phase and the next checklist, open alerts with ack state and next page, approvals, runbooks, changed flags and the chain', () => {
    const view = renderHome(baseState());
    expect(view.type).toBe('home');
    const shown = text(view);
    expect(shown).toContain('Phase 1: Foundation');
    expect(shown).toContain('Next: phase 2, Intelligence');
    expect(shown).toContain('• Intelligent ordering active');
    expect(shown).toContain('`intelligent_ordering`');
    expect(shown).toContain('MessagingSystemDown');
    expect(shown).toContain(':bell: *Not acknowledged*');
    expect(shown).toMatch(/Next page: Team lead \(<@U0TEAMLEAD>\) at <!date\^\d+/);
    expect(shown).toContain('Acknowledged by <@U0OPERATOR>');
    expect(shown).toContain('1 of 2 approvals (<@U0LEAD1>)');
    expect(shown).toContain('step 2 of 4: Check the p95');
    expect(shown).toMatch(
      /`retry_logic` is \*on\* \(default off\) by <@U0OPERATOR> <!date\^\d+.*phase 1 by hand/,
    );
    expect(shown).toContain('On call, at once: <!subteam^S0ONCALL>');
    expect(shown).toContain('2. Engineering manager after 1h: <@U0ENGMGR>');
    expect(shown).toContain('3. VP Engineering after 4h: nobody');
    // The sev1 is listed before the sev2, as given; both link to their message when posted.
    expect(shown.indexOf('MessagingSystemDown')).toBeLessThan(shown.indexOf('HighLatency'));
    expect(shown).toContain('<https://slack.com/archives/C0INCIDENTS/p1796418000000100|');
    expect(viewViolations(view, 'home')).toEqual([]);
    expect(foreign(view)).toEqual([]);
  });

  it('says plainly when there is nothing to show', () => {
    const view = renderHome(
      baseState({ flags: [], alerts: [], approvals: [], runbooks: [], escalation: { tiers: [] } }),
    );
    const shown = text(view);
    expect(shown).toContain('No alert is firing.');
    expect(shown).toContain('No phase advance is waiting.');
    expect(shown).toContain('No runbook is running.');
    expect(shown).toContain('Every flag is at its default.');
    expect(shown).toContain('_nobody configured_');
    expect(viewViolations(view, 'home')).toEqual([]);
  });

  it('is the same view for the same state (no clock in it)', () => {
    expect(JSON.stringify(renderHome(baseState()))).toBe(JSON.stringify(renderHome(baseState())));
  });

  it('escapes every piece of outside text: alert titles, reasons, names, checklists', () => {
    const hostile = fc
      .array(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...HOSTILE)), {
        minLength: 1,
        maxLength: 6,
      })
      .map((parts) => parts.join(''));
    // An ID-shaped string is a mention by design (ids come from Slack); anything else must not become one.
    const someId = fc.oneof(
      fc.constantFrom(...KNOWN),
      hostile.filter((id) => !/^[UWS][A-Z0-9]+$/.test(id)),
    );
    fc.assert(
      fc.property(hostile, hostile, hostile, someId, (a, b, c, d) => {
        const state = baseState();
        state.alerts[0]!.title = a;
        state.alerts[0]!.nextPage!.tier = b;
        state.flags[0]!.reason = c;
        state.flags[0]!.by = d;
        state.runbooks[0]!.title = b;
        state.runbooks[0]!.stepTitle = c;
        state.approvals[0]!.from = a;
        state.approvals[0]!.requester = d;
        state.phase.current.name = c;
        state.phase.next!.checklist = [a, d];
        state.escalation.tiers[0]!.name = a;
        state.escalation.oncall = d;
        const view = renderHome(state);
        expect(foreign(view)).toEqual([]);
        expect(viewViolations(view, 'home')).toEqual([]);
      }),
      { seed: 20_261_204, numRuns: 200 },
    );
    const view = renderHome(
      baseState({ alerts: [{ ...baseState().alerts[0]!, title: '<script>alert(1)</script>' }] }),
    );
    expect(text(view)).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('lists at most 50 of a kind, then counts the rest', () => {
    const alerts: HomeAlert[] = Array.from({ length: 57 }, (_, i) => ({
      title: `SEV3 firing (1): Alert${i}`,
      severity: 'sev3',
      firingCount: 1,
      openedAt: T0 + i,
    }));
    const shown = text(renderHome(baseState({ alerts })));
    expect(shown).toContain('Alert49');
    expect(shown).not.toContain('Alert50');
    expect(shown).toContain('…and 7 more alert groups.');
  });

  it('never exceeds 100 blocks however much is open: the last block says how many were left out', () => {
    const many = <T>(n: number, make: (i: number) => T) => Array.from({ length: n }, (_, i) => make(i));
    const state = baseState({
      alerts: many(30, (i) => ({ ...baseState().alerts[0]!, title: `Alert${i}` })),
      approvals: many(30, () => baseState().approvals[0]!),
      runbooks: many(30, () => baseState().runbooks[0]!),
      flags: many(30, (i) => ({ key: `flag_${i}`, enabled: true })),
    });
    const view = renderHome(state);
    expect(view.blocks).toHaveLength(HOME_MAX_BLOCKS);
    expect(text(view.blocks.at(-1))).toMatch(
      /:warning: \d+ more blocks not shown \(Slack shows at most 100\)/,
    );
    expect(viewViolations(view, 'home')).toEqual([]);
    expect(blockKitViolations({ blocks: view.blocks }, 'home')).toEqual([]);
  });

  it('capBlocks keeps 99 blocks and one overflow line, and leaves 100 or fewer alone', () => {
    const blocks = Array.from({ length: 150 }, (_, i) => section(`line ${i}`));
    const capped = capBlocks(blocks);
    expect(capped).toHaveLength(100);
    expect(text(capped.at(-2))).toBe('line 98');
    expect(text(capped.at(-1))).toContain('51 more blocks not shown');
    expect(capBlocks(blocks.slice(0, 100))).toHaveLength(100);
    expect(text(capBlocks(blocks.slice(0, 100)).at(-1))).toBe('line 99');
  });
});

describe('viewViolations (what the emulator checks for views.publish)', () => {
  it('refuses a view that is not a home view, has no blocks, or has more than 100', () => {
    expect(viewViolations({ type: 'modal', blocks: [] }, 'home')).toEqual(['view.type: must be "home"']);
    expect(viewViolations({ type: 'home' }, 'home')).toEqual(['view.blocks: must provide an array']);
    expect(viewViolations('{', 'home')).toEqual(['view: must be a view object']);
    const blocks = Array.from({ length: 101 }, () => section('x'));
    expect(viewViolations({ type: 'home', blocks }, 'home')).toEqual(['view.blocks: 101 blocks (max 100)']);
    expect(
      viewViolations(
        { type: 'home', blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'x' } }] },
        'home',
      ),
    ).toEqual(['view.blocks[0] (header).text: must be plain_text']);
    expect(viewViolations({ type: 'home', blocks: [], private_metadata: 'x'.repeat(3001) }, 'home')).toEqual([
      'view.private_metadata: 3001 chars (max 3000)',
    ]);
  });
});
