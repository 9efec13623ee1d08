import { z } from 'zod';
import {
  ALERT_ACTIONS,
  alertNameOf,
  deploymentOf,
  SILENCE_CHOICES,
} from '../adapters/slack/alert-message.js';
import { clip } from '../commanding/blocks.js';
import { message, type Reply } from '../commanding/reply.js';
import type { CommandSpec } from '../commanding/spec.js';
import { parseDuration } from '../core/duration.js';
import { runbookStarted } from '../messages/alert-notes.js';
import type { GroupRecord } from '../ports/alert-groups.js';
import type { ActionOutcome, AlertService } from '../services/alert-service.js';
import { mustBorrow } from './delegate.js';
import { buttonValue, type InteractionSpec, interaction, pairValue } from './spec.js';

export interface AlertButtonDeps {
  alerts: AlertService;
  commands: readonly CommandSpec[];
  /** Whether the Roll back button is live (`/rollback` exists and a cluster is configured). */
  rollback: boolean;
}

const groupId = buttonValue(z.string().min(1, 'no alert group').max(200));

/** `<group id>:<duration>`, one of the Silence menu's choices. */
const silenceChoice = pairValue(
  z
    .object({
      left: z.string().min(1, 'no alert group'),
      right: z
        .string()
        .refine(
          (choice) => SILENCE_CHOICES.some((known) => known.value === choice),
          'not one of the Silence choices',
        ),
    })
    .transform(({ left, right }) => ({ groupId: left, choice: right })),
);

/** The alert message's buttons and menu. Operators only, as the subcommands they stand for. */
export function alertInteractions(deps: AlertButtonDeps): InteractionSpec[] {
  const answer = (outcome: ActionOutcome): Reply => message(outcome.text);
  const killSwitch = mustBorrow(deps.commands, '/flags', 'disable-all');
  const rollback = deps.rollback ? mustBorrow(deps.commands, '/rollback', 'deployment') : undefined;
  const runbookRun = mustBorrow(deps.commands, '/runbook', 'run');
  const alertButton = (name: string, id: string) =>
    ({ kind: 'action', id, group: 'alert', name, confirm: 'never' }) as const;
  return [
    interaction({
      ...alertButton('acknowledge', ALERT_ACTIONS.acknowledge),
      // Operators, and whoever this group's escalation paged by name (the button in their DM).
      permission: async (input, ctx) =>
        input.value && deps.alerts.wasPaged(input.value, ctx.user.id) ? 'anyone' : 'operator',
      args: groupId,
      run: async (ctx, id) => answer(await deps.alerts.acknowledge(id, ctx.user)),
    }),
    interaction({
      ...alertButton('silence', ALERT_ACTIONS.silence),
      permission: 'operator',
      args: silenceChoice,
      run: async (ctx, { groupId, choice }) =>
        answer(await deps.alerts.silence(groupId, ctx.user, parseDuration(choice)!)),
    }),
    interaction({
      ...alertButton('unsilence', ALERT_ACTIONS.unsilence),
      permission: 'operator',
      args: groupId,
      run: async (ctx, id) => answer(await deps.alerts.unsilence(id, ctx.user)),
    }),
    interaction({
      ...alertButton('kill-switch', ALERT_ACTIONS.killSwitch),
      confirm: 'asks',
      permission: killSwitch.permission,
      args: groupId,
      run: (ctx, id) => {
        const record = deps.alerts.get(id);
        return killSwitch.run(ctx, { reason: alertReason(record, id) });
      },
    }),
    interaction({
      ...alertButton('rollback', ALERT_ACTIONS.rollback),
      confirm: 'asks',
      permission: rollback?.permission ?? 'operator',
      args: groupId,
      run: async (ctx, id) => {
        const record = deps.alerts.get(id);
        const deployment = record && deploymentOf(record);
        if (!rollback || !deployment) {
          return message('Roll back is not available for this alert (no deployment label or no cluster).');
        }
        return rollback.run(ctx, { name: deployment, reason: alertReason(record, id) });
      },
    }),
    interaction({
      ...alertButton('run-runbook', ALERT_ACTIONS.runRunbook),
      permission: runbookRun.permission,
      args: groupId,
      run: async (ctx, id) => {
        const record = deps.alerts.get(id);
        const runs = ctx.services.runbooks;
        const runbook = record && runs?.find(alertNameOf(record));
        if (!record || !runs || !runbook) {
          return message(
            'There is no runbook for this alert (any more). Nothing was started; see `/runbook list`.',
          );
        }
        // In the alert's thread, so the steps sit with the alert's history.
        const outcome = await runs.start(
          runbook,
          ctx.user.id,
          record.message && { threadTs: record.message.ts },
        );
        return message(runbookStarted(runbook.title, outcome));
      },
    }),
    // A link button still sends an action: acknowledged, nothing to do.
    ...(
      [
        ['runbook', ALERT_ACTIONS.runbook],
        ['open-alert', ALERT_ACTIONS.openAlert],
      ] as const
    ).map(([name, id]) =>
      interaction({
        ...alertButton(name, id),
        permission: 'anyone',
        args: z.object({}),
        run: async () => undefined,
      }),
    ),
  ];
}

/**
 * The reason an emergency action opened from an alert carries: the alert's name, as raw text (every
 * place that shows a reason escapes it: the confirmation, the announcement, the audit's Markdown).
 */
function alertReason(record: GroupRecord | undefined, id: string): string {
  return clip(`alert ${record ? alertNameOf(record) : id}`, 500);
}
