import { z } from 'zod';
import { APPROVE_REACTION, type PhaseService } from '../services/phase-service.js';
import { type InteractionSpec, interaction } from './spec.js';

const reactionArgs = z.object({
  item: z.object({ channel: z.string().min(1), ts: z.string().min(1) }),
  added: z.boolean(),
});

/**
 * ✅ on a phase advance request approves it; removing it withdraws the approval. Approvers only
 * (a refusal has nobody to answer: it is counted and logged). The requester never counts, a rule
 * of the quorum that the phase service applies. Other reactions are not routed at all.
 */
export function phaseApprovalInteractions(phases: PhaseService): InteractionSpec[] {
  return [
    interaction({
      kind: 'reaction',
      id: APPROVE_REACTION,
      group: 'phase',
      name: 'approval',
      permission: 'approver',
      confirm: 'never',
      args: reactionArgs,
      async run(ctx, { item, added }) {
        await phases.reaction({
          user: ctx.user.id,
          reaction: APPROVE_REACTION,
          channel: item.channel,
          ts: item.ts,
          added,
        });
        return undefined;
      },
    }),
  ];
}
