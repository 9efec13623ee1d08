import { randomUUID } from 'node:crypto';
import type { App, BlockAction, BlockElementAction, RespondFn } from '@slack/bolt';
import type { ActionOutcome, AlertService } from '../../alerting/alert-service.js';
import { parseDuration } from '../../core/duration.js';
import type { Logger } from '../../logger.js';
import { ALERT_ACTIONS, alertNameOf, deploymentOf } from './alert-message.js';
import { answerAs, type SlackAppDeps } from './slack-app.js';

export interface AlertActionDeps {
  slack: SlackAppDeps;
  alerts: AlertService;
  /** Whether the Roll back button is live (see `rollbackAvailable`). */
  rollback: boolean;
}

type Click = { user: { id: string; name?: string }; channel?: string; value: string; respond: RespondFn };

/**
 * The alert message's buttons. Every click is checked (operators only) before anything happens; a
 * refused click changes nothing and says why, only to the one who clicked.
 */
export function registerAlertActions(app: App, deps: AlertActionDeps): void {
  const on = (actionId: string, run: (click: Click) => Promise<ActionOutcome | undefined>) => {
    app.action<BlockAction<BlockElementAction>>(actionId, async ({ ack, body, action, respond }) => {
      await ack();
      const value =
        action.type === 'static_select'
          ? (action.selected_option?.value ?? '')
          : 'value' in action
            ? (action.value ?? '')
            : '';
      const click: Click = {
        user: { id: body.user.id, name: body.user.username },
        channel: body.channel?.id,
        value,
        respond,
      };
      await deps.slack.track(guarded(click, run, deps.slack));
    });
  };

  on(ALERT_ACTIONS.acknowledge, (click) => deps.alerts.acknowledge(click.value, click.user));
  on(ALERT_ACTIONS.silence, (click) => {
    const separator = click.value.lastIndexOf(':');
    const duration = parseDuration(click.value.slice(separator + 1));
    if (separator < 0 || duration === undefined)
      return Promise.resolve({ ok: false, text: 'Unknown silence choice.' });
    return deps.alerts.silence(click.value.slice(0, separator), click.user, duration);
  });
  on(ALERT_ACTIONS.unsilence, (click) => deps.alerts.unsilence(click.value, click.user));
  on(ALERT_ACTIONS.killSwitch, async (click) => {
    const record = deps.alerts.get(click.value);
    const reason = `alert ${record ? alertNameOf(record) : click.value}`;
    const reply = await answerAs(deps.slack, '/flags', `disable-all ${reason}`, click.user, click.channel);
    await click.respond({ ...reply, response_type: 'ephemeral', replace_original: false } as never);
    return undefined;
  });
  on(ALERT_ACTIONS.rollback, async (click) => {
    const record = deps.alerts.get(click.value);
    const deployment = record && deploymentOf(record);
    if (!deps.rollback || !deployment) {
      return {
        ok: false,
        text: 'Roll back is not available for this alert (no deployment label or no cluster).',
      };
    }
    const reply = await answerAs(
      deps.slack,
      '/rollback',
      `deployment ${deployment}`,
      click.user,
      click.channel,
    );
    await click.respond({ ...reply, response_type: 'ephemeral', replace_original: false } as never);
    return undefined;
  });
  // A link button still sends an action; Slack expects the ack.
  app.action(ALERT_ACTIONS.runbook, async ({ ack }) => {
    await ack();
  });
}

async function guarded(
  click: Click,
  run: (click: Click) => Promise<ActionOutcome | undefined>,
  slack: SlackAppDeps,
): Promise<void> {
  const log: Logger = slack.log.child({ user: click.user.id });
  const decision = await slack.services.access.check(click.user.id, 'operator');
  let outcome: ActionOutcome | undefined;
  if (!decision.allowed) {
    outcome = { ok: false, text: `:no_entry: ${decision.reason} Nothing was changed.` };
  } else {
    try {
      outcome = await run(click);
    } catch (error) {
      const ref = randomUUID().slice(0, 8);
      log.error({ err: error, ref }, 'alert button failed');
      outcome = {
        ok: false,
        text: `:warning: That did not work (reference ${ref}); nothing was changed. See the logs.`,
      };
    }
  }
  if (!outcome) return;
  try {
    await click.respond({ text: outcome.text, response_type: 'ephemeral', replace_original: false });
  } catch (error) {
    log.error({ err: error }, 'could not answer an alert button click');
  }
}

/** Roll back needs the `/rollback` command and a cluster among the services. */
export function rollbackAvailable(slack: Pick<SlackAppDeps, 'commands' | 'services'>): boolean {
  return (
    slack.commands.some((command) => command.name === '/rollback') && slack.services.cluster !== undefined
  );
}
