import { z } from 'zod';
import type { Reply } from '../commanding/reply.js';
import type { CommandContext, Permission } from '../commanding/spec.js';

/** What a Slack interaction carries for its handler, whatever its kind. */
export interface InteractionInput {
  /** A button's `value` or a menu's selected option value. */
  value?: string;
  /** A reaction's message and whether it was added or removed. */
  item?: { channel: string; ts: string };
  added?: boolean;
  /** A checkboxes element: the values of every option selected after the click, and its block. */
  selected?: string[];
  blockId?: string;
}

/**
 * What a handler says happened. `Followed` is a reply and a second step that runs only once the
 * first reply is ready to send (a runbook step waits for its confirmation only once that is recorded).
 */
export type Answer = Reply | undefined | Followed;

export interface Followed {
  kind: 'followed';
  first: Reply;
  next(): Promise<Reply | undefined>;
}

/**
 * Who may do it: a fixed permission, or one that depends on what the click names (a
 * confirmation's own subcommand; Cancel by the requester).
 */
export type PermissionRule =
  | Permission
  | ((input: InteractionInput, ctx: CommandContext) => Promise<Permission>);

/** A button, menu, reaction or event, declared once: the router applies everything else. */
export interface InteractionSpec<A = unknown> {
  kind: 'action' | 'reaction' | 'event';
  /** The `action_id`, the reaction's name (e.g. `white_check_mark`) or the event type. */
  id: string;
  /** Metrics and log labels, e.g. `alert` / `acknowledge`. */
  group: string;
  name: string;
  permission: PermissionRule;
  /** Appended to a refusal, e.g. that the confirmation stays open. */
  deniedNote?: string;
  /** Replace the message the click came from (a confirmation, once settled or refused to run). */
  replaceOriginal?: boolean;
  /** `asks`: the handler may answer with a confirmation (Confirm / Cancel buttons) instead of acting. */
  confirm: 'never' | 'asks';
  /** Parses the input (never command text) into the handler's arguments. */
  args: z.ZodType<A, InteractionInput>;
  run(ctx: CommandContext, args: A): Promise<Answer>;
}

/** Keeps the argument type of one interaction tied to its handler. */
export function interaction<A>(spec: InteractionSpec<A>): InteractionSpec {
  return spec as unknown as InteractionSpec;
}

/** A button or option value, parsed by `schema` (e.g. `"<group id>:<duration>"` into its parts). */
export function buttonValue<A>(schema: z.ZodType<A, string>): z.ZodType<A, InteractionInput> {
  return z
    .object({ value: z.string({ error: 'this button carries no value' }).max(2_000) })
    .transform((input) => input.value)
    .pipe(schema) as unknown as z.ZodType<A, InteractionInput>;
}

/** A value `<left>:<right>`, split at the last colon (ids carry none after it), then parsed by `schema`. */
export function pairValue<A>(
  schema: z.ZodType<A, { left: string; right: string }>,
): z.ZodType<A, InteractionInput> {
  return buttonValue(
    z
      .string()
      .transform((value) => {
        const separator = value.lastIndexOf(':');
        return separator < 0
          ? { left: '', right: value }
          : { left: value.slice(0, separator), right: value.slice(separator + 1) };
      })
      .pipe(schema),
  );
}
