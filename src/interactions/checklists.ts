import { z } from 'zod';
import { type Reply, UserError } from '../commanding/reply.js';
import type { CommandContext } from '../commanding/spec.js';
import { CHECKLIST_ACTIONS, CHECKLIST_BLOCK_PREFIX } from '../messages/action-ids.js';
import type { ChecklistService } from '../services/checklist-service.js';
import { type InteractionInput, type InteractionSpec, interaction } from './spec.js';

/** `checklist:<checklist id>:<mask of the ticks the message showed>`, and the item ids selected. */
const clickArgs = z
  .object({
    blockId: z
      .string({ error: 'this click names no checklist' })
      .max(255)
      .regex(
        new RegExp(`^${CHECKLIST_BLOCK_PREFIX}:([a-z0-9-]{1,40}):([01]{0,10})$`),
        'this click names no checklist',
      ),
    selected: z
      .array(z.string().regex(/^[0-9a-f]{8}$/, 'not a checklist item'))
      .max(10, 'too many items')
      .default([]),
  })
  .transform(({ blockId, selected }) => {
    const [, checklist = '', mask = ''] = blockId.split(':');
    return { checklist, mask, selected };
  }) as unknown as z.ZodType<{ checklist: string; mask: string; selected: string[] }, InteractionInput>;

export interface ChecklistInteractionDeps {
  checklists: ChecklistService;
  /** `/phase status` as a reply (commands/phase.ts), with a note on top when given. */
  status(ctx: CommandContext, note?: string): Promise<Reply>;
}

/**
 * A click on a checklist's checkboxes (in `/phase status`): records who ticked or unticked which
 * item and when, then shows the checklist again as it now stands (replacing the message clicked).
 */
export function checklistInteractions({ checklists, status }: ChecklistInteractionDeps): InteractionSpec[] {
  return [
    interaction({
      kind: 'action',
      id: CHECKLIST_ACTIONS.toggle,
      group: 'phase',
      name: 'checklist',
      // Operators and approvers: the people who run and sign off the rollout; checked on every click.
      permission: 'operator-or-approver',
      replaceOriginal: true,
      confirm: 'never',
      args: clickArgs,
      async run(ctx, { checklist, mask, selected }) {
        const outcome = await checklists.click(ctx.user.id, checklist, mask, selected);
        if (outcome.kind === 'stale') {
          if (!checklists.find(checklist))
            throw new UserError('This checklist no longer exists. Nothing was recorded.');
          return status(
            ctx,
            ':warning: This checklist changed since that message was shown; nothing was recorded. Here it is as it stands now.',
          );
        }
        return status(ctx);
      },
    }),
  ];
}
