import { z } from 'zod';
import { section } from '../src/commanding/blocks.js';
import { message, UserError } from '../src/commanding/reply.js';
import { type CommandSpec, subcommand } from '../src/commanding/spec.js';
import { formatDuration } from '../src/core/duration.js';
import { parseWindow } from '../src/core/incidents/timeline.js';
import { channelRef } from '../src/messages/text.js';

export const incidentCommand: CommandSpec = {
  name: '/incident',
  summary: 'the incident as one story, for the post-mortem',
  subcommands: [
    subcommand({
      name: 'timeline',
      usage: 'timeline [since] [until]',
      summary:
        'share a Markdown post-mortem draft in the channel: the timeline from the bot records (alerts, pages, acks, silences, flag changes, rollbacks, runbook steps, approvals) with time to acknowledge and to mitigate. since/until: 2h, 90m, 1d back, or a UTC time like 2026-12-04T03:00Z; default the last 24 h',
      // It posts a file in the incident channel: operators only, like every other post on request.
      permission: 'operator',
      params: ['since', 'until'],
      args: z.object({ since: z.string().optional(), until: z.string().optional() }),
      async run(ctx, { since, until }) {
        const incidents = ctx.services.incidents;
        if (!incidents) throw new UserError('The incident timeline is not available in this setup.');
        const parsed = parseWindow(since, until, incidents.now());
        if (!parsed.ok) throw new UserError(`${parsed.error} Nothing was posted.`);
        const { draft, channel } = await incidents.share(parsed.window, ctx.user.id);
        const { durations } = draft;
        const took = [
          durations.timeToAcknowledge !== undefined &&
            `time to acknowledge ${formatDuration(durations.timeToAcknowledge)}`,
          durations.timeToMitigate !== undefined &&
            `time to mitigate ${formatDuration(durations.timeToMitigate)}`,
        ].filter(Boolean);
        const text = `:memo: Shared the post-mortem draft in ${channelRef(channel)}: ${draft.timeline.length} event${draft.timeline.length === 1 ? '' : 's'}${took.length ? `, ${took.join(', ')}` : ''}.`;
        return message(text, [section(text)]);
      },
    }),
  ],
};
