import { actorLabel } from '../../commanding/blocks.js';
import type { Logger } from '../../logger.js';
import type { Chat } from '../../ports/chat.js';
import type { FlagsChanged } from '../../services/flag-service.js';

const VIA = {
  slack: 'in Slack',
  api: 'through the flag API',
  cluster: 'in the cluster',
  system: 'by Switchyard',
} as const;

/** Every flag change is said in the incident channel, with who and why, wherever it came from. */
export function announceFlagChanges(chat: Chat, channel: string, log: Logger) {
  return async (event: FlagsChanged) => {
    const who = actorLabel(event.meta.actor, event.meta.via);
    const what = event.changes.map((change) => `\`${change.key}\` ${change.to ? 'on' : 'off'}`).join(', ');
    const names = event.changes.map((change) => `\`${change.key}\``).join(', ');
    const via = VIA[event.meta.via];
    const lead = {
      'disable-all': `:octagonal_sign: *Kill switch* pulled by ${who} ${via}: turned off ${names}.`,
      // A phase change goes either way: say which, from what actually changed.
      phase: event.changes.every((change) => change.to)
        ? `:rocket: ${who} advanced the rollout a phase ${via}: turned on ${names}.`
        : `:rewind: ${who} rolled the rollout back a phase ${via}: turned off ${names}.`,
      drift: `:mag: Flags changed outside Switchyard (${via}): ${what}. Recorded in the audit log; not reverted.`,
      enable: `:gear: ${who} changed flags ${via}: ${what}.`,
      disable: `:gear: ${who} changed flags ${via}: ${what}.`,
    }[event.action];
    const why = event.meta.reason ? `\nReason: “${event.meta.reason}”` : '\nNo reason given.';
    try {
      await chat.post(channel, { text: `${lead}${why}` });
    } catch (error) {
      log.error({ err: error, channel }, 'could not announce a flag change');
    }
  };
}
