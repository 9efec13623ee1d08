import { randomUUID } from 'node:crypto';
import type { App, BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import { mention } from '../../commanding/blocks.js';
import type { RunbookStep } from '../../core/runbooks/runbook.js';
import { RUNBOOK_ACTIONS } from '../../messages/action-ids.js';
import type { ClickAnswer, RunbookService } from '../../services/runbook-service.js';
import { CONFIRM_ACTION } from './render.js';
import { answerAs, type SlackAppDeps } from './slack-app.js';

export interface RunbookActionDeps {
  slack: SlackAppDeps;
  runbooks: RunbookService;
}

interface Click {
  user: { id: string; name?: string };
  channel?: string;
  runId: string;
  step: number;
  respond: RespondFn;
}

/**
 * The buttons of a runbook run's steps. Every click is checked (operators only) before anything
 * happens; a refused click changes nothing and says why, only to the one who clicked.
 */
export function registerRunbookActions(app: App, deps: RunbookActionDeps): void {
  const on = (actionId: string, run: (click: Click) => Promise<ClickAnswer>) => {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, respond }) => {
      await ack();
      const value = action.value ?? '';
      const separator = value.lastIndexOf(':');
      const click: Click = {
        user: { id: body.user.id, name: body.user.username },
        channel: body.channel?.id,
        runId: value.slice(0, separator),
        step: Number(value.slice(separator + 1)),
        respond,
      };
      await deps.slack.track(guarded(click, run, deps.slack));
    });
  };

  on(RUNBOOK_ACTIONS.check, (click) => deps.runbooks.check(click.runId, click.step, click.user.id));
  on(RUNBOOK_ACTIONS.status, (click) => deps.runbooks.rolloutStatus(click.runId, click.step, click.user.id));
  on(RUNBOOK_ACTIONS.done, (click) => deps.runbooks.settle(click.runId, click.step, 'done', click.user.id));
  on(RUNBOOK_ACTIONS.skip, (click) => deps.runbooks.settle(click.runId, click.step, 'skip', click.user.id));
  on(RUNBOOK_ACTIONS.doIt, async (click) => {
    const found = await deps.runbooks.currentOf(click.runId, click.step);
    if (typeof found === 'string') return found;
    const command = commandFor(found.step, found.runbook.name);
    if (!command) return 'This step has nothing to do; use Done or Skip.';
    const reply = await answerAs(deps.slack, command.name, command.text, click.user, click.channel);
    await click.respond({ ...reply, response_type: 'ephemeral', replace_original: false } as never);
    if (!JSON.stringify(reply.blocks ?? []).includes(`"action_id":"${CONFIRM_ACTION}"`)) return undefined;
    return deps.runbooks.settle(
      click.runId,
      click.step,
      'done',
      click.user.id,
      `Confirmation of \`${command.name} ${command.text}\` opened for ${mention(click.user.id)}: the change itself happens when an operator clicks its Confirm.`,
    );
  });
}

/** The slash command a step stands for: the same confirmation as typing it. */
export function commandFor(step: RunbookStep, runbook: string): { name: string; text: string } | undefined {
  const reason = `runbook ${runbook}`;
  switch (step.kind) {
    case 'flag':
      return { name: '/flags', text: `${step.enabled ? 'enable' : 'disable'} ${step.flag} ${reason}` };
    case 'disable-all':
      return { name: '/flags', text: `disable-all ${reason}` };
    case 'rollback':
      return { name: '/rollback', text: `deployment ${step.deployment} ${reason}` };
    default:
      return undefined;
  }
}

async function guarded(click: Click, run: (click: Click) => Promise<ClickAnswer>, slack: SlackAppDeps) {
  const log = slack.log.child({ user: click.user.id, runbookRun: click.runId });
  const decision = await slack.services.access.check(click.user.id, 'operator');
  let answer: ClickAnswer;
  if (!decision.allowed) {
    answer = `:no_entry: ${decision.reason} Nothing was changed.`;
  } else if (!click.runId || !Number.isInteger(click.step)) {
    answer = ':warning: I do not recognise this button. Nothing was changed.';
  } else {
    try {
      answer = await run(click);
    } catch (error) {
      const ref = randomUUID().slice(0, 8);
      log.error({ err: error, ref }, 'runbook button failed');
      answer = `:warning: That did not work (reference ${ref}). See the logs; the step is unchanged unless its message says otherwise.`;
    }
  }
  if (answer === undefined) return;
  try {
    await click.respond({ text: answer, response_type: 'ephemeral', replace_original: false });
  } catch (error) {
    log.error({ err: error }, 'could not answer a runbook button click');
  }
}
