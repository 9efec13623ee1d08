import type { Logger } from '../../logger.js';
import { type AlertMessageOptions, renderAlertMessage } from '../../messages/alert-message.js';
import { escalationPage, orphanPage } from '../../messages/alert-notes.js';
import { renderNotice } from '../../messages/render.js';
import type { GroupStore } from '../../ports/alert-groups.js';
import type { SlackJob } from './outbox-chat.js';
import type { SlackWebChat } from './web-chat.js';

export interface SlackJobDeps {
  web: Pick<SlackWebChat, 'post' | 'update'>;
  store: GroupStore;
  channel: string;
  /** Read when a message is rendered: whether a cluster is configured is known only after start-up. */
  message: () => AlertMessageOptions;
  /** User-group handles (cached; never throws: an empty map when Slack cannot say). */
  handles?: () => Promise<ReadonlyMap<string, string>>;
  log: Logger;
}

/**
 * Runs one outbox job, rendering through the messages layer as late as possible. A group's message is
 * rendered from the group's state when the job runs (so a backlog sends the latest state once);
 * posted the first time, its `ts` is recorded, and updated after. A post resolves with where it landed.
 */
export function slackJobExecutor(deps: SlackJobDeps) {
  return async (job: SlackJob): Promise<{ channel: string; ts: string } | undefined> => {
    switch (job.kind) {
      case 'group-message': {
        const record = deps.store.get(job.groupId);
        if (!record) return undefined;
        const handles = deps.handles ? await deps.handles() : undefined;
        const message = renderAlertMessage(record, { ...deps.message(), ...(handles && { handles }) });
        if (record.message) {
          await deps.web.update(record.message.channel, record.message.ts, message);
          return record.message;
        }
        const posted = await deps.web.post(deps.channel, message);
        await deps.store.update(job.groupId, (current) => ({
          next: current && { ...current, message: { channel: posted.channel, ts: posted.ts } },
          result: undefined,
        }));
        return posted;
      }
      case 'thread': {
        const parent = deps.store.get(job.groupId)?.message;
        if (!parent) {
          deps.log.warn({ group: job.groupId }, 'alert note without a posted group message; dropped');
          return undefined;
        }
        return deps.web.post(parent.channel, { text: job.text, threadTs: parent.ts });
      }
      case 'dm':
        return deps.web.post(job.user, { text: job.text });
      case 'page': {
        const record = deps.store.get(job.groupId);
        // A group forgotten meanwhile: the page still goes, as text.
        if (!record) return deps.web.post(job.user, { text: orphanPage(job.tier) });
        return deps.web.post(job.user, escalationPage(record, job.tier, deps.channel));
      }
      case 'post':
        return deps.web.post(job.channel, renderNotice({ kind: 'note', text: job.text }));
      case 'notice':
        return deps.web.post(job.channel, { ...renderNotice(job.notice), threadTs: job.threadTs });
      case 'notice-update':
        await deps.web.update(job.channel, job.ts, renderNotice(job.notice));
        return { channel: job.channel, ts: job.ts };
    }
  };
}
