import { type Reply, UserError } from '../commanding/reply.js';
import type { CommandContext, CommandSpec, Permission } from '../commanding/spec.js';

/** A subcommand a button stands for, run with structured arguments (never command text). */
export interface Borrowed {
  permission: Permission;
  run(ctx: CommandContext, args: unknown): Promise<Reply>;
}

/**
 * The subcommand `command sub`, for a button that does what typing it does (the alert's Kill
 * switch opens the same `/flags disable-all` confirmation). Its arguments go through its own zod
 * schema; a confirmation it asks for is bound to it, so Confirm runs its `confirmed` handler.
 */
export function borrow(commands: readonly CommandSpec[], command: string, sub: string): Borrowed | undefined {
  const spec = commands
    .find((candidate) => candidate.name === command)
    ?.subcommands.find((s) => s.name === sub);
  if (!spec) return undefined;
  return {
    permission: spec.permission,
    async run(ctx, args) {
      const parsed = spec.args.safeParse(args);
      if (!parsed.success) throw new UserError(parsed.error.issues[0]?.message ?? 'invalid arguments');
      const reply = await spec.run(ctx, parsed.data);
      return reply.kind === 'confirm' ? { ...reply, origin: { command, subcommand: sub } } : reply;
    },
  };
}

/** Fails at start-up, not on a click, when a button names a subcommand that does not exist. */
export function mustBorrow(commands: readonly CommandSpec[], command: string, sub: string): Borrowed {
  const found = borrow(commands, command, sub);
  if (!found) throw new Error(`no subcommand ${command} ${sub}`);
  return found;
}
