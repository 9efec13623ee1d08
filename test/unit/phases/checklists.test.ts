import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyChanges,
  type ChecklistState,
  checklistGate,
  checklistsInForce,
  emptyChecklistState,
  itemId,
  maskItems,
  POST_DEPLOYMENT_CHECKLIST,
  planChecklists,
  recordOverride,
  selectionChanges,
  shownMask,
  untickedItems,
} from '../../../src/core/phases/checklists.js';
import { SEED_PHASES } from '../../../src/core/phases/plan.js';

const lists = planChecklists(SEED_PHASES, POST_DEPLOYMENT_CHECKLIST);
const pre = lists[0]!;
const ids = pre.items.map((item) => item.id);

describe('the seed checklists', () => {
  it("are the seed's: Pre-Deployment (Phase 0), one per phase, Post-Deployment", () => {
    expect(lists.map((list) => list.id)).toEqual([
      'pre-deployment',
      'phase-1',
      'phase-2',
      'phase-3',
      'post-deployment',
    ]);
    expect(pre.items.map((item) => item.text)).toContain('Stakeholder approval obtained');
    expect(lists[4]!.items.map((item) => item.text)).toContain('Success metrics achieved');
    for (const list of lists) {
      expect(new Set(list.items.map((item) => item.id)).size).toBe(list.items.length);
      expect(list.items.length).toBeLessThanOrEqual(10);
    }
  });

  it("in force: the current phase's, and Post-Deployment at the last phase", () => {
    expect(checklistsInForce(lists, SEED_PHASES[0]!, false).map((list) => list.id)).toEqual([
      'pre-deployment',
    ]);
    expect(checklistsInForce(lists, SEED_PHASES[3]!, true).map((list) => list.id)).toEqual([
      'phase-3',
      'post-deployment',
    ]);
  });

  it('item ids are stable and short', () => {
    expect(itemId('Health checks passing')).toBe(itemId('Health checks passing'));
    expect(itemId('Health checks passing')).toMatch(/^[0-9a-f]{8}$/);
    expect(itemId('a')).not.toBe(itemId('b'));
  });
});

describe('ticking', () => {
  it('records who and when, and unticking removes the tick but keeps the record', () => {
    const a = applyChanges(emptyChecklistState(), pre, [{ item: ids[0]!, ticked: true }], 'U0A', 't1');
    expect(a.state.ticks[`pre-deployment/${ids[0]}`]).toEqual({ by: 'U0A', at: 't1' });
    const b = applyChanges(a.state, pre, [{ item: ids[0]!, ticked: false }], 'U0B', 't2');
    expect(b.state.ticks).toEqual({});
    expect(b.state.events.map((e) => [e.action, e.by, e.at])).toEqual([
      ['tick', 'U0A', 't1'],
      ['untick', 'U0B', 't2'],
    ]);
  });

  it('setting what is already so records nothing; unknown items are ignored', () => {
    const a = applyChanges(emptyChecklistState(), pre, [{ item: ids[1]!, ticked: true }], 'U0A', 't1');
    const again = applyChanges(a.state, pre, [{ item: ids[1]!, ticked: true }], 'U0B', 't2');
    expect(again.events).toEqual([]);
    expect(again.state).toBe(a.state);
    expect(applyChanges(a.state, pre, [{ item: 'deadbeef', ticked: true }], 'U0B', 't2').events).toEqual([]);
  });

  it("a click on an older view changes only what that person changed, never someone else's tick", () => {
    // A sees nothing ticked; B ticks item 0; A then ticks item 2 on the old view.
    const b = applyChanges(emptyChecklistState(), pre, [{ item: ids[0]!, ticked: true }], 'U0B', 't1');
    const changes = selectionChanges(pre, new Set(), new Set([ids[2]!]));
    expect(changes).toEqual([{ item: ids[2]!, ticked: true }]);
    const a = applyChanges(b.state, pre, changes, 'U0A', 't2');
    expect(untickedItems(pre, a.state).map((item) => item.id)).toEqual([ids[1], ids[3], ids[4]]);
  });

  it('masks round-trip and refuse a view of another shape', () => {
    const a = applyChanges(emptyChecklistState(), pre, [{ item: ids[3]!, ticked: true }], 'U0A', 't1');
    const mask = shownMask(pre, a.state);
    expect(mask).toBe('00010');
    expect(maskItems(pre, mask)).toEqual(new Set([ids[3]]));
    expect(maskItems(pre, '0001')).toBeUndefined();
    expect(maskItems(pre, '00x10')).toBeUndefined();
  });

  it('property: the ticks are exactly what the events say, in any order of clicks by anyone', () => {
    const click = fc.record({
      item: fc.integer({ min: 0, max: ids.length - 1 }),
      ticked: fc.boolean(),
      by: fc.constantFrom('U0A', 'U0B', 'U0C'),
    });
    fc.assert(
      fc.property(fc.array(click, { maxLength: 60 }), (clicks) => {
        let state: ChecklistState = emptyChecklistState();
        clicks.forEach((c, n) => {
          state = applyChanges(state, pre, [{ item: ids[c.item]!, ticked: c.ticked }], c.by, `t${n}`).state;
        });
        // Replay the events: the last event per item decides, and names who ticked and when.
        const replayed: Record<string, { by: string; at: string }> = {};
        for (const event of state.events) {
          if (event.action === 'override') continue;
          const key = `${event.checklist}/${event.item}`;
          if (event.action === 'tick') replayed[key] = { by: event.by, at: event.at };
          else delete replayed[key];
        }
        expect(state.ticks).toEqual(replayed);
        // Events alternate per item (no tick after tick), and sequence numbers only grow.
        const seqs = state.events.map((event) => event.seq);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
        expect(new Set(seqs).size).toBe(seqs.length);
        // The final state of each item is the last click on it.
        for (const [index, id] of ids.entries()) {
          const last = clicks.filter((c) => c.item === index).at(-1);
          expect(Boolean(state.ticks[`pre-deployment/${id}`])).toBe(last?.ticked ?? false);
        }
      }),
    );
  });

  it('property: applying the changes of a click to the view it came from gives exactly the selection', () => {
    fc.assert(
      fc.property(fc.subarray(ids), fc.subarray(ids), (shown, selected) => {
        const changes = selectionChanges(pre, new Set(shown), new Set(selected));
        const start = applyChanges(
          emptyChecklistState(),
          pre,
          shown.map((item) => ({ item, ticked: true })),
          'U0A',
          't0',
        ).state;
        const after = applyChanges(start, pre, changes, 'U0B', 't1').state;
        expect(maskItems(pre, shownMask(pre, after))).toEqual(new Set(selected));
      }),
    );
  });
});

describe('the advance gate', () => {
  it('passes when all are ticked; refuses unticked items without a reason; passes with one', () => {
    const items = pre.items.slice(0, 2);
    expect(checklistGate([], undefined)).toEqual({ ok: true, unticked: [] });
    expect(checklistGate([], 'whatever')).toEqual({ ok: true, unticked: [] });
    expect(checklistGate(items, undefined)).toEqual({ ok: false, unticked: items });
    expect(checklistGate(items, '   ')).toEqual({ ok: false, unticked: items });
    expect(checklistGate(items, ' signed off by the lead ')).toEqual({
      ok: true,
      unticked: items,
      override: 'signed off by the lead',
    });
  });

  it('records an override with its reason and the unticked items', () => {
    const { state, events } = recordOverride(emptyChecklistState(), {
      checklist: 'pre-deployment',
      unticked: ['Stakeholder approval obtained'],
      reason: 'approved by mail',
      requestId: 'r1',
      by: 'U0OP',
      at: 't1',
    });
    expect(events[0]).toMatchObject({ action: 'override', reason: 'approved by mail', seq: 1 });
    expect(state.events).toHaveLength(1);
    expect(state.ticks).toEqual({});
  });
});
