import { formatDuration } from '../core/duration.js';
import type { OncallTarget, OncallView } from '../core/oncall.js';
import { context, header, type KnownBlock, section } from './blocks.js';
import { clip, mention, plain, slackDate } from './text.js';

/** At most this many open sev1 groups are listed (a message has at most 50 blocks). */
const MAX_GROUPS = 15;
/** Members listed per user group (a chain line stays readable, the section within its 3,000 characters). */
const MAX_MEMBERS = 12;

/** `/oncall` as a message: the chain, who each step reaches, and the next page of each open sev1. */
export function renderOncall(view: OncallView): { text: string; blocks: KnownBlock[] } {
  const chainLines = view.chain.map((step) => {
    const when = step.tierIndex === undefined ? 'at once' : `after ${formatDuration(step.after)}`;
    const who = step.targets.length > 0 ? step.targets.map(targetText).join(', ') : '_nobody configured_';
    return `*${plain(step.name, 80)}* (${when}): ${who}`;
  });
  const blocks: KnownBlock[] = [
    header('On call now'),
    section(clip(`*Escalation chain* (sev1, while unacknowledged)\n${chainLines.join('\n')}`, 3_000)),
  ];
  const groupLines = view.open.slice(0, MAX_GROUPS).map((group) => {
    const title = `*${plain(group.title, 150)}* (open since ${slackDate(group.openedAt)})`;
    if (group.acknowledged) {
      return `${title}\nAcknowledged by ${mention(group.acknowledged.by)} ${slackDate(group.acknowledged.at)}: nobody more is paged.`;
    }
    if (!group.next) return `${title}\nEvery tier has been paged.`;
    const inText = group.next.at <= view.now ? 'now (due)' : `in ${formatDuration(group.next.at - view.now)}`;
    const who =
      group.next.targets.length > 0 ? group.next.targets.map(targetText).join(', ') : '_nobody configured_';
    const silenced = group.silencedUntil ? ` (silenced until ${slackDate(group.silencedUntil)})` : '';
    return `${title}\nNext page: *${plain(group.next.name, 80)}* ${slackDate(group.next.at)}, ${inText}${silenced}: ${who}`;
  });
  if (groupLines.length === 0) {
    blocks.push(context('No sev1 alert group is open: nobody is being paged.'));
  } else {
    blocks.push(section('*Open sev1 alert groups*'));
    for (const line of groupLines) blocks.push(section(clip(line, 3_000)));
    if (view.open.length > MAX_GROUPS) {
      blocks.push(context(`${view.open.length - MAX_GROUPS} more open sev1 groups not listed.`));
    }
  }
  const text = [
    'On call now. Escalation chain:',
    ...view.chain.map(
      (step) => `${plain(step.name, 80)}: ${step.targets.map((t) => t.id).join(', ') || 'nobody'}`,
    ),
    view.open.length === 0
      ? 'No sev1 alert group is open.'
      : `${view.open.length} open sev1 alert group${view.open.length === 1 ? '' : 's'}.`,
  ].join('\n');
  return { text, blocks };
}

function targetText(target: OncallTarget): string {
  if (target.members !== undefined) {
    const shown = target.members.slice(0, MAX_MEMBERS).map(mention).join(' ');
    const more = target.members.length > MAX_MEMBERS ? ` +${target.members.length - MAX_MEMBERS} more` : '';
    const members = target.members.length > 0 ? `${shown}${more}` : '_no members_';
    return `${mention(target.id)} (${members})`;
  }
  if (target.error !== undefined)
    return `${mention(target.id)} (members unknown: ${plain(target.error, 80)})`;
  return mention(target.id);
}
