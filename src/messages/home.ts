import type { KnownBlock } from '@slack/types';
import type { HomeAlert, HomeApproval, HomeFlag, HomeRunbook, HomeState } from '../ports/home.js';
import { context, divider, header, section } from './blocks.js';
import { channelRef, clip, inlineCode, mention, plain, slackDate } from './text.js';

export type { HomeAlert, HomeApproval, HomeFlag, HomeRunbook, HomeState } from '../ports/home.js';

/** What `views.publish` takes for the Home tab. */
export interface HomeView {
  type: 'home';
  blocks: KnownBlock[];
}

/** Slack refuses a Home view of more than 100 blocks. */
export const HOME_MAX_BLOCKS = 100;
/** Most items listed per section before the rest are counted in one line (the view's cap comes first anyway). */
const MAX_ITEMS = 50;

const SEVERITY_EMOJI: Record<HomeAlert['severity'], string> = {
  sev1: ':red_circle:',
  sev2: ':large_orange_circle:',
  sev3: ':large_yellow_circle:',
};

const link = (channel: string, ts: string, label: string): string =>
  `<https://slack.com/archives/${encodeURIComponent(channel)}/p${ts.replace('.', '')}|${label}>`;

const people = (ids: readonly string[]): string => (ids.length > 0 ? ids.map(mention).join(', ') : 'nobody');

/** Lists `items`, at most MAX_ITEMS, then one line for the rest; `none` when there are none. */
function list<T>(
  items: readonly T[],
  none: string,
  render: (item: T) => KnownBlock,
  what: string,
): KnownBlock[] {
  if (items.length === 0) return [context(none)];
  const shown = items.slice(0, MAX_ITEMS).map(render);
  const rest = items.length - shown.length;
  return rest > 0 ? [...shown, context(`…and ${rest} more ${what}.`)] : shown;
}

/**
 * The Home view: what needs someone first (phase, open alerts and who is paged next), then what waits
 * (approvals, runbooks), then the flags. Cut at Slack's 100 blocks with a line saying so.
 */
export function renderHome(state: HomeState): HomeView {
  const blocks: KnownBlock[] = [
    header('Switchyard: the rollout at a glance'),
    context(`Incident channel ${channelRef(state.channel)} · updated whenever something here changes`),
    divider(),
    ...phaseBlocks(state.phase),
    divider(),
    section('*:rotating_light: Open alerts*'),
    ...list(state.alerts, 'No alert is firing.', alertBlock, 'alert groups'),
    ...escalationBlocks(state.escalation),
    divider(),
    section('*:ballot_box_with_check: Pending phase approvals*'),
    ...list(state.approvals, 'No phase advance is waiting.', approvalBlock, 'requests'),
    divider(),
    section('*:clipboard: Running runbooks*'),
    ...list(state.runbooks, 'No runbook is running.', runbookBlock, 'runs'),
    divider(),
    section('*:triangular_flag_on_post: Flags that differ from their defaults*'),
    ...list(state.flags, 'Every flag is at its default.', flagBlock, 'flags'),
  ];
  return { type: 'home', blocks: capBlocks(blocks) };
}

/** Keeps the view within Slack's 100 blocks: the last one then says how many were left out. */
export function capBlocks(blocks: KnownBlock[]): KnownBlock[] {
  if (blocks.length <= HOME_MAX_BLOCKS) return blocks;
  const kept = blocks.slice(0, HOME_MAX_BLOCKS - 1);
  const left = blocks.length - kept.length;
  return [
    ...kept,
    context(
      `:warning: ${left} more ${left === 1 ? 'block' : 'blocks'} not shown (Slack shows at most ${HOME_MAX_BLOCKS}). See \`/phase status\`, \`/flags diff\` and the channel.`,
    ),
  ];
}

function phaseBlocks(phase: HomeState['phase']): KnownBlock[] {
  const current = `*:railway_track: Phase ${phase.current.number}: ${plain(phase.current.name, 200)}*`;
  const ahead =
    phase.ahead.length > 0
      ? `\nAhead of the plan: ${phase.ahead.map((key) => inlineCode(key)).join(', ')}`
      : '';
  const blocks: KnownBlock[] = [section(`${current}${ahead}`)];
  const { next } = phase;
  if (!next) {
    blocks.push(context('This is the last phase of the plan.'));
    return blocks;
  }
  const checklist = next.checklist.map((item) => `• ${plain(item, 300)}`).join('\n');
  const flags =
    next.toEnable.length > 0 ? `\nTurns on: ${next.toEnable.map((key) => inlineCode(key)).join(', ')}` : '';
  blocks.push(
    section(
      clip(
        `*Next: phase ${next.number}, ${plain(next.name, 200)}* (\`/phase advance\` asks for approvals)\n${checklist || '_no checklist_'}${flags}`,
        3000,
      ),
    ),
  );
  return blocks;
}

function alertBlock(alert: HomeAlert): KnownBlock {
  const title = plain(alert.title, 300);
  const titled = alert.message ? link(alert.message.channel, alert.message.ts, title) : title;
  const lines = [`${SEVERITY_EMOJI[alert.severity]} *${titled}*\nOpen since ${slackDate(alert.openedAt)}`];
  if (alert.acknowledged)
    lines.push(
      `:white_check_mark: Acknowledged by ${mention(alert.acknowledged.by)} ${slackDate(alert.acknowledged.at)}`,
    );
  else lines.push(':bell: *Not acknowledged*');
  if (alert.silencedUntil !== undefined)
    lines.push(`:no_bell: Silenced until ${slackDate(alert.silencedUntil)}`);
  if (alert.nextPage)
    lines.push(
      `Next page: ${plain(alert.nextPage.tier, 100)} (${people(alert.nextPage.notify)}) at ${slackDate(alert.nextPage.at)}`,
    );
  return section(lines.join('\n'));
}

function approvalBlock(request: HomeApproval): KnownBlock {
  const waiting = request.status === 'checking' ? 'checking the gates' : 'waiting for approvals';
  const approvedBy = request.approvals.length > 0 ? ` (${people(request.approvals)})` : '';
  return section(
    [
      `${link(request.channel, request.ts, `${plain(request.from, 100)} → ${plain(request.to, 100)}`)}, asked by ${mention(request.requester)}: ${waiting}`,
      `${request.approvals.length} of ${request.required} approvals${approvedBy}; expires ${slackDate(request.expiresAt)}`,
    ].join('\n'),
  );
}

function runbookBlock(run: HomeRunbook): KnownBlock {
  const step =
    run.step !== undefined
      ? `step ${run.step} of ${run.steps}${run.stepTitle ? `: ${plain(run.stepTitle, 200)}` : ''}`
      : `${run.steps} steps`;
  return section(
    `${link(run.channel, run.ts, plain(run.title, 200))}: ${step}\nStarted by ${mention(run.startedBy)} ${slackDate(run.startedAt)}`,
  );
}

function flagBlock(flag: HomeFlag): KnownBlock {
  const value = flag.enabled ? '*on*' : '*off*';
  const who = flag.by ? ` by ${mention(flag.by)}` : '';
  const when = flag.at ? ` ${slackDate(flag.at)}` : '';
  const why = flag.reason ? `: “${plain(flag.reason, 300)}”` : '';
  return section(
    `${inlineCode(flag.key)} is ${value} (default ${flag.enabled ? 'off' : 'on'})${who}${when}${why}`,
  );
}

function escalationBlocks(escalation: HomeState['escalation']): KnownBlock[] {
  const oncall = escalation.oncall ? mention(escalation.oncall) : '_nobody configured_';
  const tiers = escalation.tiers.map(
    (tier, index) =>
      `${index + 1}. ${plain(tier.name, 100)} after ${plain(tier.after, 20)}: ${people(tier.notify)}`,
  );
  return [
    section(
      clip(
        `*:telephone_receiver: Escalation chain* (while a sev1 is unacknowledged)\nOn call, at once: ${oncall}\n${tiers.join('\n')}`,
        3000,
      ),
    ),
  ];
}
