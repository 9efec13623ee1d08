import { describe, expect, it } from 'vitest';
import {
  applyChanges,
  checklistView,
  emptyChecklistState,
  POST_DEPLOYMENT_CHECKLIST,
  planChecklists,
} from '../../src/core/phases/checklists.js';
import { SEED_PHASES } from '../../src/core/phases/plan.js';
import { blockKitRefusal, blockKitViolations } from '../../src/emulators/slack/block-kit-limits.js';
import { renderChecklist } from '../../src/messages/phase.js';

const option = (n: number, extra: Record<string, unknown> = {}) => ({
  text: { type: 'plain_text', text: `item ${n}` },
  value: `v${n}`,
  ...extra,
});
const boxes = (element: Record<string, unknown>) => ({
  blocks: [
    { type: 'actions', block_id: 'c', elements: [{ type: 'checkboxes', action_id: 'a', ...element }] },
  ],
});
const many = (n: number) => Array.from({ length: n }, (_, i) => option(i));

describe('checkboxes, as Slack validates them', () => {
  it('takes 1 to 10 options, and initial options that are options', () => {
    expect(blockKitViolations(boxes({ options: many(10), initial_options: [option(3)] }))).toEqual([]);
    expect(blockKitViolations(boxes({ options: many(11) }))).toEqual([
      'blocks[0] (actions).elements[0].options: 11 options (max 10)',
    ]);
    expect(blockKitViolations(boxes({ options: [] }))).toEqual([
      'blocks[0] (actions).elements[0].options: must be a non-empty array',
    ]);
  });

  it('refuses option text over 75, a value over 150, a description over 75, a missing value', () => {
    const violations = blockKitViolations(
      boxes({
        options: [
          { text: { type: 'mrkdwn', text: 'x'.repeat(76) }, value: 'a' },
          { text: { type: 'plain_text', text: 'b' }, value: 'v'.repeat(151) },
          option(3, { description: { type: 'plain_text', text: 'd'.repeat(76) } }),
          { text: { type: 'plain_text', text: 'no value' } },
        ],
      }),
    );
    expect(violations).toEqual([
      'blocks[0] (actions).elements[0].options[0].text.text: 76 chars (max 75)',
      'blocks[0] (actions).elements[0].options[1].value: 151 chars (max 150)',
      'blocks[0] (actions).elements[0].options[2].description.text: 76 chars (max 75)',
      'blocks[0] (actions).elements[0].options[3].value: must be a non-empty string',
    ]);
  });

  it('refuses initial options that are not exactly options of the element', () => {
    const violations = blockKitViolations(
      boxes({ options: many(3), initial_options: [option(1), { ...option(2), value: 'other' }] }),
    );
    expect(violations).toEqual([
      'blocks[0] (actions).elements[0].initial_options[1]: must exactly match one of the options',
    ]);
    expect(blockKitRefusal(violations)).toMatchObject({
      error: 'invalid_blocks',
      errors: ['must exactly match one of the options [json-pointer:/blocks/0/elements/0/initial_options/1]'],
    });
  });

  it('accepts every seed checklist as the bot renders it, ticked or not', () => {
    for (const list of planChecklists(SEED_PHASES, POST_DEPLOYMENT_CHECKLIST)) {
      const none = checklistView(list, emptyChecklistState());
      const some = checklistView(
        list,
        applyChanges(
          emptyChecklistState(),
          list,
          [{ item: list.items[1]!.id, ticked: true }],
          'U0A',
          '2026-12-04T22:00:00Z',
        ).state,
      );
      expect(blockKitViolations({ text: 'x', blocks: renderChecklist(none) })).toEqual([]);
      expect(blockKitViolations({ text: 'x', blocks: renderChecklist(some) })).toEqual([]);
    }
  });
});
