import cron from 'node-cron';
import type { Logger } from '../logger.js';

/** Ticks every second (no overlap): each tick fires the escalations now due. */
export function startEscalationTimer(
  escalate: () => Promise<number>,
  log: Logger,
): { stop(): Promise<void> } {
  const task = cron.schedule(
    '* * * * * *',
    async () => {
      try {
        const fired = await escalate();
        if (fired > 0) log.info({ fired }, 'escalation tiers due: queued');
      } catch (error) {
        log.error({ err: error }, 'escalation tick failed');
      }
    },
    { noOverlap: true, name: 'switchyard-escalation' },
  );
  return {
    async stop() {
      await task.stop();
      await task.destroy();
    },
  };
}
