import type { webApi } from '@slack/bolt';
import type { Logger } from '../../logger.js';
import type { RenderedMessage } from '../../messages/blocks.js';
import type { RenderedFile } from '../../messages/files.js';
import type { HomeView } from '../../messages/home.js';
import type { Directory } from '../../ports/directory.js';
import type { Metrics } from '../metrics.js';
import { failpoint } from '../storage/failpoint.js';
import type { LeaseTerm } from './not-leader.js';
import { sendWithFallback } from './refused-message.js';

type WebClient = InstanceType<typeof webApi.WebClient>;

/** A rendered message, optionally in a thread. */
export type OutgoingMessage = RenderedMessage & { threadTs?: string };

/** The metadata event type every top-level post of the bot carries, with its own id for the post. */
export const POST_EVENT_TYPE = 'switchyard_post';

/** How far back a replayed post is looked for: Slack's history, newest first, one page. */
const ADOPTION_PAGE = 200;

/**
 * Slack's Web API as the outbox uses it (the client neither retries nor waits out 429s: the outbox
 * does), and the Directory port. Nothing else calls chat.postMessage or chat.update. A message Slack
 * refuses as formatted is sent again as plain text.
 */
export class SlackWebChat implements Directory {
  /** `#name` → id, from post results and `conversations.list`. */
  private readonly channelIds = new Map<string, string>();

  constructor(
    private readonly client: WebClient,
    private readonly metrics: Metrics | undefined,
    private readonly log: Logger,
  ) {}

  /**
   * Posts a message. `postId` (top-level posts) goes into the message's metadata, so that a post whose
   * outcome was lost in a crash can be found again by `findPosted` instead of being posted twice. With
   * several replicas, `term` (the Lease holder and its transitions) goes there too: which leader posted.
   */
  async post(channel: string, message: OutgoingMessage, postId?: string, term?: LeaseTerm) {
    const context = { log: this.log, method: 'chat.postMessage', channel };
    const metadata =
      postId && !message.threadTs
        ? {
            event_type: POST_EVENT_TYPE,
            event_payload: {
              post_id: postId,
              ...(term && { holder: term.holder, transitions: term.transitions }),
            },
          }
        : undefined;
    const result = await sendWithFallback(
      message,
      (sent) =>
        this.call('chat.postMessage', () =>
          this.client.chat.postMessage({
            channel,
            text: sent.text,
            ...(sent.blocks?.length ? { blocks: sent.blocks } : {}),
            ...(sent.threadTs ? { thread_ts: sent.threadTs } : {}),
            ...(metadata && { metadata }),
          }),
        ),
      context,
    );
    failpoint('after-slack-post');
    if (result.channel && !/^[CGDUW][A-Z0-9]+$/.test(channel))
      this.channelIds.set(channel.replace(/^#/, ''), result.channel);
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

  /**
   * The top-level message this bot posted with `postId` in its metadata, among the channel's most
   * recent messages; undefined when there is none (it was never posted). A user id means the DM.
   */
  async findPosted(channel: string, postId: string): Promise<{ channel: string; ts: string } | undefined> {
    const conversation = await this.conversationId(channel);
    if (!conversation) return undefined;
    const history = await this.call('conversations.history', () =>
      this.client.conversations.history({
        channel: conversation,
        include_all_metadata: true,
        limit: ADOPTION_PAGE,
      }),
    );
    const found = history.messages?.find(
      (message) =>
        message.metadata?.event_type === POST_EVENT_TYPE &&
        (message.metadata.event_payload as { post_id?: unknown } | undefined)?.post_id === postId,
    );
    return found?.ts ? { channel: conversation, ts: found.ts } : undefined;
  }

  /**
   * Shares a file in a channel the way `files.uploadV2` does: `files.getUploadURLExternal` (name and
   * size), a POST of the bytes to the one-use `upload_url`, then `files.completeUploadExternal` with the
   * channel's id and the introducing comment. Errors are shaped like the client's, so the outbox retries
   * a 5xx or a network failure of the upload and drops what Slack refuses.
   */
  async uploadFile(channel: string, file: RenderedFile): Promise<{ channel: string; fileId: string }> {
    const channelId = await this.conversationId(channel);
    if (!channelId) throw platformError('channel_not_found');
    return this.uploadTo(channelId, file);
  }

  /**
   * The share of this very file, among the channel's most recent messages: same name, same title and
   * the same introducing comment (which names the draft's window and time, so two drafts differ).
   * File shares carry no metadata, so this is how a replayed upload finds the one Slack already has.
   */
  async findSharedFile(
    channel: string,
    file: RenderedFile,
  ): Promise<{ channel: string; fileId: string } | undefined> {
    const conversation = await this.conversationId(channel);
    if (!conversation) return undefined;
    const history = await this.call('conversations.history', () =>
      this.client.conversations.history({ channel: conversation, limit: ADOPTION_PAGE }),
    );
    for (const message of history.messages ?? []) {
      if (message.text !== file.comment) continue;
      const shared = message.files?.find((f) => f.name === file.filename && f.title === file.title);
      if (shared?.id) return { channel: conversation, fileId: shared.id };
    }
    return undefined;
  }

  private async uploadTo(
    channelId: string,
    file: RenderedFile,
  ): Promise<{ channel: string; fileId: string }> {
    const bytes = Buffer.from(file.content, 'utf8');
    const ticket = await this.call('files.getUploadURLExternal', () =>
      this.client.files.getUploadURLExternal({ filename: file.filename, length: bytes.length }),
    );
    if (!ticket.upload_url || !ticket.file_id) throw platformError('invalid_response');
    await this.call('upload_url', async () => {
      let response: Response;
      try {
        response = await fetch(ticket.upload_url!, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: new Uint8Array(bytes),
        });
      } catch (error) {
        throw Object.assign(new Error(`file upload failed: ${(error as Error).message}`), {
          code: 'slack_webapi_request_error',
        });
      }
      await response.arrayBuffer();
      if (!response.ok) {
        throw Object.assign(new Error(`file upload: HTTP ${response.status}`), {
          code: 'slack_webapi_http_error',
          statusCode: response.status,
          headers: Object.fromEntries(response.headers),
        });
      }
    });
    await this.call('files.completeUploadExternal', () =>
      this.client.files.completeUploadExternal({
        files: [{ id: ticket.file_id!, title: file.title }],
        channel_id: channelId,
        initial_comment: file.comment,
      }),
    );
    return { channel: channelId, fileId: ticket.file_id };
  }

  /**
   * The id `conversations.history` needs for what a post names: a channel id as is, a user's DM by
   * `conversations.open`, a `#name` by `conversations.list` (learned once, and from every post).
   */
  private async conversationId(channel: string): Promise<string | undefined> {
    if (/^[CGD][A-Z0-9]+$/.test(channel)) return channel;
    if (/^[UW][A-Z0-9]+$/.test(channel)) {
      const opened = await this.call('conversations.open', () =>
        this.client.conversations.open({ users: channel }),
      );
      return opened.channel?.id;
    }
    const name = channel.replace(/^#/, '');
    const known = this.channelIds.get(name);
    if (known) return known;
    let cursor: string | undefined;
    do {
      const page = await this.call('conversations.list', () =>
        this.client.conversations.list({
          types: 'public_channel,private_channel',
          exclude_archived: true,
          limit: 1000,
          ...(cursor && { cursor }),
        }),
      );
      const found = page.channels?.find((candidate) => candidate.name === name);
      if (found?.id) {
        this.channelIds.set(name, found.id);
        return found.id;
      }
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    return undefined;
  }

  /** The user's App Home (views.publish); a view Slack refuses is not retried (the outbox drops it). */
  async publishView(user: string, view: HomeView): Promise<void> {
    await this.call('views.publish', () => this.client.views.publish({ user_id: user, view }));
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

/** An error as `@slack/web-api` throws it for an `ok: false` answer. */
function platformError(code: string): Error {
  return Object.assign(new Error(`An API error occurred: ${code}`), {
    code: 'slack_webapi_platform_error',
    data: { ok: false, error: code },
  });
}
