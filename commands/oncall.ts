import { z } from 'zod';
import { message, UserError } from '../src/commanding/reply.js';
import { type CommandSpec, subcommand } from '../src/commanding/spec.js';
import { renderOncall } from '../src/messages/oncall.js';

/** `/oncall`: who is on call now. A bare `/oncall` shows it (`default`). */
export const oncallCommand: CommandSpec = {
  name: '/oncall',
  summary:
    'who is on call: the escalation chain, who each tier reaches, who is paged next for each open sev1',
  default: 'show',
  subcommands: [
    subcommand({
      name: 'show',
      usage: 'show',
      summary:
        'the chain with role names, user groups resolved to members, and the next page of each open sev1 (also plain `/oncall`)',
      permission: 'anyone',
      params: [],
      args: z.object({}),
      async run(ctx) {
        const oncall = ctx.services.oncall;
        if (!oncall) throw new UserError('The escalation chain is not available here.');
        const view = renderOncall(await oncall.view());
        return message(view.text, view.blocks);
      },
    }),
  ],
};
