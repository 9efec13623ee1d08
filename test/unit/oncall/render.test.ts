import { describe, expect, it } from 'vitest';
import type { OncallView } from '../../../src/core/oncall.js';
import { blockKitViolations } from '../../../src/emulators/slack/block-kit-limits.js';
import { renderOncall } from '../../../src/messages/oncall.js';

const NOW = Date.parse('2026-12-04T22:00:00Z');
const members = (n: number) => Array.from({ length: n }, (_, i) => `U0M${String(i).padStart(4, '0')}`);

describe('/oncall rendering', () => {
  it('stays within Block Kit limits with large groups and many open sev1s, and escapes alert text', () => {
    const view: OncallView = {
      now: NOW,
      chain: [
        {
          name: 'On-call engineer',
          after: 0,
          notify: ['S0ONCALL'],
          targets: [{ id: 'S0ONCALL', members: members(400) }],
        },
        ...Array.from({ length: 3 }, (_, i) => ({
          tierIndex: i,
          name: `Role <!here> ${'x'.repeat(70)}`,
          after: (i + 1) * 900_000,
          notify: ['S0BIG'],
          targets: [{ id: 'S0BIG', members: members(200) }],
        })),
      ],
      open: Array.from({ length: 40 }, (_, i) => ({
        id: `g${i}`,
        title: `<!channel> ${'y'.repeat(300)}`,
        openedAt: NOW - i * 60_000,
        next: {
          tierIndex: 0,
          name: 'Team Lead',
          notify: ['S0BIG'],
          at: NOW + 600_000,
          targets: [{ id: 'S0BIG', members: members(200) }],
        },
      })),
    };
    const rendered = renderOncall(view);
    expect(blockKitViolations({ text: rendered.text, blocks: rendered.blocks })).toEqual([]);
    const all = JSON.stringify(rendered.blocks);
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<!here>');
    expect(all).toContain('+388 more');
    expect(all).toContain('25 more open sev1 groups not listed.');
  });
});
