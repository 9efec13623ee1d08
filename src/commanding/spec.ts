import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { Permission } from '../services/access.js';
import type { Services } from '../services/services.js';
import type { ConfirmReply, Reply } from './reply.js';

export type { Permission };

export interface CommandContext {
  user: { id: string; name?: string };
  channelId?: string;
  correlationId: string;
  services: Services;
  log: Logger;
}

export interface SubcommandSpec<A = unknown> {
  name: string;
  /** Shown in help, e.g. `enable <flag> [reason]`. */
  usage: string;
  summary: string;
  permission: Permission;
  /** Names for the positional words, in order; a last name starting with `...` takes the rest. */
  params?: readonly string[];
  /** `--name value` options this subcommand takes. */
  options?: readonly string[];
  args: z.ZodType<A>;
  run(ctx: CommandContext, args: A): Promise<Reply | ConfirmReply<A>>;
  /** Runs when an operator confirms a `confirm` reply of this subcommand. */
  confirmed?(ctx: CommandContext, args: A): Promise<Reply>;
}

export interface CommandSpec {
  /** The slash command, e.g. `/flags`. */
  name: string;
  summary: string;
  /** The subcommand a bare command runs (e.g. `/oncall`); without it, a bare command prints usage. */
  default?: string;
  subcommands: readonly SubcommandSpec<never>[];
}

/** Keeps the argument type of one subcommand tied to its handler. */
export function subcommand<A>(spec: SubcommandSpec<A>): SubcommandSpec<never> {
  return spec as unknown as SubcommandSpec<never>;
}
