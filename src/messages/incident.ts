import { formatDuration } from '../core/duration.js';
import type { PostMortem } from '../core/incidents/post-mortem.js';
import type { EventActor, IncidentEvent } from '../core/incidents/timeline.js';

/**
 * The post-mortem draft as Markdown: the seed's emergency procedure ends with "Post-Mortem: analyze
 * root cause and prevention", so the draft has the headings a team fills in (impact, root cause,
 * prevention) around what the bot can fill in itself (the summary with its durations, and the
 * timeline from its records).
 *
 * Text that did not come from the bot (alert names and summaries, reasons, notes, deployment and
 * runbook names, images) is shown only as an inline code span, on one line: in a code span Markdown
 * makes no heading, link, autolink, emphasis or HTML, and a backtick inside cannot close it. Links are
 * made only here, and only to Slack messages whose address the bot built from validated ids.
 */

/** The longest piece of outside text shown (a summary or a reason); the rest is cut with `…`. */
const MAX_TEXT = 300;

/** Outside text, inert: one line, no backtick, in a code span. */
export function mdCode(text: string): string {
  const oneLine = text
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replace(/`/g, 'ˋ')
    .trim();
  const clipped = oneLine.length > MAX_TEXT ? `${oneLine.slice(0, MAX_TEXT - 1)}…` : oneLine;
  // Trimmed, so no space at either end for a code span to strip.
  return clipped === '' ? '`(empty)`' : `\`${clipped}\``;
}

const SLACK_LINK = /^https:\/\/slack\.com\/archives\/[CGD][A-Z0-9]+\/p\d+$/;

/** A link to a Slack message, when it is one the bot built; nothing otherwise. */
function mdLink(link: string | undefined): string {
  return link && SLACK_LINK.test(link) ? ` · [Slack message](${link})` : '';
}

const SYSTEMS: Record<string, string> = {
  alertmanager: 'Alertmanager',
  switchyard: 'Switchyard',
  api: 'the flag API',
  cluster: 'the cluster (outside the bot)',
};

/** A Slack user or group by id (with the name the record kept), a known system, or anything else as code. */
export function mdActor(actor: EventActor): string {
  const system = SYSTEMS[actor.id];
  if (system) return system;
  const id = /^[UWS][A-Z0-9]{2,}$/.test(actor.id) ? `@${actor.id}` : mdCode(actor.id);
  return actor.name ? `${mdCode(actor.name)} (${id})` : id;
}

function mdTarget(id: string): string {
  return /^[UWS][A-Z0-9]{2,}$/.test(id) ? `@${id}` : mdCode(id);
}

/** `2026-12-04 03:00:00Z`. */
export function mdTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

const list = (items: readonly string[]) => items.join(', ');

function describe(event: IncidentEvent): string {
  switch (event.kind) {
    case 'alert-fired':
      return `**Alert fired**: ${event.severity} ${mdCode(event.alert)}${event.summary ? ` — ${mdCode(event.summary)}` : ''}`;
    case 'alert-resolved':
      return `**Alert resolved**: ${event.severity} ${mdCode(event.alert)}`;
    case 'page':
      return event.tier === 0
        ? `**Paged** the on-call ${list(event.targets.map(mdTarget))} for ${mdCode(event.alert)}`
        : `**Escalated** (tier ${event.tier}${event.role ? `, ${mdCode(event.role)}` : ''}, still unacknowledged) to ${list(event.targets.map(mdTarget))} for ${mdCode(event.alert)}`;
    case 'ack':
      return `**Acknowledged** ${mdCode(event.alert)}; escalation stopped`;
    case 'silence':
      return `**Silenced** ${mdCode(event.alert)} until ${mdTime(event.until)}`;
    case 'flag-change': {
      const off = event.changes.filter((change) => !change.to).map((change) => mdCode(change.flag));
      const on = event.changes.filter((change) => change.to).map((change) => mdCode(change.flag));
      const parts = [
        ...(on.length ? [`turned on ${list(on)}`] : []),
        ...(off.length ? [`turned off ${list(off)}`] : []),
      ];
      const what =
        event.action === 'disable-all'
          ? `**Kill switch** (disable-all): ${off.length} flag${off.length === 1 ? '' : 's'} turned off: ${list(off)}`
          : event.action === 'drift'
            ? `**Flags changed outside the bot** (drift): ${parts.join('; ')}`
            : event.action === 'phase'
              ? `**Phase flags**: ${parts.join('; ')}`
              : `**Flag${event.changes.length === 1 ? '' : 's'} ${event.action === 'enable' ? 'enabled' : 'disabled'}**: ${parts.join('; ')}`;
      const via = event.via === 'slack' ? '' : ` (via ${event.via})`;
      return `${what}${via}${event.reason ? ` — reason: ${mdCode(event.reason)}` : ''}`;
    }
    case 'rollback':
      return `**Rolled back** ${mdCode(event.deployment)} from revision ${event.fromRevision} to revision ${event.toRevision}${event.fromImages.length ? ` (away from ${list(event.fromImages.map(mdCode))})` : ''}${event.reason ? ` — reason: ${mdCode(event.reason)}` : ''}`;
    case 'runbook': {
      const name = mdCode(event.runbook);
      const step =
        event.step === undefined
          ? ''
          : `step ${event.step}${event.stepTitle ? ` ${mdCode(event.stepTitle)}` : ''}`;
      const note = event.note ? ` — ${mdCode(event.note)}` : '';
      switch (event.what) {
        case 'started':
          return `**Runbook started**: ${name}`;
        case 'step-done':
          return `**Runbook ${name}**: ${step} done${note}`;
        case 'step-skipped':
          return `**Runbook ${name}**: ${step} skipped${note}`;
        case 'step-failed':
          return `**Runbook ${name}**: ${step} failed${note}`;
        case 'aborted':
          return `**Runbook aborted**: ${name}`;
        case 'completed':
          return `**Runbook completed**: ${name}`;
      }
      return `**Runbook ${name}**`;
    }
    case 'phase': {
      const move = `${mdCode(event.from)} → ${mdCode(event.to)}`;
      if (event.what === 'requested')
        return `**Phase advance requested**: ${move}${event.reason ? ` — reason: ${mdCode(event.reason)}` : ''}`;
      const approvals = event.approvals.length ? ` (approved by ${list(event.approvals.map(mdTarget))})` : '';
      return `**Phase advance ${mdCode(event.status)}**: ${move}${approvals}`;
    }
  }
}

/** One line of the timeline: time, what, who, and the Slack message. */
export function renderTimelineLine(event: IncidentEvent): string {
  return `- **${mdTime(event.at)}** · ${describe(event)} · by ${mdActor(event.actor)}${mdLink(event.link)}`;
}

function durationLine(label: string, at: number | undefined, took: number | undefined, what: string): string {
  if (at === undefined) return `- **${label}**: not in the records of this window`;
  return `- **${label}**: ${mdTime(at)}${took === undefined ? '' : ` — ${what} **${formatDuration(took)}**`}`;
}

const TODO = (text: string) => `_To fill in: ${text}_`;

/** The whole draft. Same data, same bytes: the golden file and the HTTP API depend on it. */
export function renderPostMortem(draft: PostMortem): string {
  const { timeline, durations, window } = draft;
  const alerts = [
    ...new Map(
      timeline
        .filter((event) => event.kind === 'alert-fired')
        .map((event) => [`${event.severity} ${event.alert}`, `${event.severity} ${mdCode(event.alert)}`]),
    ).values(),
  ];
  const first = timeline.find((event) => event.kind === 'alert-fired');
  const title =
    first && first.kind === 'alert-fired' ? `${mdCode(first.alert)} (${first.severity})` : 'incident';
  const actions = timeline.filter(
    (event) => event.kind === 'flag-change' || event.kind === 'rollback' || event.kind === 'runbook',
  );
  const lines = [
    `# Post-mortem draft: ${title}`,
    '',
    `_Drafted by Switchyard at ${mdTime(draft.generatedAt)} from its records between ${mdTime(window.since)} and ${mdTime(window.until)} (times in UTC). Edit it: the bot filled in what it saw; the sections marked "To fill in" need people._`,
    '',
    '## Summary',
    '',
    `- **Alerts**: ${alerts.length ? list(alerts) : 'none fired in this window'}`,
    `- **Highest severity**: ${durations.severity ?? 'none'}`,
    durationLine('Started', durations.startedAt, undefined, ''),
    durationLine(
      'Acknowledged',
      durations.acknowledgedAt,
      durations.timeToAcknowledge,
      'time to acknowledge',
    ),
    durationLine('Mitigated', durations.mitigatedAt, durations.timeToMitigate, 'time to mitigate'),
    durationLine('Resolved', durations.resolvedAt, durations.timeToResolve, 'time to resolve'),
    '',
    'Time to mitigate counts to the first flag turned off, kill switch or rollback after the first alert.',
    '',
    '## Impact',
    '',
    TODO('scope and severity — who and what was affected, for how long, and how it was detected.'),
    '',
    '## Timeline',
    '',
    ...(timeline.length ? timeline.map(renderTimelineLine) : ['- Nothing in the records of this window.']),
    ...(draft.omitted
      ? [
          `- … and ${draft.omitted} later event${draft.omitted === 1 ? '' : 's'} left out: ask for a shorter window.`,
        ]
      : []),
    '',
    '## Response',
    '',
    ...(actions.length
      ? actions.map((event) => `- ${describe(event)} — ${mdActor(event.actor)}`)
      : ['- No flag change, rollback or runbook in this window.']),
    '',
    TODO('what worked and what did not in the response (runbook, feature flags, rollback, communication).'),
    '',
    '## Root cause',
    '',
    TODO('the root cause and the contributing factors.'),
    '',
    '## Prevention',
    '',
    TODO('follow-up actions that prevent a recurrence, each with an owner and a due date.'),
    '',
  ];
  return lines.join('\n');
}

/** The file's name: `post-mortem-20261204-0300.md`, from the first alert (or the window's start). */
export function postMortemFilename(draft: PostMortem): string {
  const at = draft.durations.startedAt ?? draft.window.since;
  const stamp = new Date(at).toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  return `post-mortem-${stamp}.md`;
}

/** The message that introduces the file in the channel (Slack mrkdwn; only bot-worded text). */
export function postMortemComment(draft: PostMortem, requestedBy: string): string {
  const who = /^[UW][A-Z0-9]+$/.test(requestedBy) ? ` for <@${requestedBy}>` : '';
  return `:memo: Post-mortem draft${who}: ${draft.timeline.length} event${draft.timeline.length === 1 ? '' : 's'} from ${mdTime(draft.window.since)} to ${mdTime(draft.window.until)}, drafted ${mdTime(draft.generatedAt)}. Fill in impact, root cause and prevention.`;
}
