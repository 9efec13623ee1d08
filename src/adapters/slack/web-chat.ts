import type { webApi } from '@slack/bolt';
import type { Chat, ChatMessage } from '../../ports/chat.js';
import type { Directory } from '../../ports/directory.js';
import type { Metrics } from '../metrics.js';

type WebClient = InstanceType<typeof webApi.WebClient>;

/** The Chat and Directory ports over Slack's Web API (the client retries 429 and 5xx itself). */
export class SlackWebChat implements Chat, Directory {
  constructor(
    private readonly client: WebClient,
    private readonly metrics?: Metrics,
  ) {}

  async post(channel: string, message: ChatMessage) {
    const result = await this.call('chat.postMessage', () =>
      this.client.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks as never,
        thread_ts: message.threadTs,
      }),
    );
    return { channel: result.channel ?? channel, ts: result.ts ?? '' };
  }

  async update(channel: string, ts: string, message: ChatMessage) {
    await this.call('chat.update', () =>
      this.client.chat.update({ channel, ts, text: message.text, blocks: message.blocks as never }),
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
