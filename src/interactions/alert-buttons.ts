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
  const alertButton = (name: string, id: string) =>
    ({ kind: 'action', id, group: 'alert', name, confirm: 'never' }) as const;
  return [
    interaction({
      ...alertButton('acknowledge', ALERT_ACTIONS.acknowledge),
      permission: 'operator',
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
        return killSwitch.run(ctx, { reason: clip(`alert ${record ? alertNameOf(record) : id}`, 500) });
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
        return rollback.run(ctx, { name: deployment });
      },
    }),
    // A link button still sends an action: acknowledged, nothing to do.
    interaction({
      ...alertButton('runbook', ALERT_ACTIONS.runbook),
      permission: 'anyone',
      args: z.object({}),
      run: async () => undefined,
    }),
  ];
}
