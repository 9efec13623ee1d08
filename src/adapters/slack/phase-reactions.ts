import type { App } from '@slack/bolt';
import type { Logger } from '../../logger.js';
import type { PhaseService } from '../../services/phase-service.js';

export interface PhaseReactionDeps {
  phases: PhaseService;
  log: Logger;
  /** Work still running after the ack; shutdown waits for it. */
  track: <T>(work: Promise<T>) => Promise<T>;
}

interface ReactionPayload {
  user?: string;
  reaction?: string;
  item?: { type?: string; channel?: string; ts?: string };
}

/**
 * ✅ on a phase advance request approves it; removing the ✅ withdraws the approval. Slack retries
 * (`X-Slack-Retry-Num`) and duplicate events are harmless: an approver counts once.
 */
export function registerPhaseReactions(app: App, deps: PhaseReactionDeps): void {
  const on =
    (added: boolean) =>
    async ({ event }: { event: ReactionPayload }) => {
      const { user, reaction, item } = event;
      if (!user || !reaction || item?.type !== 'message' || !item.channel || !item.ts) return;
      try {
        await deps.track(deps.phases.reaction({ user, reaction, channel: item.channel, ts: item.ts, added }));
      } catch (error) {
        deps.log.error({ err: error, user, added }, 'phase approval reaction failed');
      }
      // Tests wait for this line as proof that an ignored reaction was looked at.
      deps.log.debug({ user, reaction, added }, 'phase reaction handled');
    };
  app.event('reaction_added', on(true));
  app.event('reaction_removed', on(false));
}
