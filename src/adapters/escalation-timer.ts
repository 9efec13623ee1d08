import cron from 'node-cron';
import type { Logger } from '../logger.js';

/** Housekeeping run on the same tick, at most once per `everyMs` (and on the first tick). */
export interface TimerSweep {
  run: () => Promise<number>;
  everyMs: number;
}

/**
 * Ticks every second (no overlap): each tick fires the escalations now due, then, when it is time,
 * runs the sweep (forgetting expired alert groups).
 */
export function startEscalationTimer(
  escalate: () => Promise<number>,
  log: Logger,
  sweep?: TimerSweep,
  now: () => number = Date.now,
): { stop(): Promise<void> } {
  let lastSweep: number | undefined;
  const task = cron.schedule(
    '* * * * * *',
    async () => {
      try {
        const fired = await escalate();
        if (fired > 0) log.info({ fired }, 'escalation tiers due: queued');
      } catch (error) {
        log.error({ err: error }, 'escalation tick failed');
      }
      if (!sweep || (lastSweep !== undefined && now() - lastSweep < sweep.everyMs)) return;
      lastSweep = now();
      try {
        const forgotten = await sweep.run();
        if (forgotten > 0) log.info({ forgotten }, 'resolved alert groups past retention: forgotten');
      } catch (error) {
        log.error({ err: error }, 'alert retention sweep failed');
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
