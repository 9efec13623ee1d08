import type { webApi } from '@slack/bolt';
import type { Logger } from '../../logger.js';
import type { Chat, ChatMessage } from '../../ports/chat.js';
import type { Directory } from '../../ports/directory.js';
import type { Metrics } from '../metrics.js';
import { sendWithFallback } from './refused-message.js';

type WebClient = InstanceType<typeof webApi.WebClient>;

/** The Chat and Directory ports over Slack's Web API (the client retries 429 and 5xx itself). */
export class SlackWebChat implements Chat, Directory {
  constructor(
    private readonly client: WebClient,
    private readonly metrics: Metrics | undefined,
    private readonly log: Logger,
  ) {}

  async post(channel: string, message: ChatMessage) {
    const context = { log: this.log, method: 'chat.postMessage', channel };
    const result = await sendWithFallback(
      message,
      (sent) =>
        this.call('chat.postMessage', () =>
          this.client.chat.postMessage({
            channel,
            text: sent.text,
            blocks: sent.blocks?.length ? (sent.blocks as never) : undefined,
            thread_ts: sent.threadTs,
          }),
        ),
      context,
    );
    return { channel: result.channel ?? channel, ts: result.ts ?? '' };
  }

  async update(channel: string, ts: string, message: ChatMessage) {
    const context = { log: this.log, method: 'chat.update', channel };
    await sendWithFallback(
      message,
      (sent) =>
        this.call('chat.update', () =>
          this.client.chat.update({ channel, ts, text: sent.text, blocks: sent.blocks as never }),
        ),
      context,
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
