import { randomUUID } from 'node:crypto';
import type { App, BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import { dispatch, runConfirmed } from '../../commanding/dispatch.js';
import { message, type Reply } from '../../commanding/reply.js';
import type { CommandContext, CommandSpec } from '../../commanding/spec.js';
import type { Logger } from '../../logger.js';
import type { Confirmations } from '../../services/confirmations.js';
import type { Services } from '../../services/services.js';
import type { Metrics } from '../metrics.js';
import {
  CANCEL_ACTION,
  CONFIRM_ACTION,
  renderConfirmation,
  renderMessage,
  type SlackMessage,
} from './render.js';

export interface SlackAppDeps {
  commands: readonly CommandSpec[];
  services: Services;
  confirmations: Confirmations;
  metrics: Metrics;
  log: Logger;
  /** Work still running after the ack; shutdown waits for it. */
  track: <T>(work: Promise<T>) => Promise<T>;
}

/** Slack acks within 3 s; a reply ready before this goes in the ack itself, otherwise via response_url. */
const ACK_BUDGET_MS = 2_000;

/** Registers the slash commands and the confirmation buttons on a Bolt app. */
export function registerSlackHandlers(app: App, deps: SlackAppDeps): void {
  for (const command of deps.commands) {
    app.command(command.name, async ({ command: payload, ack, respond, context }) => {
      const correlationId = correlationOf(context);
      const ctx = contextFor(
        deps,
        { id: payload.user_id, name: payload.user_name },
        payload.channel_id,
        correlationId,
      );
      const work = deps.track(answerCommand(command, payload.text ?? '', ctx, deps));
      const quick = await Promise.race([work, delay(ACK_BUDGET_MS)]);
      if (quick) {
        await ack(quick);
        return;
      }
      await ack({ response_type: 'ephemeral', text: ':hourglass_flowing_sand: Working on it…' });
      await sendResponse(respond, await work, ctx.log);
    });
  }

  app.action<BlockAction<ButtonAction>>(CONFIRM_ACTION, async ({ ack, body, action, respond, context }) => {
    await ack();
    const ctx = contextFor(
      deps,
      { id: body.user.id, name: body.user.username },
      body.channel?.id,
      correlationOf(context),
    );
    await deps.track(confirmAction(action.value ?? '', ctx, deps, respond));
  });

  app.action<BlockAction<ButtonAction>>(CANCEL_ACTION, async ({ ack, body, action, respond }) => {
    await ack();
    const claim = await deps.confirmations.claim(action.value ?? '', body.user.id, 'cancelled');
    const text =
      claim.status === 'claimed'
        ? `Cancelled by <@${body.user.id}>. Nothing was changed.`
        : 'This confirmation was already settled or has expired. Nothing was changed.';
    await sendResponse(respond, { ...message(text), replace: claim.status === 'claimed' }, deps.log);
  });

  app.error(async (error) => {
    deps.log.error({ err: error }, 'unhandled Slack error');
  });
}

/**
 * Runs a slash command on someone's behalf (e.g. an alert's Kill switch button opens the same
 * `/flags disable-all` confirmation as typing it), with the same permission checks.
 */
export async function answerAs(
  deps: SlackAppDeps,
  commandName: string,
  text: string,
  user: { id: string; name?: string },
  channelId: string | undefined,
  correlationId: string = randomUUID(),
): Promise<SlackMessage> {
  const command = deps.commands.find((candidate) => candidate.name === commandName);
  if (!command) throw new Error(`no command ${commandName}`);
  return answerCommand(command, text, contextFor(deps, user, channelId, correlationId), deps);
}

async function answerCommand(command: CommandSpec, text: string, ctx: CommandContext, deps: SlackAppDeps) {
  const started = performance.now();
  const result = await dispatch(command, text, ctx);
  deps.metrics.commands.inc({
    command: command.name,
    subcommand: result.subcommand,
    outcome: result.outcome,
  });
  deps.metrics.commandDuration.observe({ command: command.name }, (performance.now() - started) / 1000);
  ctx.log.info(
    { command: command.name, subcommand: result.subcommand, outcome: result.outcome },
    'command handled',
  );
  return toSlack(result.reply, command.name, result.subcommand, ctx, deps);
}

async function toSlack(
  reply: Reply,
  command: string,
  subcommand: string,
  ctx: CommandContext,
  deps: SlackAppDeps,
) {
  if (reply.kind === 'message') return renderMessage(reply);
  const pending = await deps.confirmations.create(command, subcommand, reply.args, ctx.user.id);
  return renderConfirmation(reply, pending.id, ctx.user.id);
}

async function confirmAction(id: string, ctx: CommandContext, deps: SlackAppDeps, respond: RespondFn) {
  const pending = await deps.confirmations.peek(id);
  const spec = deps.commands
    .find((command) => command.name === pending?.command)
    ?.subcommands.find((sub) => sub.name === pending?.subcommand);
  if (!pending || !spec) {
    return sendResponse(
      respond,
      message(':warning: I no longer know this confirmation. Run the command again.'),
      ctx.log,
    );
  }
  // Check before claiming, so a refused click leaves the confirmation for an operator.
  const denial = await deps.services.access.check(ctx.user.id, spec.permission);
  if (!denial.allowed) {
    deps.metrics.commands.inc({
      command: pending.command,
      subcommand: `${pending.subcommand}:confirm`,
      outcome: 'denied',
    });
    return sendResponse(respond, message(`:no_entry: ${denial.reason} Nothing was changed.`), ctx.log);
  }
  const claim = await deps.confirmations.claim(id, ctx.user.id);
  if (claim.status === 'settled') {
    const settled = claim.action.settled!;
    return sendResponse(
      respond,
      message(`Already ${settled.how} by <@${settled.by}>; I did not do it again.`),
      ctx.log,
    );
  }
  if (claim.status !== 'claimed') {
    return sendResponse(
      respond,
      message(':hourglass: This confirmation has expired. Nothing was changed; run the command again.'),
      ctx.log,
    );
  }
  const result = await runConfirmed(spec, pending.args, ctx);
  deps.metrics.commands.inc({
    command: pending.command,
    subcommand: `${pending.subcommand}:confirm`,
    outcome: result.outcome,
  });
  ctx.log.info(
    { command: pending.command, subcommand: pending.subcommand, outcome: result.outcome },
    'confirmation handled',
  );
  await sendResponse(respond, { ...(result.reply as Reply), replace: true }, ctx.log);
}

async function sendResponse(
  respond: RespondFn,
  reply: (Reply & { replace?: boolean }) | SlackMessage,
  log: Logger,
) {
  const body =
    'kind' in reply
      ? reply.kind === 'message'
        ? renderMessage(reply)
        : { text: reply.title, response_type: 'ephemeral' as const }
      : reply;
  const replace = 'replace' in reply && reply.replace === true;
  try {
    await respond({ ...body, replace_original: replace } as never);
  } catch (error) {
    log.error({ err: error }, 'could not send the reply to response_url');
  }
}

function contextFor(
  deps: SlackAppDeps,
  user: { id: string; name?: string },
  channelId: string | undefined,
  correlationId: string,
): CommandContext {
  return {
    user,
    channelId,
    correlationId,
    services: deps.services,
    log: deps.log.child({ correlationId, user: user.id }),
  };
}

/** The HTTP request's id (set by the server), so logs of one click or command line up. */
function correlationOf(context: unknown): string {
  const id = (context as { correlationId?: unknown }).correlationId;
  return typeof id === 'string' ? id : randomUUID();
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}
