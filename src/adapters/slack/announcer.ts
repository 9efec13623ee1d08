import type { Logger } from '../../logger.js';
import type { Chat } from '../../ports/chat.js';
import type { FlagsChanged } from '../../services/flag-service.js';

/**
 * Every flag change is said in the incident channel, with who and why, wherever it came from. The
 * chat port journals it before sending: a 429 or a crash delays it, never loses it.
 */
export function announceFlagChanges(chat: Chat, channel: string, log: Logger) {
  return async (event: FlagsChanged) => {
    try {
      await chat.post(channel, {
        kind: 'flags-changed',
        action: event.action,
        changes: event.changes.map((change) => ({ key: change.key, to: change.to })),
        actor: event.meta.actor,
        via: event.meta.via,
        ...(event.meta.reason && { reason: event.meta.reason }),
        ...(event.revertAt !== undefined && { revertAt: event.revertAt }),
        ...(event.revertOf && {
          revertOf: {
            by: event.revertOf.by,
            via: event.revertOf.via,
            setAt: event.revertOf.setAt,
            revertAt: event.revertOf.revertAt,
            ...(event.revertOf.reason !== undefined && { reason: event.revertOf.reason }),
          },
        }),
      });
    } catch (error) {
      log.error({ err: error, channel }, 'could not announce a flag change');
    }
  };
}
