import { z } from 'zod';
import { context, escapeText, header, section } from '../src/commanding/blocks.js';
import { message, UserError } from '../src/commanding/reply.js';
import { type CommandContext, type CommandSpec, subcommand } from '../src/commanding/spec.js';
import { describeStep, findRunbook, type Runbook } from '../src/core/runbooks/runbook.js';
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
      async run(ctx) {
        const lines = catalogOf(ctx).map(
          (runbook) =>
            `• \`${runbook.name}\` — ${runbook.title}${runbook.alerts.length ? ` (alerts: ${runbook.alerts.join(', ')})` : ''}`,
        );
        return message(lines.join('\n'), [
          header('Runbooks'),
          section(lines.join('\n')),
          context('`/runbook show &lt;name&gt;` for the steps'),
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
      async run(ctx, { name }) {
        const runbook = requireRunbook(catalogOf(ctx), name);
        const steps = runbook.steps.map((step, index) => `${index + 1}. ${describeStep(step)}`);
        return message(`${runbook.title}\n${steps.join('\n')}`, [
          header(`Runbook: ${runbook.title}`),
          section(runbook.summary),
          section(steps.join('\n')),
        ]);
      },
    }),
    subcommand({
      name: 'run',
      usage: 'run <name>',
      summary: 'walk a runbook step by step in a thread in the channel, one message per step',
      permission: 'operator',
      params: ['name'],
      args: z.object({ name: z.string({ error: 'name a runbook, e.g. high-latency (see /runbook list)' }) }),
      async run(ctx, { name }) {
        const runs = ctx.services.runbooks;
        if (!runs) throw new UserError('Running runbooks is not available in this setup.');
        const runbook = requireRunbook(catalogOf(ctx), name);
        const outcome = await runs.start(runbook, ctx.user.id);
        if (outcome.kind === 'busy') {
          const text = `:warning: *${runbook.title}* is already in progress (started by <@${outcome.run.run.startedBy}>): <${outcome.link}|continue it in its thread>. One run of a runbook at a time; finish or skip its steps first, or \`/runbook abort ${runbook.name}\`.`;
          return message(text, [section(text)]);
        }
        const text = `:arrow_forward: Started *${runbook.title}*: <${outcome.link}|its steps are in the thread>.`;
        return message(text, [section(text)]);
      },
    }),
    subcommand({
      name: 'abort',
      usage: 'abort <name>',
      summary: 'end the run of a runbook in progress; its summary says it was aborted',
      permission: 'operator',
      params: ['name'],
      args: z.object({ name: z.string({ error: 'name the runbook whose run to abort, e.g. high-latency' }) }),
      async run(ctx, { name }) {
        const runs = ctx.services.runbooks;
        if (!runs) throw new UserError('Running runbooks is not available in this setup.');
        const runbook = requireRunbook(catalogOf(ctx), name);
        const outcome = await runs.abort(runbook, ctx.user.id);
        if (outcome.kind === 'none') {
          throw new UserError(
            `No run of *${escapeText(runbook.title)}* is in progress. Nothing was changed.`,
            `Start one with \`/runbook run ${runbook.name}\`.`,
          );
        }
        const text = `:no_entry_sign: Aborted the run of *${escapeText(runbook.title)}* (started by <@${outcome.run.run.startedBy}>): <${outcome.link}|its summary> says so. Nothing it already did was undone.`;
        return message(text, [section(text)]);
      },
    }),
  ],
};

/** The runbook a name or alert name stands for, or the error that lists the known ones. */
function requireRunbook(runbooks: readonly Runbook[], name: string): Runbook {
  const runbook = findRunbook(runbooks, name);
  if (!runbook) {
    throw new UserError(
      `There is no runbook \`${name.slice(0, 60)}\`.`,
      `Runbooks: ${runbooks.map((candidate) => candidate.name).join(', ')}.`,
    );
  }
  return runbook;
}

function catalogOf(ctx: CommandContext): readonly Runbook[] {
  return ctx.services.runbookCatalog ?? SEED_RUNBOOKS;
}
