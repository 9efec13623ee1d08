import type { App } from '@slack/bolt';
import { alertInteractions } from '../../interactions/alert-buttons.js';
import type { AlertService } from '../../services/alert-service.js';
import { registerInteractions, type SlackAppDeps } from './slack-app.js';

export interface AlertActionDeps {
  slack: SlackAppDeps;
  alerts: AlertService;
  /** Whether the Roll back button is live (see `rollbackAvailable`). */
  rollback: boolean;
}

/** The alert message's buttons, declared in `interactions/alert-buttons.ts`, on the one router. */
export function registerAlertActions(app: App, deps: AlertActionDeps): void {
  registerInteractions(
    app,
    deps.slack,
    alertInteractions({ alerts: deps.alerts, commands: deps.slack.commands, rollback: deps.rollback }),
  );
}

/** Roll back needs the `/rollback` command and a cluster among the services. */
export function rollbackAvailable(slack: Pick<SlackAppDeps, 'commands' | 'services'>): boolean {
  return (
    slack.commands.some((command) => command.name === '/rollback') && slack.services.cluster !== undefined
  );
}
