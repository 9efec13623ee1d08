import { actions, button, context, section } from '../../commanding/blocks.js';
import type { Block, ConfirmReply, MessageReply } from '../../commanding/reply.js';

export const CONFIRM_ACTION = 'switchyard.confirm';
export const CANCEL_ACTION = 'switchyard.cancel';

export interface SlackMessage {
  text: string;
  blocks?: Block[];
  response_type: 'ephemeral' | 'in_channel';
}

export function renderMessage(reply: MessageReply): SlackMessage {
  return {
    text: reply.text,
    ...(reply.blocks ? { blocks: reply.blocks } : {}),
    response_type: reply.visibility ?? 'ephemeral',
  };
}

/** The confirmation: what will change, then Confirm / Cancel buttons bound to the pending action. */
export function renderConfirmation(
  reply: ConfirmReply,
  pendingId: string,
  requestedBy: string,
): SlackMessage {
  const details = reply.details.map((line) => `• ${line}`).join('\n');
  return {
    text: `${reply.title}\n${reply.details.join('\n')}`,
    response_type: 'ephemeral',
    blocks: [
      section(`:warning: *${reply.title}*`),
      section(details),
      ...(reply.blocks ?? []),
      context(`Requested by <@${requestedBy}>. Only an operator can confirm; it expires in 15 minutes.`),
      actions('switchyard-confirmation', [
        button({ text: reply.confirmLabel, actionId: CONFIRM_ACTION, value: pendingId, style: 'danger' }),
        button({ text: 'Cancel', actionId: CANCEL_ACTION, value: pendingId }),
      ]),
    ],
  };
}
