import { randomUUID } from 'node:crypto';
import type { App, BlockAction, BlockElementAction, RespondFn } from '@slack/bolt';
import type { CommandSpec } from '../../commanding/spec.js';
import { replayKeys } from '../../interactions/replay-guard.js';
import type { InteractionRouter, Outgoing, SlackRequest } from '../../interactions/router.js';
import type { InteractionInput, InteractionSpec } from '../../interactions/spec.js';
import type { Logger } from '../../logger.js';
import type { Services } from '../../services/services.js';

export interface SlackAppDeps {
  commands: readonly CommandSpec[];
  router: InteractionRouter;
  services: Services;
  log: Logger;
  /** Work still running after the ack; shutdown waits for it. */
  track: <T>(work: Promise<T>) => Promise<T>;
}

/** Slack acks within 3 s; a reply ready before this goes in the ack itself, otherwise via response_url. */
const ACK_BUDGET_MS = 2_000;

/**
 * Hands every slash command and every declared interaction to the router, over HTTP or Socket
 * Mode alike. This file only translates Bolt's payloads and sends what the router answers.
 */
export function registerSlackHandlers(
  app: App,
  deps: SlackAppDeps,
  interactions: readonly InteractionSpec[],
): void {
  for (const command of deps.commands) {
    app.command(command.name, async ({ command: payload, body, ack, respond, context }) => {
      const request = requestOf(
        context,
        body,
        { id: payload.user_id, name: payload.user_name },
        payload.channel_id,
      );
      const work = deps.track(deps.router.command(command, payload.text ?? '', request));
      const quick = await Promise.race([work, delay(ACK_BUDGET_MS)]);
      if (quick) {
        const [first, ...rest] = quick.messages;
        await ack(first);
        await send(respond, rest, deps.log);
        return;
      }
      await ack({ response_type: 'ephemeral', text: ':hourglass_flowing_sand: Working on it…' });
      await send(respond, (await work).messages, deps.log);
    });
  }
  registerInteractions(app, deps, interactions);
  app.error(async (error) => {
    deps.log.error({ err: error }, 'unhandled Slack error');
  });
}

/** Registers buttons, menus, reactions and events; also used by modules that bring their own. */
export function registerInteractions(
  app: App,
  deps: Pick<SlackAppDeps, 'router' | 'log' | 'track'>,
  specs: readonly InteractionSpec[],
): void {
  for (const spec of specs.filter((candidate) => candidate.kind === 'action')) {
    app.action<BlockAction<BlockElementAction>>(spec.id, async ({ ack, body, action, respond, context }) => {
      await ack();
      const value =
        action.type === 'static_select'
          ? action.selected_option?.value
          : 'value' in action && typeof action.value === 'string'
            ? action.value
            : undefined;
      const request = requestOf(
        context,
        body,
        { id: body.user.id, name: body.user.username },
        body.channel?.id,
      );
      // A checkboxes element sends its whole selection after the click, and its block tells which view.
      const input: InteractionInput =
        action.type === 'checkboxes'
          ? {
              selected: (action.selected_options ?? []).flatMap((option) =>
                typeof option.value === 'string' ? [option.value] : [],
              ),
              blockId: action.block_id,
            }
          : { value };
      const delivery = await deps.track(deps.router.interaction(spec, input, request));
      await send(respond, delivery.messages, deps.log);
    });
  }
  const reactions = specs.filter((candidate) => candidate.kind === 'reaction');
  if (reactions.length > 0) {
    const on =
      (added: boolean) =>
      async ({ event, body, context }: { event: ReactionEvent; body: unknown; context: unknown }) => {
        const spec = reactions.find((candidate) => candidate.id === event.reaction);
        const { user, item } = event;
        // Only the declared reactions on messages are routed; any other emoji is none of our business.
        if (!spec || !user || item?.type !== 'message' || !item.channel || !item.ts) return;
        const request = requestOf(context, body, { id: user }, item.channel);
        const input: InteractionInput = { item: { channel: item.channel, ts: item.ts }, added };
        await deps.track(deps.router.interaction(spec, input, request));
      };
    app.event('reaction_added', on(true));
    app.event('reaction_removed', on(false));
  }
  for (const spec of specs.filter((candidate) => candidate.kind === 'event')) {
    app.event(spec.id, async ({ event, body, context }) => {
      const user = (event as { user?: unknown }).user;
      if (typeof user !== 'string') return;
      await deps.track(deps.router.interaction(spec, {}, requestOf(context, body, { id: user }, undefined)));
    });
  }
}

interface ReactionEvent {
  user?: string;
  reaction?: string;
  item?: { type?: string; channel?: string; ts?: string };
}

function requestOf(
  context: unknown,
  body: unknown,
  user: { id: string; name?: string },
  channelId: string | undefined,
): SlackRequest {
  const { correlationId, requestSignature } = context as {
    correlationId?: unknown;
    requestSignature?: unknown;
  };
  return {
    user,
    channelId,
    // The HTTP request's id (set by the server), so logs of one click or command line up.
    correlationId: typeof correlationId === 'string' ? correlationId : randomUUID(),
    replayKeys: replayKeys(
      typeof requestSignature === 'string' ? requestSignature : undefined,
      body as Record<string, unknown>,
    ),
  };
}

async function send(respond: RespondFn, messages: readonly Outgoing[], log: Logger): Promise<void> {
  for (const message of messages) {
    try {
      await respond({ ...message, replace_original: message.replace_original ?? false } as never);
    } catch (error) {
      log.error({ err: error }, 'could not send the reply to response_url');
    }
  }
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}
