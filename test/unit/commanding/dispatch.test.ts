import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flagsCommand } from '../../../commands/flags.js';
import type { CommandContext } from '../../../src/commanding/spec.js';
import { parseCommandLine, tokenize } from '../../../src/commanding/tokenize.js';
import { dispatch } from '../../../src/interactions/router.js';
import { createLogger } from '../../../src/logger.js';
import { memoryServices } from '../../support/memory-flags.js';

function context(userId = 'U0OPERATOR') {
  const { services, store } = memoryServices();
  const ctx: CommandContext = {
    user: { id: userId },
    correlationId: 'test',
    log: createLogger('silent'),
    services,
  };
  return { ctx, store };
}

describe('tokenize', () => {
  it('keeps quoted text together, with straight and typographic quotes', () => {
    expect(tokenize('enable retry_logic "error rate 5%"')).toEqual([
      'enable',
      'retry_logic',
      'error rate 5%',
    ]);
    expect(tokenize('enable x “slack smart quotes”')).toEqual(['enable', 'x', 'slack smart quotes']);
    expect(tokenize("  a   'b c'  ")).toEqual(['a', 'b c']);
    expect(tokenize('unclosed "quote runs on')).toEqual(['unclosed', 'quote runs on']);
  });

  it('separates declared --options from words', () => {
    expect(parseCommandLine('deployment core --to-revision 3 bad deploy', ['to-revision'])).toEqual({
      words: ['deployment', 'core', 'bad', 'deploy'],
      options: { 'to-revision': '3' },
    });
    expect(parseCommandLine('deployment core --to-revision=4', ['to-revision']).options).toEqual({
      'to-revision': '4',
    });
    expect(parseCommandLine('say --not-an-option', []).words).toEqual(['say', '--not-an-option']);
  });

  it('never throws and never invents characters', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const words = tokenize(text);
        for (const word of words) for (const char of word) expect(text).toContain(char);
      }),
    );
  });
});

describe('dispatch', () => {
  it('answers any command line with a reply and no exception, and read-only users change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc
            .tuple(
              fc.constantFrom(
                'list',
                'get',
                'enable',
                'disable',
                'disable-all',
                'history',
                'help',
                'bogus',
                '',
              ),
              fc.array(
                fc.oneof(
                  fc.constantFrom('retry_logic', 'MESSAGING_DASHBOARD', 'timing', '--x', '"'),
                  fc.string({ maxLength: 20 }),
                ),
                { maxLength: 5 },
              ),
            )
            .map(([sub, rest]) => [sub, ...rest].join(' ')),
        ),
        async (text) => {
          const { ctx, store } = context('U0OUTSIDER');
          const before = JSON.stringify(store.state);
          const result = await dispatch(flagsCommand, text, ctx);
          expect(
            result.reply.kind === 'message' ? result.reply.text.length : result.reply.title.length,
          ).toBeGreaterThan(0);
          expect(result.outcome).not.toBe('error');
          expect(JSON.stringify(store.state)).toBe(before);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('explains usage errors with the usage line', async () => {
    const { ctx } = context();
    const result = await dispatch(flagsCommand, 'get', ctx);
    expect(result.outcome).toBe('usage');
    expect(result.reply.kind === 'message' && result.reply.text).toContain(
      'Usage: `/flags get &lt;flag&gt;`',
    );
    const extra = await dispatch(flagsCommand, 'get retry_logic now please', ctx);
    expect(extra.reply.kind === 'message' && extra.reply.text).toContain(
      "I don't know what to do with `now please`",
    );
  });

  it('returns a confirmation for disable-all and changes nothing until confirmed', async () => {
    const { ctx, store } = context();
    await ctx.services.flags.set('retry_logic', true, { actor: { id: 'U0OPERATOR' }, via: 'slack' });
    const result = await dispatch(flagsCommand, 'disable-all "error spike"', ctx);
    expect(result.outcome).toBe('confirm');
    expect(result.reply.kind === 'confirm' && result.reply.details).toEqual(['`retry_logic` on → off']);
    expect(result.reply.kind === 'confirm' && result.reply.args).toEqual({ reason: 'error spike' });
    expect(store.state.values.retry_logic).toBe(true);
  });
});
