import { randomUUID } from 'node:crypto';
import type { Logger } from '../../logger.js';
import { type AlertMessageOptions, renderAlertMessage } from '../../messages/alert-message.js';
import { escalationPage, orphanPage } from '../../messages/alert-notes.js';
import { renderFileShare } from '../../messages/files.js';
import { renderNotice } from '../../messages/render.js';
import type { GroupStore } from '../../ports/alert-groups.js';
import type { Attempt } from './outbox.js';
import type { SlackJob } from './outbox-chat.js';
import type { OutgoingMessage, SlackWebChat } from './web-chat.js';

const withoutFlag = ({ channel, ts }: { channel: string; ts: string }) => ({ channel, ts });
/** Jobs are always run by the outbox, which gives their id; a direct call (a test) gets a fresh one. */
const attemptId = (attempt: Attempt | undefined) => attempt?.id ?? randomUUID();

export interface SlackJobDeps {
  web: Pick<SlackWebChat, 'post' | 'update' | 'findPosted' | 'uploadFile' | 'findSharedFile'>;
  store: GroupStore;
  channel: string;
  /** Read when a message is rendered: whether a cluster is configured is known only after start-up. */
  message: () => AlertMessageOptions;
  /** User-group handles (cached; never throws: an empty map when Slack cannot say). */
  handles?: () => Promise<ReadonlyMap<string, string>>;
  /**
   * True for a while after an unclean start: a new group's message may then have been sent by the
   * previous process before its record was on disk (it is sent while the record is synced), so the
   * first post of a group looks for itself even when its job is new.
   */
  afterCrash?: () => boolean;
  log: Logger;
}

/**
 * Runs one outbox job, rendering through the messages layer as late as possible. A group's message is
 * rendered from the group's state when the job runs (so a backlog sends the latest state once);
 * posted the first time, its `ts` is recorded, and updated after. A post resolves with where it landed.
 */
export function slackJobExecutor(deps: SlackJobDeps) {
  /**
   * Top-level posts carry their own id in Slack's message metadata. A post that may already be in
   * Slack (replayed after a crash, or after a try that got no clear answer) is looked for first, and
   * the message found is adopted: Slack gets each post exactly once.
   */
  // A fenced outbox checks the Lease once before the job; a job reads (the group, Slack's history)
  // before it writes, so each write checks it again right before it goes out.
  const writer = (attempt: Attempt | undefined) => ({
    post: (...args: Parameters<SlackWebChat['post']>) => {
      attempt?.recheck?.();
      return deps.web.post(...args);
    },
    update: (...args: Parameters<SlackWebChat['update']>) => {
      attempt?.recheck?.();
      return deps.web.update(...args);
    },
    uploadFile: (...args: Parameters<SlackWebChat['uploadFile']>) => {
      attempt?.recheck?.();
      return deps.web.uploadFile(...args);
    },
  });
  const postOnce = async (
    channel: string,
    message: OutgoingMessage,
    postId: string,
    attempt: Attempt | undefined,
  ): Promise<{ channel: string; ts: string; adopted?: true }> => {
    if (attempt?.uncertain) {
      const found = await deps.web.findPosted(channel, postId);
      if (found) {
        deps.log.info(
          { channel: found.channel, ts: found.ts, postId },
          'outbox: adopted a message posted before a restart',
        );
        return { ...found, adopted: true };
      }
    }
    return writer(attempt).post(channel, message, postId, attempt?.term);
  };
  // Another replica may have written the group (and queued this job) before this one heard of it.
  const groupOf = async (id: string) => deps.store.get(id) ?? (await deps.store.refresh?.(id));
  return async (
    job: SlackJob,
    attempt?: Attempt,
  ): Promise<{ channel: string; ts: string } | { channel: string; fileId: string } | undefined> => {
    const web = writer(attempt);
    switch (job.kind) {
      case 'group-message': {
        const record = await groupOf(job.groupId);
        if (!record) return undefined;
        const handles = deps.handles ? await deps.handles() : undefined;
        const message = renderAlertMessage(record, { ...deps.message(), ...(handles && { handles }) });
        if (record.message) {
          await web.update(record.message.channel, record.message.ts, message);
          return record.message;
        }
        // One id per group episode (its opening time comes from the alerts, so a resend after a crash
        // has the same), whichever of its coalesced jobs posts it.
        const postId = `group:${job.groupId}:${record.state.openedAt}`;
        const uncertain = attempt?.uncertain === true || deps.afterCrash?.() === true;
        const { adopted, ...posted } = await postOnce(
          deps.channel,
          message,
          postId,
          attempt && { ...attempt, uncertain },
        );
        await deps.store.update(job.groupId, (current) => ({
          next: current && { ...current, message: { channel: posted.channel, ts: posted.ts } },
          result: undefined,
        }));
        // The adopted message shows the group as it was; show it as it is.
        if (adopted) await web.update(posted.channel, posted.ts, message);
        return posted;
      }
      case 'thread': {
        const parent = (await groupOf(job.groupId))?.message;
        if (!parent) {
          deps.log.warn({ group: job.groupId }, 'alert note without a posted group message; dropped');
          return undefined;
        }
        return web.post(parent.channel, { text: job.text, threadTs: parent.ts });
      }
      case 'dm':
        return withoutFlag(await postOnce(job.user, { text: job.text }, attemptId(attempt), attempt));
      case 'page': {
        const record = await groupOf(job.groupId);
        // A group forgotten meanwhile: the page still goes, as text.
        const page = record ? escalationPage(record, job.tier, deps.channel) : { text: orphanPage(job.tier) };
        return withoutFlag(await postOnce(job.user, page, attemptId(attempt), attempt));
      }
      case 'post':
        return withoutFlag(
          await postOnce(
            job.channel,
            renderNotice({ kind: 'note', text: job.text }),
            attemptId(attempt),
            attempt,
          ),
        );
      case 'notice':
        if (job.threadTs)
          return web.post(job.channel, { ...renderNotice(job.notice), threadTs: job.threadTs });
        return withoutFlag(
          await postOnce(job.channel, renderNotice(job.notice), attemptId(attempt), attempt),
        );
      case 'notice-update':
        await web.update(job.channel, job.ts, renderNotice(job.notice));
        return { channel: job.channel, ts: job.ts };
      case 'file': {
        const file = renderFileShare(job.file);
        // Like a post: a share that may already be in Slack is looked for first, and adopted.
        if (attempt?.uncertain) {
          const found = await deps.web.findSharedFile(job.channel, file);
          if (found) {
            deps.log.info({ ...found }, 'outbox: adopted a file shared before a restart');
            return found;
          }
        }
        // Each try runs the three steps afresh: an upload URL is good for one upload only.
        return web.uploadFile(job.channel, file);
      }
    }
  };
}
