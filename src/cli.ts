import { readFile } from 'node:fs/promises';
import { blocksToText } from './cli-render.js';
import { type LocalSession, localPointerPath, localSessionPath } from './local-session.js';
import type { Exchange, SandboxMessage, SandboxState } from './sandbox/protocol.js';

/** The CLI's output is for a person at a terminal: plain text, not log lines. */
const say = {
  out: (text: string) => process.stdout.write(`${text}\n`),
  error: (text: string) => process.stderr.write(`${text}\n`),
};

const USAGE = `Usage (with the bot running locally: npm start):
  npm run cli -- "/flags list" [--as <person>]            a slash command (default: local-operator)
  npm run cli -- click <action_id> [value] [--as <person>]  click a button from an earlier reply
  npm run cli -- react <message-ts> <emoji> [--as <person>] [--remove]
                                                          react to a message (✅ approves a phase advance)
  npm run cli -- alert fire|resolve <alert> [--severity critical|warning|info]
                                                          as Alertmanager would send it
  npm run cli -- prometheus healthy|unhealthy             the demo Prometheus the phase gates ask
  npm run cli -- watch                                    follow the channel, threads and DMs live
  npm run cli -- people                                   who you can be with --as`;

interface Options {
  as?: string;
  severity?: string;
  remove: boolean;
  words: string[];
}

function parseArgs(argv: string[]): Options | string {
  const options: Options = { remove: false, words: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--as' || arg === '--severity') {
      const value = argv[++i];
      if (!value) return `${arg} needs a value.`;
      if (arg === '--as') options.as = value;
      else options.severity = value;
    } else if (arg === '--remove') options.remove = true;
    else options.words.push(arg);
  }
  return options;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    say.out(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const options = parseArgs(argv);
  if (typeof options === 'string') {
    say.error(`${options}\n${USAGE}`);
    return 2;
  }
  const found = await findSession();
  if ('error' in found) {
    say.error(found.error);
    return 2;
  }
  const { session } = found;
  const user = options.as ?? session.user;
  const [verb, ...rest] = options.words;
  const api = (path: string, body: unknown) => post(session, path, body);
  switch (verb) {
    case 'click': {
      const [actionId, value] = rest;
      if (!actionId) return usage('click needs an action_id.');
      return report(await api('action', { user, actionId, ...(value === undefined ? {} : { value }) }));
    }
    case 'react': {
      const [ts, name] = rest;
      if (!ts || !name)
        return usage(
          'react needs a message ts and an emoji name, e.g. react 1712345678.000100 white_check_mark',
        );
      const messageId = ts.includes(':') ? ts : `${session.channel}:${ts}`;
      return report(await api('reaction', { user, messageId, name, added: !options.remove }));
    }
    case 'alert': {
      const [action, ...name] = rest;
      if ((action !== 'fire' && action !== 'resolve') || name.length === 0)
        return usage('alert needs fire or resolve and an alert name, e.g. alert fire MessagingSystemDown');
      return report(
        await api('alert', {
          name: name.join(' '),
          status: action === 'fire' ? 'firing' : 'resolved',
          ...(options.severity ? { severity: options.severity } : {}),
        }),
      );
    }
    case 'prometheus': {
      const [health] = rest;
      if (health !== 'healthy' && health !== 'unhealthy')
        return usage('prometheus needs healthy or unhealthy.');
      const answer = await api('prometheus', { healthy: health === 'healthy' });
      if (answer.ok) say.out(`The demo Prometheus now answers the gate queries as ${health}.`);
      return report(answer);
    }
    case 'people': {
      const state = (await (await fetch(`${session.botUrl}/sandbox/api/state`)).json()) as SandboxState;
      for (const person of state.people)
        say.out(`${person.name.padEnd(16)} ${person.id.padEnd(12)} ${person.role}`);
      return 0;
    }
    case 'watch':
      return watch(session);
    default: {
      const line = options.words.join(' ').trim();
      if (!line.startsWith('/')) return usage(`"${line}" is not a slash command or a CLI command.`);
      return report(await api('command', { user, text: line }));
    }
  }
}

function usage(problem: string): number {
  say.error(`${problem}\n${USAGE}`);
  return 2;
}

/** What the person saw: their ephemeral replies, then what changed in Slack, in order. */
function report(answer: Exchange): number {
  if (!answer.ok) {
    say.error(answer.error ?? 'The bot refused.');
    return 1;
  }
  for (const reply of answer.replies) print('reply (only you see this)', reply);
  for (const post of answer.posts) print(describe(post), post);
  return 0;
}

function describe(message: SandboxMessage): string {
  if (message.ephemeralTo) return `reply to @${message.ephemeralTo} (only they see it)`;
  const where = /^[DG]/.test(message.channel) ? `DM ${message.channel}` : message.channel;
  if (message.thread_ts) return `in the thread of ${message.thread_ts} in ${where} (ts ${message.ts})`;
  return `${message.edited ? 'updated' : 'posted'} in ${where} (ts ${message.ts})`;
}

function print(title: string, message: SandboxMessage): void {
  const reactions = (message.reactions ?? []).map((r) => `:${r.name}: ${r.count}`).join('  ');
  say.out(`--- ${title} ---\n${blocksToText(message)}${reactions ? `\n  ${reactions}` : ''}\n`);
}

async function post(session: LocalSession, path: string, body: unknown): Promise<Exchange> {
  const response = await fetch(`${session.botUrl}/sandbox/api/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Exchange;
  return { ...answer, replies: answer.replies ?? [], posts: answer.posts ?? [] };
}

/** Follows the sandbox's event stream and prints each message when it appears or changes. */
async function watch(session: LocalSession): Promise<number> {
  const response = await fetch(`${session.botUrl}/sandbox/events`);
  if (!response.ok || !response.body) {
    say.error(`The bot answered HTTP ${response.status} for its event stream.`);
    return 1;
  }
  say.out(`Watching ${session.channel}, its threads and the bot's DMs (Ctrl-C to stop)…`);
  const seen = new Map<string, number>();
  let first = true;
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      if (!data) continue;
      const state = JSON.parse(data) as SandboxState;
      for (const message of state.messages) {
        if (message.ephemeralTo !== undefined && message.ephemeralTo !== session.user) continue;
        const before = seen.get(message.id);
        seen.set(message.id, message.seq);
        if (before === message.seq || first) continue;
        print(before === undefined ? describe(message) : `changed: ${describe(message)}`, message);
      }
      if (first) say.out(`(${state.messages.length} messages so far; showing what changes from now on)`);
      first = false;
    }
  }
  return 0;
}

/** The session of a running local bot: STATE_DIR's, else ./data's, else the last one started here. */
async function findSession(): Promise<{ session: LocalSession } | { error: string }> {
  const explicit = process.env.STATE_DIR;
  if (explicit) {
    const path = localSessionPath(explicit);
    const session = await readJson<LocalSession>(path);
    if (!session)
      return {
        error: `No local bot found: ${path} is missing. Start one with: STATE_DIR=${explicit} npm start`,
      };
    if (!(await alive(session))) {
      return {
        error: `The local bot of STATE_DIR=${explicit} (${session.botUrl}) does not answer. Start it with: STATE_DIR=${explicit} npm start`,
      };
    }
    return { session };
  }
  const pointer = await readJson<{ session: string }>(localPointerPath());
  const candidates = [localSessionPath('./data'), ...(pointer ? [pointer.session] : [])];
  for (const path of candidates) {
    const session = await readJson<LocalSession>(path);
    if (session && (await alive(session))) return { session };
  }
  return {
    error:
      'No local bot is running from this directory. Start one with: npm start\n' +
      'If one runs with another state directory, export it for the CLI too: STATE_DIR=<that directory> npm run cli -- …',
  };
}

async function alive(session: LocalSession): Promise<boolean> {
  try {
    return (await fetch(`${session.botUrl}/healthz`)).ok;
  } catch {
    return false;
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

main(process.argv.slice(2)).then(
  // Exit now rather than when fetch's idle keep-alive sockets close (stdout to a pipe is synchronous).
  (code) => process.exit(code),
  (error: unknown) => {
    say.error(`cli failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
