import type { webApi } from '@slack/bolt';
import type { RenderedMessage } from '../../messages/blocks.js';
import type { Directory } from '../../ports/directory.js';
import type { Metrics } from '../metrics.js';

type WebClient = InstanceType<typeof webApi.WebClient>;

/** A rendered message, optionally in a thread. */
export type OutgoingMessage = RenderedMessage & { threadTs?: string };

/**
 * Slack's Web API as the outbox uses it (the client neither retries nor waits out 429s: the outbox
 * does), and the Directory port. Nothing else calls chat.postMessage or chat.update.
 */
export class SlackWebChat implements Directory {
  constructor(
    private readonly client: WebClient,
    private readonly metrics?: Metrics,
  ) {}

  async post(channel: string, message: OutgoingMessage) {
    const result = await this.call('chat.postMessage', () =>
      this.client.chat.postMessage({
        channel,
        text: message.text,
        ...(message.blocks && { blocks: message.blocks }),
        ...(message.threadTs && { thread_ts: message.threadTs }),
      }),
    );
    return { channel: result.channel ?? channel, ts: result.ts ?? '' };
  }

  async update(channel: string, ts: string, message: RenderedMessage) {
    await this.call('chat.update', () =>
      this.client.chat.update({
        channel,
        ts,
        text: message.text,
        ...(message.blocks && { blocks: message.blocks }),
      }),
    );
  }

  async ping() {
    await this.call('auth.test', () => this.client.auth.test());
  }

  async usergroupMembers(groupId: string): Promise<string[]> {
    const result = await this.call('usergroups.users.list', () =>
      this.client.usergroups.users.list({ usergroup: groupId }),
    );
    return result.users ?? [];
  }

  private async call<T>(method: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      const code =
        (error as { data?: { error?: string }; code?: string }).data?.error ??
        (error as { code?: string }).code;
      this.metrics?.slackApiErrors.inc({ method, error: code ?? 'unknown' });
      throw error;
    }
  }
}
