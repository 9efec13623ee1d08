import type { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import {
  type SignedResponse,
  SignedSlackClient,
  type SignedSlackClientOptions,
  type SlashCommandOptions,
} from '../../src/emulators/slack/signed-client.js';
import { textOf } from './http.js';

/** How long a test waits for the bot's answer before failing with a clear message (a bound, not a wait). */
export const ANSWER_TIMEOUT_MS = 20_000;

/** The interim ack the bot sends when its work outruns the ack budget; the answer follows via response_url. */
const INTERIM_ACK = /Working on it/;

export function isInterimAck(body: unknown): boolean {
  return (
    typeof body === 'object' && body !== null && INTERIM_ACK.test(String((body as { text?: unknown }).text))
  );
}

/**
 * A signed Slack client whose slash commands resolve with the bot's final answer, whether it came
 * in the ack or, on a busy machine, through `response_url` after the interim ack. `ack` keeps
 * what the ack itself carried.
 */
export class TestSlackClient extends SignedSlackClient {
  constructor(
    options: SignedSlackClientOptions,
    private readonly slack: SlackEmulator,
  ) {
    super(options);
  }

  override async slashCommand(
    opts: SlashCommandOptions,
  ): Promise<SignedResponse & { responseUrl: string; ack: unknown }> {
    const sent = await super.slashCommand(opts);
    if (!isInterimAck(sent.body)) return { ...sent, ack: sent.body };
    const answer = await this.slack.waitForResponse((r) => r.url === sent.responseUrl, ANSWER_TIMEOUT_MS);
    return { ...sent, ack: sent.body, body: answer.body };
  }
}

/** The pending-action id behind the Confirm button of a confirmation reply. */
export function confirmId(body: unknown): string {
  const match = /"action_id":"switchyard\.confirm","value":"([^"]+)"/.exec(JSON.stringify(body));
  if (!match) throw new Error(`no confirm button in ${JSON.stringify(body)}`);
  return match[1]!;
}

/** Clicks Confirm on a confirmation reply as `userId`; resolves with the text of the bot's answer. */
export async function clickConfirm(
  slack: SlackEmulator,
  client: SignedSlackClient,
  body: unknown,
  userId: string,
): Promise<string> {
  const sent = await client.blockAction({
    actionId: 'switchyard.confirm',
    value: confirmId(body),
    userId,
    responseUrl: slack.createResponseUrl(),
  });
  return textOf(
    (await slack.waitForResponse((response) => response.url === sent.responseUrl, ANSWER_TIMEOUT_MS))
      .body as never,
  );
}
