import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_TEXT, plainTextFallback, refusalOf } from '../../src/adapters/slack/refused-message.js';

/** The shape `@slack/web-api` throws for an `ok:false` answer. */
const platformError = (data: Record<string, unknown>) =>
  Object.assign(new Error(`An API error occurred: ${data.error}`), {
    code: 'slack_webapi_platform_error',
    data,
  });

describe('refusalOf', () => {
  it("recognises Slack's refusals of a message, with their detail", () => {
    expect(
      refusalOf(
        platformError({ ok: false, error: 'invalid_blocks', errors: ['bad [json-pointer:/blocks/0]'] }),
      ),
    ).toEqual({
      code: 'invalid_blocks',
      errors: ['bad [json-pointer:/blocks/0]'],
    });
    expect(
      refusalOf(
        platformError({
          ok: false,
          error: 'invalid_attachments',
          response_metadata: { messages: ['[ERROR] x'] },
        }),
      ),
    ).toEqual({ code: 'invalid_attachments', errors: ['[ERROR] x'] });
    expect(refusalOf(platformError({ ok: false, error: 'msg_too_long' }))).toEqual({
      code: 'msg_too_long',
      errors: [],
    });
  });

  it('ignores every other error', () => {
    expect(refusalOf(platformError({ ok: false, error: 'channel_not_found' }))).toBeUndefined();
    expect(
      refusalOf(Object.assign(new Error('429'), { code: 'slack_webapi_rate_limited_error' })),
    ).toBeUndefined();
    expect(refusalOf(new Error('invalid_blocks'))).toBeUndefined();
    expect(refusalOf(undefined)).toBeUndefined();
  });
});

describe('plainTextFallback', () => {
  it('keeps the text and thread, drops the blocks and shows the reference', () => {
    const fallback = plainTextFallback(
      { text: 'Rollout of *core* done', blocks: [{ type: 'divider' }], threadTs: '1.000001' },
      'ref-0badc0de',
    );
    expect(fallback.blocks).toEqual([]);
    expect(fallback.threadTs).toBe('1.000001');
    expect(fallback.text).toMatch(
      /^Rollout of \*core\* done\n\n_Slack refused .*\(reference ref-0badc0de\)\._$/,
    );
  });

  it("stays within Slack's text limit without splitting an entity or a surrogate pair", () => {
    const entity = plainTextFallback({ text: `${'a'.repeat(39_880)}${'&lt;'.repeat(100)}` }, 'ref-1');
    expect(entity.text.length).toBeLessThanOrEqual(MAX_MESSAGE_TEXT);
    expect(entity.text).toMatch(/(&lt;)+…\n\n_Slack refused/);
    const emoji = plainTextFallback({ text: '🚀'.repeat(30_000) }, 'ref-2');
    expect(emoji.text.length).toBeLessThanOrEqual(MAX_MESSAGE_TEXT);
    expect(emoji.text).toMatch(/^(🚀)+…\n\n/u);
  });

  it('is only the note when the message had no text', () => {
    expect(plainTextFallback({ text: '  ' }, 'ref-3').text).toMatch(/^_Slack refused .*ref-3/);
  });
});
