import { randomUUID } from 'node:crypto';
import type { Metrics } from '../adapters/metrics.js';
import { renderConfirmation, renderMessage, type SlackMessage } from '../adapters/slack/render.js';
import { type Parsed, type Resolved, resolveCommand } from '../commanding/dispatch.js';
import { message, type Reply, UserError } from '../commanding/reply.js';
import type { CommandContext, CommandSpec, Permission } from '../commanding/spec.js';
import type { Logger } from '../logger.js';
import type { Confirmations } from '../services/confirmations.js';
import type { Services } from '../services/services.js';
import type { ReplayRecorder } from './replay-guard.js';
import type { Answer, InteractionInput, InteractionSpec } from './spec.js';

export type Outcome = 'ok' | 'usage' | 'denied' | 'error' | 'confirm' | 'replay';

/** One Slack request, as the adapter saw it (its signature already verified). */
export interface SlackRequest {
  user: { id: string; name?: string };
  channelId?: string;
  correlationId: string;
  /** Signature, trigger_id, action_ts, event_id: any one seen before makes this a replay. */
  replayKeys: readonly string[];
}

/** What to send back: each message in order (the first in the ack, where the adapter can). */
export interface Delivery {
  outcome: Outcome;
  messages: Outgoing[];
}

export type Outgoing = SlackMessage & { replace_original?: boolean };

export interface RouterDeps {
  commands: readonly CommandSpec[];
  services: Services;
  confirmations: Confirmations;
  replay: ReplayRecorder;
  metrics: Metrics;
  log: Logger;
}

/** Everything the router needs to run one request, whatever its kind. */
interface Routed {
  command: string;
  subcommand: string;
  permission: (ctx: CommandContext) => Promise<Permission>;
  deniedNote?: string;
  confirm: 'never' | 'asks';
  /** Replace the message the click came from (a confirmation, once settled). */
  replaceOriginal?: boolean;
  parse(): Parsed<unknown>;
  run(ctx: CommandContext, args: unknown): Promise<Answer>;
}

/**
 * The one path of every Slack interaction — slash commands, buttons, menus, reactions, events —
 * after the signature: replay check → permission → parse → run → error policy → metrics and one
 * log line. Nothing else checks permissions, quotes error references or counts outcomes.
 */
export class InteractionRouter {
  constructor(private readonly deps: RouterDeps) {}

  get commands(): readonly CommandSpec[] {
    return this.deps.commands;
  }

  /** A slash command's text. */
  command(command: CommandSpec, text: string, request: SlackRequest): Promise<Delivery> {
    const resolved = resolveCommand(command, text);
    if (resolved.kind === 'reply') {
      const { reply, subcommand, outcome } = resolved;
      return this.route(request, {
        command: command.name,
        subcommand,
        permission: async () => 'anyone',
        confirm: 'never',
        parse: () => ({ ok: true, args: undefined }),
        run: async () => reply,
        fixedOutcome: outcome,
      });
    }
    return this.route(request, subcommandRoute(command, resolved));
  }

  /** A button, menu, reaction or event declared by `spec`. */
  interaction(spec: InteractionSpec, input: InteractionInput, request: SlackRequest): Promise<Delivery> {
    const { permission } = spec;
    return this.route(request, {
      command: spec.group,
      subcommand: spec.name,
      permission: async (ctx) => (typeof permission === 'function' ? permission(input, ctx) : permission),
      deniedNote: spec.deniedNote,
      confirm: spec.confirm,
      replaceOriginal: spec.replaceOriginal,
      parse: () => {
        const parsed = spec.args.safeParse(input);
        if (parsed.success) return { ok: true, args: parsed.data };
        const issue = parsed.error.issues[0]!;
        return {
          ok: false,
          reply: message(
            `:warning: I do not recognise this ${spec.kind} (${issue.message}). Nothing was changed.`,
          ),
        };
      },
      run: (ctx, args) => spec.run(ctx, args),
    });
  }

  private async route(request: SlackRequest, routed: Routed & { fixedOutcome?: Outcome }): Promise<Delivery> {
    const started = performance.now();
    const ctx = this.contextFor(request);
    const delivery = await this.deliver(request, routed, ctx);
    const labels = { command: routed.command, subcommand: routed.subcommand };
    this.deps.metrics.commands.inc({ ...labels, outcome: delivery.outcome });
    this.deps.metrics.commandDuration.observe(
      { command: routed.command },
      (performance.now() - started) / 1000,
    );
    ctx.log.info({ ...labels, outcome: delivery.outcome }, 'interaction handled');
    return delivery;
  }

  private async deliver(
    request: SlackRequest,
    routed: Routed & { fixedOutcome?: Outcome },
    ctx: CommandContext,
  ): Promise<Delivery> {
    try {
      const verdict = await this.deps.replay.accept(request.replayKeys);
      if (this.deps.replay.dropped > 0)
        ctx.log.warn(
          { dropped: this.deps.replay.dropped },
          'replay records over their bound: oldest dropped',
        );
      if (!verdict.first) {
        ctx.log.info({ key: verdict.key.split(':')[0] }, 'replayed Slack request: not acting again');
        return { outcome: 'replay', messages: [] };
      }
    } catch (error) {
      return this.storeFailure('could not record this request', error, ctx);
    }
    const { outcome, answer } = await guarded(routed, ctx);
    const finalOutcome = outcome === 'ok' && routed.fixedOutcome ? routed.fixedOutcome : outcome;
    const replace = routed.replaceOriginal === true && finalOutcome !== 'denied';
    if (answer === undefined) return { outcome: finalOutcome, messages: [] };
    const first = answer.kind === 'followed' ? answer.first : answer;
    const sent = await this.render(first, routed, ctx, replace);
    if (sent.outcome === 'error' || answer.kind !== 'followed') {
      return { outcome: sent.outcome === 'error' ? 'error' : finalOutcome, messages: sent.messages };
    }
    const then = await failSafe(() => answer.next(), ctx);
    const more = then.answer ? (await this.render(then.answer as Reply, routed, ctx, false)).messages : [];
    return {
      outcome: then.outcome === 'ok' ? finalOutcome : then.outcome,
      messages: [...sent.messages, ...more],
    };
  }

  /** A store that fails answers the person clearly; readiness reports it from the store itself. */
  private storeFailure(what: string, error: unknown, ctx: CommandContext): Delivery {
    ctx.log.error({ err: error }, `${what}: store failed`);
    const why = error instanceof Error ? error.message : String(error);
    return {
      outcome: 'error',
      messages: [
        renderMessage(message(`:x: I ${what}: ${why}; nothing was changed. Try again in a minute.`)),
      ],
    };
  }

  private async render(
    reply: Reply,
    routed: Routed,
    ctx: CommandContext,
    replace: boolean,
  ): Promise<Delivery> {
    if (reply.kind === 'message') {
      return {
        outcome: 'ok',
        messages: [{ ...renderMessage(reply), ...(replace ? { replace_original: true } : {}) }],
      };
    }
    const origin = reply.origin ?? { command: routed.command, subcommand: routed.subcommand };
    try {
      const pending = await this.deps.confirmations.create(
        origin.command,
        origin.subcommand,
        reply.args,
        ctx.user.id,
        reply.opener,
      );
      return { outcome: 'confirm', messages: [renderConfirmation(reply, pending.id, ctx.user.id)] };
    } catch (error) {
      return this.storeFailure('could not record the confirmation', error, ctx);
    }
  }

  private contextFor(request: SlackRequest): CommandContext {
    return {
      user: request.user,
      channelId: request.channelId,
      correlationId: request.correlationId,
      services: this.deps.services,
      log: this.deps.log.child({ correlationId: request.correlationId, user: request.user.id }),
    };
  }
}

/** Permission → parse → run → error policy. */
async function guarded(routed: Routed, ctx: CommandContext): Promise<{ outcome: Outcome; answer: Answer }> {
  const permission = await failSafe(() => routed.permission(ctx), ctx);
  if (permission.outcome !== 'ok') return { outcome: permission.outcome, answer: permission.answer as Reply };
  const required = permission.answer as Permission;
  if (required !== 'anyone') {
    const decision = await ctx.services.access.check(ctx.user.id, required);
    if (!decision.allowed) {
      const note = routed.deniedNote ? ` ${routed.deniedNote}` : '';
      return {
        outcome: 'denied',
        answer: message(`:no_entry: ${decision.reason} Nothing was changed.${note}`),
      };
    }
  }
  const parsed = routed.parse();
  if (!parsed.ok) return { outcome: 'usage', answer: parsed.reply };
  const ran = await failSafe(() => routed.run(ctx, parsed.args), ctx);
  if (ran.outcome !== 'ok') return ran;
  const answer = ran.answer as Answer;
  const first = answer?.kind === 'followed' ? answer.first : answer;
  if (first?.kind === 'confirm') {
    if (routed.confirm !== 'asks')
      return internalError(
        new Error(`${routed.command} ${routed.subcommand} asked for a confirmation it does not declare`),
        ctx,
      );
    return { outcome: 'confirm', answer };
  }
  return { outcome: 'ok', answer };
}

/** The error policy: a user error is shown; anything else is logged with a reference the user sees. */
async function failSafe<T>(
  work: () => Promise<T>,
  ctx: CommandContext,
): Promise<{ outcome: Outcome; answer: T | Reply }> {
  try {
    return { outcome: 'ok', answer: await work() };
  } catch (error) {
    if (error instanceof UserError) {
      const hint = error.hint ? `\n${error.hint}` : '';
      return { outcome: 'usage', answer: message(`:warning: ${error.message}${hint}`) };
    }
    return internalError(error, ctx);
  }
}

function internalError(error: unknown, ctx: CommandContext): { outcome: Outcome; answer: Reply } {
  const reference = randomUUID().slice(0, 8);
  ctx.log.error({ err: error, reference }, 'interaction failed');
  return {
    outcome: 'error',
    answer: message(
      `:x: Something went wrong on my side (reference \`${reference}\`, correlation \`${ctx.correlationId}\`). It may not have completed: check \`/flags list\` or the channel before retrying.`,
    ),
  };
}

/** A command line through the same guard, without replay, confirmation store or metrics (unit tests). */
export async function dispatch(
  command: CommandSpec,
  text: string,
  ctx: CommandContext,
): Promise<{ subcommand: string; outcome: Outcome; reply: Reply }> {
  const resolved = resolveCommand(command, text);
  if (resolved.kind === 'reply') return resolved;
  const { outcome, answer } = await guarded(subcommandRoute(command, resolved), ctx);
  const reply = answer?.kind === 'followed' ? answer.first : (answer ?? message(''));
  return { subcommand: resolved.spec.name, outcome, reply };
}

function subcommandRoute(command: CommandSpec, resolved: Extract<Resolved, { kind: 'subcommand' }>): Routed {
  const { spec } = resolved;
  return {
    command: command.name,
    subcommand: spec.name,
    permission: async () => spec.permission,
    confirm: spec.confirmed ? 'asks' : 'never',
    parse: resolved.parse,
    run: (ctx, args) => spec.run(ctx, args as never),
  };
}
