import type { KnownBlock } from '@slack/types';
/** A Block Kit block, as plain data: commands describe messages, the Slack adapter sends them. */
/** A Block Kit block, checked against Slack's own types. */
export type Block = KnownBlock;

export interface MessageReply {
  kind: 'message';
  text: string;
  blocks?: Block[];
  /** Ephemeral by default: only the person who asked sees it. */
  visibility?: 'ephemeral' | 'in_channel';
}

/** The action is described and waits for an operator's click before it runs. */
export interface ConfirmReply<A = unknown> {
  kind: 'confirm';
  /** One line: what will happen. */
  title: string;
  /** Exactly what will change, one item a line. */
  details: string[];
  confirmLabel: string;
  /** The arguments the confirmed handler receives. */
  args: A;
  /** Extra blocks shown between the details and the buttons. */
  blocks?: Block[];
  /** The subcommand whose `confirmed` handler runs on Confirm (set when a button borrows one). */
  origin?: { command: string; subcommand: string };
  /**
   * Who hears how the confirmation ends (executed, failed, cancelled, expired): recorded on the
   * confirmation; see `ConfirmationOpener` and `Confirmations.onSettled`. A runbook step sets it.
   */
  opener?: { kind: string; ref: string };
}

export type Reply = MessageReply | ConfirmReply;

export function message(
  text: string,
  blocks?: Block[],
  visibility?: 'ephemeral' | 'in_channel',
): MessageReply {
  return { kind: 'message', text, blocks, visibility };
}

export function confirm<A>(reply: Omit<ConfirmReply<A>, 'kind'>): ConfirmReply<A> {
  return { kind: 'confirm', ...reply };
}

/** A mistake the user can fix: shown to them as is. Anything else is logged and quoted by reference. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
