import { formatDuration } from '../core/duration.js';
import type { Actor, ChangeChannel } from '../core/flags/state.js';
import type { Notice } from '../ports/chat.js';
import type { RenderedMessage } from './blocks.js';
import { clip, inlineCode, mention, plain, slackDate } from './text.js';

const VIA = {
  slack: 'in Slack',
  api: 'through the flag API',
  cluster: 'in the cluster',
  system: 'by Switchyard',
} as const;

/**
 * Who made a change, as a reader wants it: a Slack user by mention, otherwise where it came from.
 * An API caller's name comes from a request header: shown escaped, in code, never as a mention.
 */
export function actorLabel(actor: Actor, via: ChangeChannel): string {
  if (via === 'api') return actor.name ? `API client ${plain(actor.name, 100)}` : 'the flag API';
  if (via === 'cluster') return 'a hand edit in the cluster';
  if (via === 'system') return 'Switchyard';
  return mention(actor.id);
}

/** Every flag change is said in the incident channel, with who and why, wherever it came from. */
export function renderFlagsChanged(notice: Extract<Notice, { kind: 'flags-changed' }>): RenderedMessage {
  const who = actorLabel(notice.actor, notice.via);
  const what = notice.changes
    .map((change) => `${inlineCode(change.key)} ${change.to ? 'on' : 'off'}`)
    .join(', ');
  const names = notice.changes.map((change) => inlineCode(change.key)).join(', ');
  const via = VIA[notice.via];
  const lead = {
    'disable-all': `:octagonal_sign: *Kill switch* pulled by ${who} ${via}: turned off ${names}.`,
    // A phase change goes either way: say which, from what actually changed.
    phase: notice.changes.every((change) => change.to)
      ? `:rocket: ${who} advanced the rollout a phase ${via}: turned on ${names}.`
      : `:rewind: ${who} rolled the rollout back a phase ${via}: turned off ${names}.`,
    drift: `:mag: Flags changed outside Switchyard (${via}): ${what}. Recorded in the audit log; not reverted.`,
    enable: `:gear: ${who} changed flags ${via}: ${what}.`,
    disable: `:gear: ${who} changed flags ${via}: ${what}.`,
  }[notice.action];
  if (notice.revertOf) {
    const timed = notice.revertOf;
    const asked = `${actorLabel(timed.by, timed.via)} had changed it ${slackDate(timed.setAt)} for ${formatDuration(timed.revertAt - timed.setAt)}`;
    const theirs = timed.reason ? ` — “${plain(timed.reason, 500)}”` : '';
    return {
      text: clip(
        `:hourglass: *Timed change ran out*: Switchyard (timer) changed it back: ${what}.\n${asked}${theirs}.`,
        3_000,
      ),
    };
  }
  const why = notice.reason ? `\nReason: “${plain(notice.reason, 1_000)}”` : '\nNo reason given.';
  const timed =
    notice.revertAt !== undefined
      ? `\n:hourglass_flowing_sand: Timed: reverts by itself ${slackDate(notice.revertAt)} unless changed before.`
      : '';
  return { text: clip(`${lead}${why}${timed}`, 3_000) };
}
