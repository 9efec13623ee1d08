import { closest } from 'fastest-levenshtein';
import { inlineCode } from './blocks.js';
import type { Block, Reply } from './reply.js';
import { message } from './reply.js';
import type { CommandSpec, SubcommandSpec } from './spec.js';
import { parseCommandLine } from './tokenize.js';

/** Slack caps command text well below this; anything longer is not a command a person typed. */
export const MAX_COMMAND_TEXT = 4_000;

export type Parsed<A> = { ok: true; args: A } | { ok: false; reply: Reply };

/**
 * What a command line names: a reply of its own (help, an unknown subcommand, too long), or a
 * subcommand and a parser for its arguments. Parsing runs later, after the permission check, in
 * the interaction router; nothing here checks or runs anything.
 */
export type Resolved =
  | { kind: 'reply'; subcommand: string; outcome: 'ok' | 'usage'; reply: Reply }
  | { kind: 'subcommand'; spec: SubcommandSpec<never>; parse(): Parsed<never> };

export function resolveCommand(command: CommandSpec, text: string): Resolved {
  if (text.length > MAX_COMMAND_TEXT) {
    return {
      kind: 'reply',
      subcommand: 'invalid',
      outcome: 'usage',
      reply: message(
        `:warning: That command is ${text.length.toLocaleString('en')} characters long; the most I take is ${MAX_COMMAND_TEXT.toLocaleString('en')}. Nothing was changed. Shorten the reason and try again.`,
      ),
    };
  }
  const firstWord = parseCommandLine(text, []).words[0]?.toLowerCase();
  const bare = command.default
    ? command.subcommands.find((candidate) => candidate.name === command.default)
    : undefined;
  if (firstWord === undefined && bare) {
    return { kind: 'subcommand', spec: bare, parse: () => parseArgs(command, bare, `${bare.name} ${text}`) };
  }
  if (firstWord === undefined || firstWord === 'help') {
    return { kind: 'reply', subcommand: 'help', outcome: 'ok', reply: helpReply(command) };
  }
  const spec = command.subcommands.find((candidate) => candidate.name === firstWord);
  if (!spec) {
    const names = command.subcommands.map((candidate) => candidate.name);
    return {
      kind: 'reply',
      subcommand: 'unknown',
      outcome: 'usage',
      reply: message(
        `:warning: ${inlineCode(`${command.name} ${truncate(firstWord, 40)}`)} is not a command I know. Did you mean \`${command.name} ${closest(firstWord, names)}\`? Try \`${command.name} help\`.`,
      ),
    };
  }
  return { kind: 'subcommand', spec, parse: () => parseArgs(command, spec, text) };
}

function parseArgs(command: CommandSpec, spec: SubcommandSpec<never>, text: string): Parsed<never> {
  const line = parseCommandLine(text, spec.options ?? []);
  const { bound, extra } = bindParams(spec, line.words.slice(1), line.options);
  if (extra) {
    return {
      ok: false,
      reply: message(
        `:warning: I don't know what to do with ${inlineCode(truncate(extra, 60))}.\nUsage: ${inlineCode(`${command.name} ${spec.usage}`)}`,
      ),
    };
  }
  const parsed = spec.args.safeParse(bound);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const what = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return {
      ok: false,
      reply: message(
        `:warning: ${what}${issue.message}\nUsage: ${inlineCode(`${command.name} ${spec.usage}`)}`,
      ),
    };
  }
  return { ok: true, args: parsed.data };
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
      `• ${inlineCode(`${command.name} ${spec.usage}`)} — ${spec.summary}${spec.permission === 'anyone' ? '' : ` _(${spec.permission}s)_`}`,
  );
  const blocks: Block[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${command.name}* — ${command.summary}` } },
    { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
  ];
  return message(`${command.name}: ${command.summary}\n${lines.join('\n')}`, blocks);
}
