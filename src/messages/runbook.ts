import type { Button, KnownBlock } from '@slack/types';
import { formatDuration } from '../core/duration.js';
import { currentStep, type RunbookRun, type StepStatus, summarize } from '../core/runbooks/run.js';
import { describeStep, type Runbook, type RunbookStep } from '../core/runbooks/runbook.js';
import { RUNBOOK_ACTIONS } from './action-ids.js';
import { actions, button, context, header, type RenderedMessage, section } from './blocks.js';
import { escapeText, mention, plain, slackDate } from './text.js';

export { RUNBOOK_ACTIONS } from './action-ids.js';

const ICON: Record<StepStatus, string> = {
  pending: ':white_circle:',
  current: ':arrow_forward:',
  done: ':white_check_mark:',
  skipped: ':fast_forward:',
  failed: ':x:',
  aborted: ':no_entry_sign:',
};

const SETTLED_BY: Partial<Record<StepStatus, string>> = {
  done: 'Done',
  skipped: 'Skipped',
  failed: 'Failed',
  aborted: 'Aborted',
};

/** Only a link to a Slack message becomes a link; anything else recorded as one is not shown. */
const SLACK_MESSAGE = /^https:\/\/slack\.com\/archives\/[A-Z0-9]+\/p\d+$/;

/** The top-level message: which runbook, who started it, where it stands; a summary once complete. */
export function renderRunHeader(runbook: Runbook, run: RunbookRun, now: string): RenderedMessage {
  const started = `Started by ${mention(run.startedBy)} ${slackDate(run.startedAt)}.`;
  const current = currentStep(run);
  if (current !== undefined) {
    const step = runbook.steps[current];
    const where = `Step ${current + 1} of ${runbook.steps.length}: ${escapeText(step?.title ?? '?')}`;
    return {
      text: `Runbook ${escapeText(runbook.title)}: in progress (${where})`,
      blocks: [
        header(`Runbook: ${runbook.title}`),
        section(`${escapeText(runbook.summary)}\n*In progress* — ${where}. The steps are in the thread.`),
        context(
          started,
          `Operators only: each step has its buttons; \`/runbook show\` lists the steps, \`/runbook abort ${escapeText(runbook.name)}\` ends the run.`,
        ),
      ],
    };
  }
  const summary = summarize(run, now);
  const lines = runbook.steps.map((step, index) => {
    const state = run.steps[index];
    const status = state?.status ?? 'pending';
    const who = state?.by ? ` — ${mention(state.by)}` : '';
    const shown = status === 'pending' && summary.aborted ? 'not reached' : status;
    const result = state?.link && SLACK_MESSAGE.test(state.link) ? ` · <${state.link}|result>` : '';
    return `${ICON[status]} ${index + 1}. ${escapeText(step.title)} (${shown}${who})${result}`;
  });
  const counts = `${summary.done} done, ${summary.skipped} skipped${summary.failed ? `, ${summary.failed} failed` : ''}${summary.aborted ? `, ${summary.notDone} not done` : ''}`;
  const took = formatDuration(summary.durationMs);
  if (run.aborted) {
    return {
      text: `Runbook ${escapeText(runbook.title)}: aborted (${counts}) after ${took}`,
      blocks: [
        header(`Runbook: ${runbook.title}`),
        section(`:no_entry_sign: *Aborted* by ${mention(run.aborted.by)} — ${counts}, after ${took}.`),
        section(lines.join('\n')),
        context(started, `Aborted ${slackDate(run.aborted.at)}.`),
      ],
    };
  }
  return {
    text: `Runbook ${escapeText(runbook.title)}: complete (${counts}) in ${took}`,
    blocks: [
      header(`Runbook: ${runbook.title}`),
      section(`:checkered_flag: *Complete* — ${counts}, in ${took}.`),
      section(lines.join('\n')),
      context(started, `Completed ${slackDate(run.completedAt ?? now)}.`),
    ],
  };
}

/** One step's thread message: what it is, where it stands, and the buttons while it is current. */
export function renderStep(
  runbook: Runbook,
  run: RunbookRun,
  index: number,
  step: RunbookStep,
): RenderedMessage {
  const state = run.steps[index] ?? { status: 'pending' as const };
  const title = `${ICON[state.status]} *${index + 1}/${runbook.steps.length}* ${escapeText(describeStep(step))}`;
  const blocks: KnownBlock[] = [section(title)];
  if (state.note) blocks.push(section(plain(state.note, 2900)));
  if (state.link && SLACK_MESSAGE.test(state.link)) {
    blocks.push(section(`:link: <${state.link}|The result>`));
  }
  const what = SETTLED_BY[state.status];
  if (what && state.by && state.at) {
    blocks.push(context(`${what} by ${mention(state.by)} ${slackDate(state.at)}`));
  }
  const waiting = state.awaiting ?? [];
  if (waiting.length > 0) {
    const last = waiting[waiting.length - 1]!;
    const more = waiting.length > 1 ? ` (${waiting.length} confirmations open)` : '';
    const verb = state.status === 'current' ? 'Waiting for' : 'Still open:';
    blocks.push(
      context(
        `:hourglass_flowing_sand: ${verb} the confirmation opened by ${mention(last.by)} ${slackDate(last.at)}${more}.`,
      ),
    );
  }
  if (state.status === 'current') {
    const value = `${run.id}:${index}`;
    const buttons = [primaryButton(step, value)];
    if (state.doneOffered && step.kind !== 'manual') {
      buttons.push(button({ text: 'Done', actionId: RUNBOOK_ACTIONS.done, value, style: 'primary' }));
    }
    buttons.push(button({ text: 'Skip', actionId: RUNBOOK_ACTIONS.skip, value }));
    blocks.push(actions(`runbook-step-${index}`, buttons));
  }
  const shown =
    state.status === 'current' && waiting.length > 0 ? 'current, waiting for its confirmation' : state.status;
  return { text: `${index + 1}/${runbook.steps.length} ${escapeText(step.title)} (${shown})`, blocks };
}

function primaryButton(step: RunbookStep, value: string): Button {
  switch (step.kind) {
    case 'check':
      return button({ text: 'Run check', actionId: RUNBOOK_ACTIONS.check, value, style: 'primary' });
    case 'flag':
    case 'disable-all':
    case 'rollback':
      return button({ text: 'Do it', actionId: RUNBOOK_ACTIONS.doIt, value, style: 'danger' });
    case 'rollout-status':
      return button({ text: 'Show status', actionId: RUNBOOK_ACTIONS.status, value, style: 'primary' });
    case 'manual':
      return button({ text: 'Done', actionId: RUNBOOK_ACTIONS.done, value, style: 'primary' });
    case 'status-update':
      return button({ text: 'Send update', actionId: RUNBOOK_ACTIONS.statusUpdate, value, style: 'primary' });
  }
}
