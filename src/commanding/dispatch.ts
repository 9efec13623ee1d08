import { randomUUID } from 'node:crypto';
import { closest } from 'fastest-levenshtein';
import type { Block, Reply } from './reply.js';
import { message, UserError } from './reply.js';
import type { CommandContext, CommandSpec, Permission, SubcommandSpec } from './spec.js';
import { parseCommandLine } from './tokenize.js';

export type Outcome = 'ok' | 'usage' | 'denied' | 'error' | 'confirm';

export interface Dispatched {
  subcommand: string;
  outcome: Outcome;
  reply: Reply;
  /** For a confirm reply: the subcommand whose `confirmed` handler runs on the click. */
  spec?: SubcommandSpec<never>;
}

/** Slack caps command text well below this; anything longer is not a command a person typed. */
export const MAX_COMMAND_TEXT = 4_000;

export async function dispatch(command: CommandSpec, text: string, ctx: CommandContext): Promise<Dispatched> {
  if (text.length > MAX_COMMAND_TEXT) {
    return {
      subcommand: 'invalid',
      outcome: 'usage',
      reply: message(
        `:warning: That command is ${text.length.toLocaleString('en')} characters long; the most I take is ${MAX_COMMAND_TEXT.toLocaleString('en')}. Nothing was changed. Shorten the reason and try again.`,
      ),
    };
  }
  const firstWord = parseCommandLine(text, []).words[0]?.toLowerCase();
  if (firstWord === undefined || firstWord === 'help') {
    return { subcommand: 'help', outcome: 'ok', reply: helpReply(command) };
  }
  const spec = command.subcommands.find((candidate) => candidate.name === firstWord);
  if (!spec) {
    const names = command.subcommands.map((candidate) => candidate.name);
    return {
      subcommand: 'unknown',
      outcome: 'usage',
      reply: message(
        `:warning: \`${command.name} ${truncate(firstWord, 40)}\` is not a command I know. Did you mean \`${command.name} ${closest(firstWord, names)}\`? Try \`${command.name} help\`.`,
      ),
    };
  }
  return runSubcommand(command, spec, text, ctx);
}

async function runSubcommand(
  command: CommandSpec,
  spec: SubcommandSpec<never>,
  text: string,
  ctx: CommandContext,
): Promise<Dispatched> {
  const base = { subcommand: spec.name, spec };
  const line = parseCommandLine(text, spec.options ?? []);
  const { bound, extra } = bindParams(spec, line.words.slice(1), line.options);
  if (extra) {
    return {
      ...base,
      outcome: 'usage',
      reply: message(
        `:warning: I don't know what to do with \`${truncate(extra, 60)}\`.\nUsage: \`${command.name} ${spec.usage}\``,
      ),
    };
  }
  const parsed = spec.args.safeParse(bound);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const what = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return {
      ...base,
      outcome: 'usage',
      reply: message(`:warning: ${what}${issue.message}\nUsage: \`${command.name} ${spec.usage}\``),
    };
  }
  const denial = await checkPermission(ctx, spec.permission);
  if (denial) return { ...base, outcome: 'denied', reply: message(denial) };
  try {
    const reply = await spec.run(ctx, parsed.data);
    return { ...base, outcome: reply.kind === 'confirm' ? 'confirm' : 'ok', reply };
  } catch (error) {
    return { ...base, ...failureReply(error, ctx) };
  }
}

/** Runs the confirmed half of a dangerous action, after the same permission check as the command. */
export async function runConfirmed(spec: SubcommandSpec<never>, args: unknown, ctx: CommandContext) {
  const denial = await checkPermission(ctx, spec.permission);
  if (denial) return { outcome: 'denied' as Outcome, reply: message(denial) };
  if (!spec.confirmed)
    return { outcome: 'error' as Outcome, reply: message(':warning: Nothing to confirm.') };
  try {
    return { outcome: 'ok' as Outcome, reply: await spec.confirmed(ctx, args as never) };
  } catch (error) {
    return failureReply(error, ctx);
  }
}

export async function checkPermission(
  ctx: CommandContext,
  permission: Permission,
): Promise<string | undefined> {
  if (permission === 'anyone') return undefined;
  const decision = await ctx.services.access.check(ctx.user.id, permission);
  return decision.allowed ? undefined : `:no_entry: ${decision.reason} Nothing was changed.`;
}

function failureReply(error: unknown, ctx: CommandContext): { outcome: Outcome; reply: Reply } {
  if (error instanceof UserError) {
    const hint = error.hint ? `\n${error.hint}` : '';
    return { outcome: 'usage', reply: message(`:warning: ${error.message}${hint}`) };
  }
  const reference = randomUUID().slice(0, 8);
  ctx.log.error({ err: error, reference }, 'command failed');
  return {
    outcome: 'error',
    reply: message(
      `:x: Something went wrong on my side (reference \`${reference}\`, correlation \`${ctx.correlationId}\`). It may not have completed: check \`/flags list\` or the channel before retrying.`,
    ),
  };
}

function bindParams(spec: SubcommandSpec<never>, words: string[], options: Record<string, string>) {
  const bound: Record<string, string | undefined> = {};
  const params = spec.params ?? [];
  params.forEach((param, index) => {
    if (param.startsWith('...')) {
      const rest = words.slice(index).join(' ').trim();
      bound[param.slice(3)] = rest === '' ? undefined : rest;
    } else {
      bound[param] = words[index];
    }
  });
  const restParam = params.some((param) => param.startsWith('...'));
  const extra = !restParam && words.length > params.length ? words.slice(params.length).join(' ') : undefined;
  for (const [name, value] of Object.entries(options)) bound[camel(name)] = value;
  return { bound, extra };
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function helpReply(command: CommandSpec): Reply {
  const lines = command.subcommands.map(
    (spec) =>
      `• \`${command.name} ${spec.usage}\` — ${spec.summary}${spec.permission === 'anyone' ? '' : ` _(${spec.permission}s)_`}`,
  );
  const blocks: Block[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${command.name}* — ${command.summary}` } },
    { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
  ];
  return message(`${command.name}: ${command.summary}\n${lines.join('\n')}`, blocks);
}
