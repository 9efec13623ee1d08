import type { Logger } from '../logger.js';
import type { Cluster } from '../ports/cluster.js';
import type { FlagsChanged } from './flag-service.js';

/**
 * `kubectl rollout restart` of the listed Deployments after the bot changed flags, for consumers that
 * read the ConfigMap only at start. Drift is not followed by restarts: the bot did not make it.
 */
export function restartAfterFlagChange(
  cluster: Cluster,
  deployments: readonly string[],
  now: () => Date,
  notify: (text: string) => Promise<void>,
  log: Logger,
) {
  return async (event: FlagsChanged): Promise<void> => {
    if (event.action === 'drift' || deployments.length === 0) return;
    const at = now().toISOString();
    const failed: string[] = [];
    for (const name of deployments) {
      try {
        await cluster.restartDeployment(name, at);
      } catch (error) {
        log.error({ err: error, deployment: name }, 'restart after a flag change failed');
        failed.push(`\`${name}\` (${(error as Error).message})`);
      }
    }
    if (failed.length > 0) {
      await notify(
        `:warning: The flags changed in the ConfigMap, but I could not restart ${failed.join(', ')}: their pods still run with the old values until they restart.`,
      ).catch((error: unknown) => log.error({ err: error }, 'could not post a restart failure'));
    }
  };
}
