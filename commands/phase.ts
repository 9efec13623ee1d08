import { z } from 'zod';
import { context, header, section } from '../src/commanding/blocks.js';
import { message } from '../src/commanding/reply.js';
import { type CommandSpec, subcommand } from '../src/commanding/spec.js';
import { phasePosition, SEED_PHASES } from '../src/core/phases/plan.js';

export const phaseCommand: CommandSpec = {
  name: '/phase',
  summary: 'where the phased rollout stands (Phase 0 Pre-Deployment → 3 Scale)',
  subcommands: [
    subcommand({
      name: 'status',
      usage: 'status',
      summary: 'the current phase, read from the live flags, and what the next one would switch on',
      permission: 'anyone',
      args: z.object({}),
      async run(ctx) {
        const { values } = await ctx.services.flags.snapshot();
        const position = phasePosition(SEED_PHASES, values, ctx.services.flags.catalog.defaults());
        const { current, next } = position;
        const lines = [
          `*Phase ${current.number} — ${current.name}* (${current.week}) is live: all of its flags are on.`,
          next
            ? `Next: *Phase ${next.number} — ${next.name}* would turn on ${position.toEnable.map((key) => `\`${key}\``).join(', ') || 'nothing new (its flags are already on)'}.`
            : 'This is the last phase of the plan.',
          position.ahead.length > 0
            ? `:warning: Ahead of plan: ${position.ahead.map((key) => `\`${key}\``).join(', ')} ${position.ahead.length === 1 ? 'is' : 'are'} on already.`
            : undefined,
        ].filter((line): line is string => line !== undefined);
        const checklist = (next ?? current).checklist.map((item) => `☐ ${item}`).join('\n');
        return message(lines.join('\n').replace(/[*`]/g, ''), [
          header(`Rollout: Phase ${current.number} — ${current.name}`),
          section(lines.join('\n')),
          section(
            `*${next ? `Phase ${next.number} checklist` : `Phase ${current.number} checklist`}*\n${checklist}`,
          ),
          context('The phase is derived from the live flag values, so a kill switch shows here at once.'),
        ]);
      },
    }),
  ],
};
