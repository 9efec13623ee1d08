import type { webApi } from '@slack/bolt';
import type { Logger } from '../../logger.js';
import type { RenderedMessage } from '../../messages/blocks.js';
import type { Directory } from '../../ports/directory.js';
import type { Metrics } from '../metrics.js';
import { sendWithFallback } from './refused-message.js';

type WebClient = InstanceType<typeof webApi.WebClient>;

/** A rendered message, optionally in a thread. */
export type OutgoingMessage = RenderedMessage & { threadTs?: string };

/**
 * Slack's Web API as the outbox uses it (the client neither retries nor waits out 429s: the outbox
 * does), and the Directory port. Nothing else calls chat.postMessage or chat.update. A message Slack
 * refuses as formatted is sent again as plain text.
 */
export class SlackWebChat implements Directory {
  constructor(
    private readonly client: WebClient,
    private readonly metrics: Metrics | undefined,
    private readonly log: Logger,
  ) {}

  async post(channel: string, message: OutgoingMessage) {
    const context = { log: this.log, method: 'chat.postMessage', channel };
    const result = await sendWithFallback(
      message,
      (sent) =>
        this.call('chat.postMessage', () =>
          this.client.chat.postMessage({
            channel,
            text: sent.text,
            ...(sent.blocks?.length ? { blocks: sent.blocks } : {}),
            ...(sent.threadTs ? { thread_ts: sent.threadTs } : {}),
          }),
        ),
      context,
    );
    return { channel: result.channel ?? channel, ts: result.ts ?? '' };
  }

  async update(channel: string, ts: string, message: RenderedMessage) {
    const context = { log: this.log, method: 'chat.update', channel };
    await sendWithFallback(
      message,
      (sent) =>
        this.call('chat.update', () =>
          this.client.chat.update({
            channel,
            ts,
            text: sent.text,
            ...(sent.blocks && { blocks: sent.blocks }),
          }),
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

  /** Every user group's handle by ID (`usergroups.list`; needs `usergroups:read`). */
  async usergroupHandles(): Promise<Map<string, string>> {
    const result = await this.call('usergroups.list', () => this.client.usergroups.list({}));
    const handles = new Map<string, string>();
    for (const group of result.usergroups ?? []) {
      if (group.id && group.handle) handles.set(group.id, group.handle);
    }
    return handles;
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
