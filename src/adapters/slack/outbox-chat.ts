import { randomUUID } from 'node:crypto';
import type { Chat, ChatMessage, FileShare, Notice } from '../../ports/chat.js';
import type { Outbox } from './outbox.js';
import type { OutboxJob } from './outbox-journal.js';

/** What the outbox carries: every post and update the bot makes in Slack. */
export type SlackJob =
  /** An alert group's message, rendered from the group's state when the job runs. */
  | { kind: 'group-message'; groupId: string }
  /** A note in an alert group's thread (mrkdwn from the messages layer). */
  | { kind: 'thread'; groupId: string; text: string }
  | { kind: 'dm'; user: string; text: string }
  /** An escalation page by DM, rendered when sent (link to the alert, Acknowledge button). */
  | { kind: 'page'; user: string; groupId: string; tier: { tierIndex: number; name: string } }
  /** Bot text for a channel (journals written before notices existed hold these). */
  | { kind: 'post'; channel: string; text: string }
  | { kind: 'notice'; channel: string; notice: Notice; threadTs?: string }
  | { kind: 'notice-update'; channel: string; ts: string; notice: Notice }
  /** A user's App Home (views.publish), rendered from the current state when the job runs. */
  | HomeJob
  /** A file shared in a channel (files.uploadV2's three steps), rendered when the job runs. */
  | { kind: 'file'; channel: string; file: FileShare };

export type HomeJob = { kind: 'home'; user: string };

/**
 * Who goes first when several conversations have something ready (within one conversation the
 * order is always kept). A new sev1 must not wait behind thousands of refreshes after a restart.
 */
export const PRIORITY = {
  /** New alert messages (the on-call ping is in them), escalation pings, the kill switch. */
  urgent: 3,
  /** Everything else the bot says: announcements, thread notes, DMs, use-case messages. */
  post: 2,
  /** Updates of messages already posted, after a change. */
  update: 1,
  /** Refreshes of old messages after a restart. */
  refresh: 0,
} as const;

/** Notices that cannot wait behind ordinary posts. */
function priorityOf(notice: Notice): number {
  return notice.kind === 'flags-changed' && notice.action === 'disable-all' ? PRIORITY.urgent : PRIORITY.post;
}

/** A conversation: the channel's top level, or one thread (its parent's updates included). */
export const conversationKey = (channel: string, threadTs?: string) =>
  threadTs ? `thread:${channel}:${threadTs}` : `channel:${channel}`;

/**
 * The Chat port over the durable outbox: every use-case's post and update is journalled first, then
 * sent with the outbox's retries (429 Retry-After, 5xx backoff), in order per conversation. Both
 * resolve once Slack has the message (`post` with its `ts`, for a thread parent), and reject when
 * Slack refuses it for good (say, channel_not_found); a crash in between loses only the answer.
 */
export class OutboxChat implements Chat {
  constructor(
    private readonly outbox: Pick<Outbox<SlackJob>, 'deliver'>,
    private readonly reachable: () => Promise<void>,
  ) {}

  post(channel: string, message: ChatMessage): Promise<{ channel: string; ts: string }> {
    const { threadTs, ...notice } = message;
    return this.outbox.deliver({
      id: randomUUID(),
      key: conversationKey(channel, threadTs),
      priority: priorityOf(notice as Notice),
      payload: { kind: 'notice', channel, notice: notice as Notice, ...(threadTs && { threadTs }) },
    });
  }

  async update(channel: string, ts: string, message: ChatMessage): Promise<void> {
    const { threadTs, ...notice } = message;
    const job: OutboxJob<SlackJob> = {
      id: randomUUID(),
      key: conversationKey(channel, threadTs ?? ts),
      priority: PRIORITY.update,
      payload: { kind: 'notice-update', channel, ts, notice: notice as Notice },
    };
    await this.outbox.deliver(job);
  }

  upload(channel: string, file: FileShare): Promise<{ channel: string; fileId: string }> {
    return this.outbox.deliver({
      id: randomUUID(),
      key: conversationKey(channel),
      priority: PRIORITY.post,
      payload: { kind: 'file', channel, file },
    });
  }

  ping(): Promise<void> {
    return this.reachable();
  }
}
