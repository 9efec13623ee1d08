import type { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import type { SignedSlackClient } from '../../src/emulators/slack/signed-client.js';
import { textOf } from './http.js';

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
  return textOf((await slack.waitForResponse((response) => response.url === sent.responseUrl)).body as never);
}
