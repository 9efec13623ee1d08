import { readFile } from 'node:fs/promises';
import { blocksToText } from './cli-render.js';
import { SignedSlackClient } from './emulators/slack/signed-client.js';
import type { LocalSession } from './local-mode.js';
import { localSessionPath } from './local-mode.js';

/** The CLI's output is for a person at a terminal: plain text, not log lines. */
const say = {
  out: (text: string) => process.stdout.write(`${text}\n`),
  error: (text: string) => process.stderr.write(`${text}\n`),
};

const USAGE = `Usage (with the bot running locally: npm start):
  npm run cli -- "/flags list"              send a slash command as U0LOCAL
  npm run cli -- click <action_id> <value>  click a button from an earlier reply`;

interface Item {
  seq: number;
  body?: { text?: string; blocks?: unknown[] };
  text?: string;
  blocks?: unknown[];
  channel?: string;
  url?: string;
}

async function main(argv: string[]): Promise<number> {
  const stateDir = process.env.STATE_DIR ?? './data';
  const session = await readSession(stateDir);
  if (!session) {
    say.error(`No local bot found (${localSessionPath(stateDir)} is missing). Start one with: npm start`);
    return 2;
  }
  if (argv.length === 0 || argv[0] === '--help') {
    say.out(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const client = new SignedSlackClient({
    eventsUrl: `${session.botUrl}/slack/events`,
    signingSecret: session.signingSecret,
    emulator: { url: session.emulatorUrl },
  });
  const since = {
    messages: await cursor(session, 'messages'),
    responses: await cursor(session, 'responses'),
  };
  let result: { status: number; body: unknown; responseUrl?: string };
  if (argv[0] === 'click') {
    const [, actionId, value] = argv;
    if (!actionId) {
      say.error(USAGE);
      return 2;
    }
    result = await client.blockAction({ actionId, value, userId: session.user, channelId: session.channel });
  } else {
    const line = argv.join(' ').trim();
    const match = /^(\/[a-z-]+)\s*(.*)$/s.exec(line);
    if (!match) {
      say.error(`"${line}" is not a slash command.\n${USAGE}`);
      return 2;
    }
    result = await client.slashCommand({
      command: match[1]!,
      text: match[2]!,
      userId: session.user,
      channelId: session.channel,
    });
  }
  if (result.status !== 200) {
    say.error(`The bot answered HTTP ${result.status}: ${JSON.stringify(result.body)}`);
    return 1;
  }
  if (result.body && typeof result.body === 'object') print('reply (only you see this)', result.body as Item);
  // Replies after the ack and channel posts arrive asynchronously: give them a moment.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  // The bot acked with "Working on it…" (it outran its ack budget): its answer comes via response_url.
  if (result.responseUrl && /Working on it/.test(String((result.body as Item | undefined)?.text ?? ''))) {
    await untilResponse(session, since.responses, result.responseUrl);
  }
  for (const item of await fetchItems(session, 'responses', since.responses)) {
    if (!result.responseUrl || item.url === result.responseUrl) print('reply', item.body ?? item);
  }
  for (const item of await fetchItems(session, 'messages', since.messages)) {
    print(`posted in ${item.channel ?? 'the channel'}`, item);
  }
  return 0;
}

/** Polls the emulator for the response_url post of this command (at most a minute). */
async function untilResponse(session: LocalSession, since: number, responseUrl: string): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 250) {
    const items = await fetchItems(session, 'responses', since);
    if (items.some((item) => item.url === responseUrl)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function print(title: string, message: { text?: string; blocks?: unknown[] }): void {
  say.out(`--- ${title} ---\n${blocksToText(message)}\n`);
}

async function readSession(stateDir: string): Promise<LocalSession | undefined> {
  try {
    return JSON.parse(await readFile(localSessionPath(stateDir), 'utf8')) as LocalSession;
  } catch {
    return undefined;
  }
}

async function fetchItems(
  session: LocalSession,
  kind: 'messages' | 'responses',
  since: number,
): Promise<Item[]> {
  const response = await fetch(`${session.emulatorUrl}/_emulator/${kind}?since=${since}`);
  return ((await response.json()) as { items: Item[] }).items;
}

async function cursor(session: LocalSession, kind: 'messages' | 'responses'): Promise<number> {
  const response = await fetch(`${session.emulatorUrl}/_emulator/${kind}?since=0`);
  return ((await response.json()) as { next: number }).next;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    say.error(`cli failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
