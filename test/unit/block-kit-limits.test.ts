import { describe, expect, it } from 'vitest';
import { blockKitRefusal, blockKitViolations } from '../../src/emulators/slack/block-kit-limits.js';

const text = (n: number, type: 'mrkdwn' | 'plain_text' = 'mrkdwn') => ({ type, text: 'x'.repeat(n) });
const section = (n = 5) => ({ type: 'section', text: text(n) });
const button = (id: string, extra: Record<string, unknown> = {}) => ({
  type: 'button',
  action_id: id,
  text: text(4, 'plain_text'),
  ...extra,
});
const many = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

describe('blockKitViolations', () => {
  it('accepts a typical message', () => {
    const message = {
      text: 'fallback',
      blocks: [
        { type: 'header', text: text(10, 'plain_text') },
        { type: 'section', text: text(20), fields: [text(5), text(5)], accessory: button('more') },
        { type: 'divider' },
        {
          type: 'context',
          elements: [text(3), { type: 'image', image_url: 'https://x/y.png', alt_text: 'y' }],
        },
        { type: 'actions', block_id: 'act', elements: [button('approve'), button('reject')] },
      ],
    };
    expect(blockKitViolations(message)).toEqual([]);
  });

  it('limits blocks to 50 per message and 100 per modal', () => {
    expect(blockKitViolations({ blocks: many(50, () => section()) })).toEqual([]);
    expect(blockKitViolations({ blocks: many(51, () => section()) })).toEqual(['blocks: 51 blocks (max 50)']);
    expect(blockKitViolations({ blocks: many(100, () => section()) }, 'modal')).toEqual([]);
    expect(blockKitViolations({ blocks: many(101, () => section()) }, 'modal')).toEqual([
      'blocks: 101 blocks (max 100)',
    ]);
  });

  it('limits top-level text to 40000 chars', () => {
    expect(blockKitViolations({ text: 'x'.repeat(40_000) })).toEqual([]);
    expect(blockKitViolations({ text: 'x'.repeat(40_001) })).toEqual(['text: 40001 chars (max 40000)']);
  });

  it('counts characters, not UTF-16 units', () => {
    expect(
      blockKitViolations({
        blocks: [{ type: 'header', text: { type: 'plain_text', text: '🚀'.repeat(150) } }],
      }),
    ).toEqual([]);
  });

  it('limits section text to 3000 chars and requires it non-empty', () => {
    expect(blockKitViolations({ blocks: [section(3000)] })).toEqual([]);
    expect(blockKitViolations({ blocks: [section(3001)] })).toEqual([
      'blocks[0] (section).text.text: 3001 chars (max 3000)',
    ]);
    expect(blockKitViolations({ blocks: [section(0)] })).toEqual([
      'blocks[0] (section).text.text: must be a non-empty string',
    ]);
    expect(blockKitViolations({ blocks: [{ type: 'section' }] })).toEqual([
      'blocks[0] (section): needs text or fields',
    ]);
    expect(
      blockKitViolations({ blocks: [{ type: 'section', text: { type: 'markdown', text: 'x' } }] }),
    ).toEqual(['blocks[0] (section).text: must be a text object (plain_text or mrkdwn)']);
  });

  it('limits header text to 150 chars of plain_text', () => {
    expect(blockKitViolations({ blocks: [{ type: 'header', text: text(150, 'plain_text') }] })).toEqual([]);
    expect(blockKitViolations({ blocks: [{ type: 'header', text: text(151, 'plain_text') }] })).toEqual([
      'blocks[0] (header).text.text: 151 chars (max 150)',
    ]);
    expect(blockKitViolations({ blocks: [{ type: 'header', text: text(5, 'mrkdwn') }] })).toEqual([
      'blocks[0] (header).text: must be plain_text',
    ]);
  });

  it('limits context blocks to 1..10 elements', () => {
    expect(blockKitViolations({ blocks: [{ type: 'context', elements: many(10, () => text(1)) }] })).toEqual(
      [],
    );
    expect(blockKitViolations({ blocks: [{ type: 'context', elements: many(11, () => text(1)) }] })).toEqual([
      'blocks[0] (context).elements: 11 elements (max 10)',
    ]);
    expect(blockKitViolations({ blocks: [{ type: 'context', elements: [] }] })).toEqual([
      'blocks[0] (context).elements: must be a non-empty array',
    ]);
    expect(blockKitViolations({ blocks: [{ type: 'context', elements: [text(0)] }] })).toEqual([
      'blocks[0] (context).elements[0].text: must be a non-empty string',
    ]);
  });

  it('limits section fields to 10 of at most 2000 chars', () => {
    const fields = (n: number, len: number) => ({ type: 'section', fields: many(n, () => text(len)) });
    expect(blockKitViolations({ blocks: [fields(10, 2000)] })).toEqual([]);
    expect(blockKitViolations({ blocks: [fields(11, 1)] })).toEqual([
      'blocks[0] (section).fields: 11 fields (max 10)',
    ]);
    expect(blockKitViolations({ blocks: [fields(1, 2001)] })).toEqual([
      'blocks[0] (section).fields[0].text: 2001 chars (max 2000)',
    ]);
  });

  it('limits actions blocks to 1..25 elements with unique action_ids', () => {
    const actions = (n: number) => ({ type: 'actions', elements: many(n, (i) => button(`a${i}`)) });
    expect(blockKitViolations({ blocks: [actions(25)] })).toEqual([]);
    expect(blockKitViolations({ blocks: [actions(26)] })).toEqual([
      'blocks[0] (actions).elements: 26 elements (max 25)',
    ]);
    expect(blockKitViolations({ blocks: [{ type: 'actions', elements: [] }] })).toEqual([
      'blocks[0] (actions).elements: must be a non-empty array',
    ]);
    expect(
      blockKitViolations({ blocks: [{ type: 'actions', elements: [button('same'), button('same')] }] }),
    ).toEqual(['blocks[0] (actions).elements[1].action_id: duplicate "same"']);
    // The same action_id in two different actions blocks is allowed.
    const twoBlocks = [
      { type: 'actions', elements: [button('same')] },
      { type: 'actions', elements: [button('same')] },
    ];
    expect(blockKitViolations({ blocks: twoBlocks })).toEqual([]);
  });

  it('limits button text to 75 plain_text chars and value to 2000', () => {
    const withButton = (b: unknown) => ({ blocks: [{ type: 'actions', elements: [b] }] });
    expect(blockKitViolations(withButton(button('b', { text: text(75, 'plain_text') })))).toEqual([]);
    expect(blockKitViolations(withButton(button('b', { text: text(76, 'plain_text') })))).toEqual([
      'blocks[0] (actions).elements[0].text.text: 76 chars (max 75)',
    ]);
    expect(blockKitViolations(withButton(button('b', { text: text(3, 'mrkdwn') })))).toEqual([
      'blocks[0] (actions).elements[0].text: must be plain_text',
    ]);
    expect(blockKitViolations(withButton(button('b', { value: 'v'.repeat(2000) })))).toEqual([]);
    expect(blockKitViolations(withButton(button('b', { value: 'v'.repeat(2001) })))).toEqual([
      'blocks[0] (actions).elements[0].value: 2001 chars (max 2000)',
    ]);
  });

  it('limits action_id and block_id to 255 chars', () => {
    const ok = { type: 'actions', block_id: 'b'.repeat(255), elements: [button('a'.repeat(255))] };
    expect(blockKitViolations({ blocks: [ok] })).toEqual([]);
    const long = { type: 'actions', block_id: 'b'.repeat(256), elements: [button('a'.repeat(256))] };
    expect(blockKitViolations({ blocks: [long] })).toEqual([
      'blocks[0] (actions).block_id: 256 chars (max 255)',
      'blocks[0] (actions).elements[0].action_id: 256 chars (max 255)',
    ]);
    expect(
      blockKitViolations({
        blocks: [{ type: 'section', text: text(1), accessory: button('a'.repeat(256)) }],
      }),
    ).toEqual(['blocks[0] (section).accessory.action_id: 256 chars (max 255)']);
  });

  it('rejects duplicate block_ids within a message', () => {
    const blocks = [
      { ...section(), block_id: 'one' },
      { ...section(), block_id: 'two' },
      { ...section(), block_id: 'one' },
    ];
    expect(blockKitViolations({ blocks })).toEqual(['blocks[2] (section).block_id: duplicate "one"']);
  });

  it('checks the blocks of each attachment', () => {
    expect(
      blockKitViolations({ attachments: [{ color: '#f00', blocks: many(50, () => section()) }] }),
    ).toEqual([]);
    expect(
      blockKitViolations({
        attachments: [{ color: '#f00' }, { blocks: [...many(50, () => section()), section(3001)] }],
      }),
    ).toEqual([
      'attachments[1].blocks: 51 blocks (max 50)',
      'attachments[1].blocks[50] (section).text.text: 3001 chars (max 3000)',
    ]);
  });

  it('reports malformed structures instead of throwing', () => {
    expect(blockKitViolations({ blocks: 'nope' as unknown as unknown[] })).toEqual([
      'blocks: must be an array',
    ]);
    expect(blockKitViolations({ blocks: [null, { text: 'x' }] })).toEqual([
      'blocks[0]: must be an object with a type',
      'blocks[1]: must be an object with a type',
    ]);
  });
  it('limits context element text to 3000 chars', () => {
    expect(blockKitViolations({ blocks: [{ type: 'context', elements: [text(3000)] }] })).toEqual([]);
    expect(blockKitViolations({ blocks: [{ type: 'context', elements: [text(3001)] }] })).toEqual([
      'blocks[0] (context).elements[0].text: 3001 chars (max 3000)',
    ]);
  });

  it('limits button URLs to 3000 chars', () => {
    const withUrl = (n: number) => ({
      blocks: [{ type: 'actions', elements: [button('b', { url: 'u'.repeat(n) })] }],
    });
    expect(blockKitViolations(withUrl(3000))).toEqual([]);
    expect(blockKitViolations(withUrl(3001))).toEqual([
      'blocks[0] (actions).elements[0].url: 3001 chars (max 3000)',
    ]);
  });

  it('refuses block and element types Slack does not know', () => {
    expect(
      blockKitViolations({
        blocks: [
          { type: 'rich_text', elements: [] },
          { type: 'video' },
          { type: 'carousel' },
          {
            type: 'actions',
            elements: [button('a'), { type: 'static_select', action_id: 's' }, { type: 'slider' }],
          },
        ],
      }),
    ).toEqual([
      'blocks[2] (carousel): unknown block type',
      'blocks[3] (actions).elements[2] (slider): unknown element type',
    ]);
  });

  it('shapes a refusal as Slack does: the error code, and each violation with a JSON pointer', () => {
    expect(blockKitRefusal(['blocks[0] (section).text.text: 3001 chars (max 3000)'])).toEqual({
      ok: false,
      error: 'invalid_blocks',
      errors: ['3001 chars (max 3000) [json-pointer:/blocks/0/text/text]'],
      response_metadata: { messages: ['[ERROR] 3001 chars (max 3000) [json-pointer:/blocks/0/text/text]'] },
    });
    expect(blockKitRefusal(['text: 40001 chars (max 40000)']).error).toBe('msg_too_long');
    expect(blockKitRefusal(['attachments: must be an array']).error).toBe('invalid_attachments');
    expect(
      blockKitRefusal(['attachments[1].blocks[0] (section).fields[2].text: 2001 chars (max 2000)']).errors,
    ).toEqual(['2001 chars (max 2000) [json-pointer:/attachments/1/blocks/0/fields/2/text]']);
  });
});
