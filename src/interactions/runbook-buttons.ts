import { z } from 'zod';
import { message, type Reply } from '../commanding/reply.js';
import type { CommandContext, CommandSpec } from '../commanding/spec.js';
import type { RunbookStep } from '../core/runbooks/runbook.js';
import { RUNBOOK_ACTIONS } from '../messages/action-ids.js';
import { type ClickAnswer, RUNBOOK_STEP_OPENER, type RunbookService } from '../services/runbook-service.js';
import { type Borrowed, mustBorrow } from './delegate.js';
import { type Answer, type InteractionSpec, interaction, pairValue } from './spec.js';

export interface RunbookButtonDeps {
  runbooks: RunbookService;
  commands: readonly CommandSpec[];
}

/** `<run id>:<step index>`, as the step's buttons carry it. */
const stepOf = pairValue(
  z
    .object({
      left: z.string().min(1, 'no runbook run'),
      right: z
        .string()
        .regex(/^\d{1,4}$/, 'no step number')
        .transform(Number),
    })
    .transform(({ left, right }) => ({ runId: left, step: right })),
);

type Step = z.output<typeof stepOf>;

/** A step's slash command, by what it does: the same confirmation as typing it. */
interface StepCommand {
  text: string;
  borrowed: Borrowed;
  args: Record<string, unknown>;
}

/**
 * The buttons of a runbook run's steps. Operators only on every click (a runbook run is an
 * operator's job, and Do it opens operator-only confirmations).
 */
export function runbookInteractions(deps: RunbookButtonDeps): InteractionSpec[] {
  const say = (answer: ClickAnswer): Reply | undefined =>
    answer === undefined ? undefined : message(answer);
  const flags = {
    enable: mustBorrow(deps.commands, '/flags', 'enable'),
    disable: mustBorrow(deps.commands, '/flags', 'disable'),
    all: mustBorrow(deps.commands, '/flags', 'disable-all'),
  };
  const rollback = deps.commands.some((command) => command.name === '/rollback')
    ? mustBorrow(deps.commands, '/rollback', 'deployment')
    : undefined;

  const commandFor = (step: RunbookStep, runbook: string): StepCommand | undefined => {
    const reason = `runbook ${runbook}`;
    switch (step.kind) {
      case 'flag': {
        const verb = step.enabled ? 'enable' : 'disable';
        return {
          text: `/flags ${verb} ${step.flag} ${reason}`,
          borrowed: flags[verb],
          args: { flag: step.flag, reason },
        };
      }
      case 'disable-all':
        return { text: `/flags disable-all ${reason}`, borrowed: flags.all, args: { reason } };
      case 'rollback':
        return (
          rollback && {
            text: `/rollback deployment ${step.deployment} ${reason}`,
            borrowed: rollback,
            args: { name: step.deployment, reason },
          }
        );
      default:
        return undefined;
    }
  };

  const doIt = async (ctx: CommandContext, { runId, step }: Step): Promise<Answer> => {
    const found = await deps.runbooks.currentOf(runId, step);
    if (typeof found === 'string') return message(found);
    const command = commandFor(found.step, found.runbook.name);
    if (!command) return message('This step has nothing to do; use Done or Skip.');
    const reply = await command.borrowed.run(ctx, command.args);
    if (reply.kind !== 'confirm') {
      // Made directly (or nothing was left to change): the step offers Done, it does not claim it.
      return {
        kind: 'followed',
        first: reply,
        next: async () => say(await deps.runbooks.acted(runId, step, reply.text)),
      };
    }
    // The confirmation tells the step how it ended: done only once it is executed and succeeds.
    const ref = deps.runbooks.confirmationRef(runId, step);
    return {
      kind: 'followed',
      first: { ...reply, opener: { kind: RUNBOOK_STEP_OPENER, ref } },
      // Only once the confirmation is recorded: the step waits for it.
      next: async () => say(await deps.runbooks.opened(runId, step, ref, ctx.user.id, command.text)),
    };
  };

  const button = (name: string, id: string, run: (ctx: CommandContext, step: Step) => Promise<Answer>) =>
    interaction({
      kind: 'action',
      id,
      group: 'runbook',
      name,
      permission: 'operator',
      confirm: name === 'do' ? 'asks' : 'never',
      args: stepOf,
      run,
    });

  return [
    button('check', RUNBOOK_ACTIONS.check, async (ctx, s) =>
      say(await deps.runbooks.check(s.runId, s.step, ctx.user.id)),
    ),
    button('status', RUNBOOK_ACTIONS.status, async (ctx, s) =>
      say(await deps.runbooks.rolloutStatus(s.runId, s.step, ctx.user.id)),
    ),
    button('status-update', RUNBOOK_ACTIONS.statusUpdate, async (ctx, s) =>
      say(await deps.runbooks.statusUpdate(s.runId, s.step, ctx.user.id)),
    ),
    button('done', RUNBOOK_ACTIONS.done, async (ctx, s) =>
      say(await deps.runbooks.settle(s.runId, s.step, 'done', ctx.user.id)),
    ),
    button('skip', RUNBOOK_ACTIONS.skip, async (ctx, s) =>
      say(await deps.runbooks.settle(s.runId, s.step, 'skip', ctx.user.id)),
    ),
    button('do', RUNBOOK_ACTIONS.doIt, doIt),
  ];
}
