import { z } from 'zod';
import { CANCEL_ACTION, CONFIRM_ACTION } from '../adapters/slack/render.js';
import { message, type Reply, UserError } from '../commanding/reply.js';
import type { CommandContext, CommandSpec, Permission } from '../commanding/spec.js';
import type { ConfirmationOutcome, Confirmations, PendingAction } from '../services/confirmations.js';
import { buttonValue, type InteractionInput, type InteractionSpec, interaction } from './spec.js';

const UNKNOWN = ':warning: I no longer know this confirmation (unknown). Run the command again.';
const pendingId = buttonValue(z.string().max(100));

/** Confirm and Cancel on a confirmation: the permission is the one of the action waiting there. */
export function confirmationInteractions(
  commands: readonly CommandSpec[],
  confirmations: Confirmations,
): InteractionSpec[] {
  const subcommandOf = (pending: PendingAction | undefined) =>
    commands
      .find((command) => command.name === pending?.command)
      ?.subcommands.find((sub) => sub.name === pending?.subcommand);
  const pendingOf = (input: InteractionInput) => confirmations.peek(input.value ?? '');
  /** Tells the confirmation's opener how it ended; a listener's failure is logged, never the clicker's. */
  const tell = async (ctx: CommandContext, action: PendingAction, outcome: ConfirmationOutcome) => {
    try {
      await confirmations.report(action, outcome);
    } catch (error) {
      ctx.log.error(
        { err: error, opener: action.opener?.kind, outcome: outcome.kind },
        'confirmation opener not told',
      );
    }
  };

  return [
    interaction({
      kind: 'action',
      id: CONFIRM_ACTION,
      group: 'confirmation',
      name: 'confirm',
      // Checked before claiming, so a refused click leaves the confirmation for an operator.
      permission: async (input): Promise<Permission> =>
        subcommandOf(await pendingOf(input))?.permission ?? 'anyone',
      confirm: 'never',
      replaceOriginal: true,
      args: pendingId,
      async run(ctx, id) {
        const pending = await confirmations.peek(id);
        const spec = subcommandOf(pending);
        if (!pending || !spec?.confirmed) return message(UNKNOWN);
        const claim = await confirmations.claim(id, ctx.user.id);
        if (claim.status === 'settled') {
          const settled = claim.action.settled!;
          return message(`Already ${settled.how} by <@${settled.by}>; I did not do it again.`);
        }
        if (claim.status !== 'claimed') {
          if (claim.status === 'expired')
            await tell(ctx, pending, { kind: 'expired', at: confirmations.time() });
          return message(
            ':hourglass: This confirmation has expired. Nothing was changed; run the command again.',
          );
        }
        let reply: Reply;
        try {
          reply = await spec.confirmed(ctx, pending.args as never);
        } catch (error) {
          const reason =
            error instanceof UserError
              ? error.message
              : 'it may not have completed (an error on my side); check the channel before retrying.';
          await tell(ctx, claim.action, {
            kind: 'failed',
            by: ctx.user.id,
            at: confirmations.time(),
            reason,
          });
          throw error;
        }
        await tell(ctx, claim.action, {
          kind: 'executed',
          by: ctx.user.id,
          at: confirmations.time(),
          text: reply.kind === 'message' ? reply.text : reply.title,
        });
        return reply;
      },
    }),
    interaction({
      kind: 'action',
      id: CANCEL_ACTION,
      group: 'confirmation',
      name: 'cancel',
      permission: async (input, ctx: CommandContext): Promise<Permission> => {
        const pending = await pendingOf(input);
        return !pending || pending.requestedBy === ctx.user.id ? 'anyone' : 'operator';
      },
      deniedNote: 'Only the requester or an operator can cancel it; the confirmation stays open.',
      confirm: 'never',
      replaceOriginal: true,
      args: pendingId,
      async run(ctx, id) {
        const claim = await confirmations.claim(id, ctx.user.id, 'cancelled');
        if (claim.status === 'unknown') return message(UNKNOWN);
        if (claim.status === 'claimed') {
          await tell(ctx, claim.action, { kind: 'cancelled', by: ctx.user.id, at: confirmations.time() });
        } else if (claim.status === 'expired') {
          const pending = await confirmations.peek(id);
          if (pending) await tell(ctx, pending, { kind: 'expired', at: confirmations.time() });
        }
        return message(
          claim.status === 'claimed'
            ? `Cancelled by <@${ctx.user.id}>. Nothing was changed.`
            : 'This confirmation was already settled or has expired. Nothing was changed.',
        );
      },
    }),
  ];
}
