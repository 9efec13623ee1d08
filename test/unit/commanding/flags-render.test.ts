import { describe, expect, it } from 'vitest';
import { flagsCommand } from '../../../commands/flags.js';
import { renderConfirmation, renderMessage } from '../../../src/adapters/slack/render.js';
import type { Reply } from '../../../src/commanding/reply.js';
import type { CommandContext } from '../../../src/commanding/spec.js';
import { blockKitViolations } from '../../../src/emulators/slack/block-kit-limits.js';
import { dispatch } from '../../../src/interactions/router.js';
import { createLogger } from '../../../src/logger.js';
import { expectGolden } from '../../support/golden.js';
import { memoryServices } from '../../support/memory-flags.js';

const AT = new Date('2026-11-29T03:12:00Z');

/** A bot three changes into an incident, with a fixed clock so the rendering is stable. */
async function incident() {
  const { services } = memoryServices(() => AT);
  const ctx: CommandContext = {
    user: { id: 'U0OPERATOR' },
    correlationId: 'golden',
    log: createLogger('silent'),
    services,
  };
  const meta = { actor: { id: 'U0OPERATOR' }, via: 'slack' as const, reason: 'phase 1 canary' };
  await services.flags.set('retry_logic', true, meta);
  await services.flags.set('exponential_backoff', true, meta);
  await services.flags.set('dashboard', false, {
    actor: { id: 'api', name: 'deploy-bot' },
    via: 'api',
    reason: 'noisy',
  });
  return ctx;
}

function rendered(reply: Reply) {
  const message =
    reply.kind === 'message' ? renderMessage(reply) : renderConfirmation(reply, 'pending-id', 'U0OPERATOR');
  expect(blockKitViolations(message)).toEqual([]);
  return message;
}

describe('/flags replies, as Slack receives them', () => {
  it.each([
    ['flags-list', 'list'],
    ['flags-list-retry', 'list retry'],
    ['flags-get', 'get MESSAGING_EXPONENTIAL_BACKOFF'],
    ['flags-history', 'history'],
    ['flags-disable-all-confirmation', 'disable-all error rate spiking'],
    ['flags-disable-safety-confirmation', 'disable circuit_breaker flapping'],
    ['flags-help', 'help'],
  ])('%s', async (name, text) => {
    const ctx = await incident();
    const { reply } = await dispatch(flagsCommand, text, ctx);
    expectGolden(name, rendered(reply));
  });
});
