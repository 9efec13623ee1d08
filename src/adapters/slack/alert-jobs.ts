import type { GroupStore } from '../../alerting/group-record.js';
import type { Logger } from '../../logger.js';
import type { Chat } from '../../ports/chat.js';
import { type AlertMessageOptions, renderAlertMessage } from './alert-message.js';
import type { SlackJob } from './alert-notifier.js';

export interface AlertJobDeps {
  chat: Chat;
  store: GroupStore;
  channel: string;
  message: AlertMessageOptions;
  log: Logger;
}

/**
 * Runs one outbox job. A group's message is rendered from the group's state when the job runs (so a
 * backlog sends the latest state once); posted the first time, its `ts` is recorded, and updated after.
 */
export function alertJobExecutor(deps: AlertJobDeps) {
  return async (job: SlackJob): Promise<void> => {
    switch (job.kind) {
      case 'group-message': {
        const record = deps.store.get(job.groupId);
        if (!record) return;
        const message = renderAlertMessage(record, deps.message);
        if (record.message) {
          await deps.chat.update(record.message.channel, record.message.ts, message);
          return;
        }
        const posted = await deps.chat.post(deps.channel, message);
        await deps.store.update(job.groupId, (current) => ({
          next: current && { ...current, message: { channel: posted.channel, ts: posted.ts } },
          result: undefined,
        }));
        return;
      }
      case 'thread': {
        const parent = deps.store.get(job.groupId)?.message;
        if (!parent) {
          deps.log.warn({ group: job.groupId }, 'alert note without a posted group message; dropped');
          return;
        }
        await deps.chat.post(parent.channel, { text: job.text, threadTs: parent.ts });
        return;
      }
      case 'dm':
        await deps.chat.post(job.user, { text: job.text });
        return;
      case 'post':
        await deps.chat.post(job.channel, { text: job.text });
        return;
    }
  };
}
