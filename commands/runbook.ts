import { z } from 'zod';
import { context, header, section } from '../src/commanding/blocks.js';
import { message, UserError } from '../src/commanding/reply.js';
import { type CommandSpec, subcommand } from '../src/commanding/spec.js';
import { describeStep, findRunbook } from '../src/core/runbooks/runbook.js';
import { SEED_RUNBOOKS } from '../src/core/runbooks/seed.js';

export const runbookCommand: CommandSpec = {
  name: '/runbook',
  summary: 'the incident runbooks, step by step',
  subcommands: [
    subcommand({
      name: 'list',
      usage: 'list',
      summary: 'every runbook and the alerts it answers',
      permission: 'anyone',
      args: z.object({}),
      async run() {
        const lines = SEED_RUNBOOKS.map(
          (runbook) =>
            `• \`${runbook.name}\` — ${runbook.title}${runbook.alerts.length ? ` (alerts: ${runbook.alerts.join(', ')})` : ''}`,
        );
        return message(lines.join('\n'), [
          header('Runbooks'),
          section(lines.join('\n')),
          context('`/runbook show <name>` for the steps'),
        ]);
      },
    }),
    subcommand({
      name: 'show',
      usage: 'show <name>',
      summary: 'the steps of one runbook',
      permission: 'anyone',
      params: ['name'],
      args: z.object({ name: z.string({ error: 'name a runbook, e.g. high-latency (see /runbook list)' }) }),
      async run(_ctx, { name }) {
        const runbook = findRunbook(SEED_RUNBOOKS, name);
        if (!runbook) {
          throw new UserError(
            `There is no runbook \`${name.slice(0, 60)}\`.`,
            `Runbooks: ${SEED_RUNBOOKS.map((candidate) => candidate.name).join(', ')}.`,
          );
        }
        const steps = runbook.steps.map((step, index) => `${index + 1}. ${describeStep(step)}`);
        return message(`${runbook.title}\n${steps.join('\n')}`, [
          header(`Runbook: ${runbook.title}`),
          section(runbook.summary),
          section(steps.join('\n')),
        ]);
      },
    }),
  ],
};
