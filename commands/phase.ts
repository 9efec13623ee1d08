import { z } from 'zod';
import {
  context,
  escapeText,
  header,
  mention,
  plain,
  renderChecklist,
  section,
} from '../src/commanding/blocks.js';
import { type MessageReply, message, UserError } from '../src/commanding/reply.js';
import { type CommandContext, type CommandSpec, subcommand } from '../src/commanding/spec.js';
import { checklistsInForce } from '../src/core/phases/checklists.js';
import { phasePosition, SEED_PHASES } from '../src/core/phases/plan.js';
import type { PhaseRequest, PhaseService } from '../src/services/phase-service.js';
import { permalink } from '../src/services/runbook-service.js';

export const phaseCommand: CommandSpec = {
  name: '/phase',
  summary:
    'where the phased rollout stands (Phase 0 Pre-Deployment → 3 Scale), and advancing it with approvals',
  subcommands: [
    subcommand({
      name: 'status',
      usage: 'status',
      summary:
        'the current phase, read from the live flags, its objectives and its checklist (tick items: operators and approvers), and what the next one would switch on',
      permission: 'anyone',
      args: z.object({}),
      run: (ctx) => phaseStatus(ctx),
    }),
    subcommand({
      name: 'advance',
      usage: 'advance [--override] [reason]',
      summary:
        "ask for approval to go to the next phase: approvers react with ✅; at the quorum the gate checks run and its flags go on. Needs the current phase's checklist all ticked, or `--override <reason>` (recorded)",
      permission: 'operator',
      params: ['...reason'],
      args: z
        .object({ reason: z.string().max(500, 'keep the reason under 500 characters').optional() })
        .transform(({ reason }) => {
          // `--override` anywhere in the line: the reason is then also why unticked items do not hold it up.
          const words = (reason ?? '').split(/\s+/).filter((word) => word !== '');
          const override = words.some((word) => word.toLowerCase() === '--override');
          const rest = words.filter((word) => word.toLowerCase() !== '--override').join(' ');
          return { reason: rest === '' ? undefined : rest, override };
        }),
      async run(ctx, args) {
        if (args.override && !args.reason) {
          throw new UserError(
            'An override needs its reason, e.g. `/phase advance --override stakeholder approval given by mail`. Nothing was asked for.',
          );
        }
        const outcome = await requirePhases(ctx).request(ctx.user.id, args.reason, {
          override: args.override,
        });
        if (outcome.kind === 'refused') throw new UserError(`${outcome.error} Nothing was asked for.`);
        if (outcome.kind === 'unticked') {
          const items = outcome.unticked.map((item) => `☐ ${plain(item, 100)}`).join('\n');
          throw new UserError(
            `${escapeText(outcome.title)} has ${outcome.unticked.length} item${outcome.unticked.length === 1 ? '' : 's'} not ticked:\n${items}\nTick them in \`/phase status\`, or go ahead anyway with \`/phase advance --override <reason>\` (the reason is recorded). Nothing was asked for.`,
          );
        }
        const { request, link } = outcome;
        if (outcome.kind === 'busy') {
          return message(
            `A phase advance (Phase ${request.from.number} → ${request.to.number}, requested by ${mention(request.requester)}) is already waiting for approval: <${link}|the request>. One at a time: the requester or an operator can end it with \`/phase cancel\`; a new request replaces it once it is older than \`phases.requestTimeout\`.`,
          );
        }
        const lines = [
          `:raised_hand: Asked for approval in the channel: <${link}|Phase ${request.from.number} → ${request.to.number}>. It needs ${request.required} approval${request.required === 1 ? '' : 's'} (✅) from approvers other than you; then the gate checks run.`,
          ...(outcome.superseded
            ? [
                `It replaces the request by ${mention(outcome.superseded.requester)} from ${outcome.superseded.requestedAt.slice(0, 16).replace('T', ' ')} UTC, which was open past \`phases.requestTimeout\`.`,
              ]
            : []),
          ...(request.gateWarnings ?? []).map(
            (warning) => `:warning: Cannot be evaluated: ${plain(warning, 500)}`,
          ),
          ...(request.checklist?.override
            ? [
                `:warning: Going ahead with ${request.checklist.unticked.length} unticked item${request.checklist.unticked.length === 1 ? '' : 's'} of the ${escapeText(request.checklist.title)} (${request.checklist.unticked.map((item) => `“${plain(item, 100)}”`).join(', ')}); your override reason is recorded.`,
              ]
            : []),
        ];
        return message(lines.join('\n'));
      },
    }),
    subcommand({
      name: 'cancel',
      usage: 'cancel [reason]',
      summary: 'end the open phase advance request (the requester or an operator); nothing is changed',
      // Checked by the use-case against the request: its requester, or an operator.
      permission: 'anyone',
      params: ['...reason'],
      args: z.object({ reason: z.string().max(500, 'keep the reason under 500 characters').optional() }),
      async run(ctx, args) {
        const outcome = await requirePhases(ctx).cancel(ctx.user.id, args.reason);
        switch (outcome.kind) {
          case 'none':
            return message('There is no open phase advance request to cancel. Nothing was changed.');
          case 'refused':
            throw new UserError(
              `Only the requester (${mention(outcome.request.requester)}) or an operator may cancel <${outcome.link}|this request>. Nothing was changed.`,
            );
          case 'checking':
            throw new UserError(
              `<${outcome.link}|The request> has its approvals and its gate checks are running: it can no longer be cancelled. Nothing was changed.`,
            );
          case 'cancelled':
            return message(
              `:no_entry_sign: Cancelled <${outcome.link}|the phase advance request> (Phase ${outcome.request.from.number} → ${outcome.request.to.number}). Nothing was changed; a new one can be asked for with \`/phase advance\`.`,
            );
        }
      },
    }),
    subcommand({
      name: 'history',
      usage: 'history',
      summary: 'the last phase advance requests and how they ended',
      permission: 'anyone',
      args: z.object({}),
      async run(ctx) {
        const requests = (await requirePhases(ctx).list()).slice(-10).reverse();
        if (requests.length === 0) return message('No phase advance has been asked for yet.');
        const lines = requests.map(historyLine);
        return message(`Phase advances, newest first:\n${lines.join('\n')}`, [
          header('Phase advances'),
          section(lines.join('\n')),
        ]);
      },
    }),
  ],
};

/**
 * `/phase status`: the live phase, its objectives, its checklist as checkboxes (and the
 * Post-Deployment one at the last phase), and what the next phase would turn on. A tick re-renders
 * this same view (see src/interactions/checklists.ts).
 */
export async function phaseStatus(ctx: CommandContext, note?: string): Promise<MessageReply> {
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
  const objectives = current.objectives.map((objective) => `• ${plain(objective, 200)}`).join('\n');
  const checklists = ctx.services.checklists;
  let unreadable: string | undefined;
  const views = checklists
    ? await checklists
        .views(checklistsInForce(checklists.all, current, next === undefined))
        .catch((error: unknown) => {
          // The status still shows; the advance, which needs the checklist, fails closed on its own.
          unreadable = error instanceof Error ? error.message : String(error);
          return [];
        })
    : [];
  const fallback = views.map(
    (view) =>
      `${view.title}: ${view.items.map((item) => `${item.tick ? '☑' : '☐'} ${item.text}`).join('; ') || 'nothing to tick'}`,
  );
  return message(
    [lines.join('\n').replace(/[*`]/g, ''), `Objectives: ${current.objectives.join('; ')}`, ...fallback].join(
      '\n',
    ),
    [
      header(`Rollout: Phase ${current.number} — ${current.name}`),
      ...(note ? [section(note)] : []),
      section(lines.join('\n')),
      section(`*Phase ${current.number} objectives*\n${objectives}`),
      ...views.flatMap(renderChecklist),
      ...(unreadable
        ? [section(`:warning: The checklists cannot be read just now: ${plain(unreadable, 300)}`)]
        : []),
      context(
        next
          ? `The phase is derived from the live flag values, so a kill switch shows here at once. \`/phase advance\` needs this checklist all ticked, or \`--override <reason>\`. Operators and approvers may tick.`
          : 'The phase is derived from the live flag values, so a kill switch shows here at once. Operators and approvers may tick.',
      ),
    ],
  );
}

function requirePhases(ctx: CommandContext): PhaseService {
  const phases = ctx.services.phases;
  if (!phases) throw new UserError('Phase advances are not available in this setup. Nothing was changed.');
  return phases;
}

function historyLine(request: PhaseRequest): string {
  const approvals =
    request.approvals.length > 0 ? `, approved by ${request.approvals.map(mention).join(', ')}` : '';
  const link = request.ts ? ` <${permalink(request)}|request>` : '';
  const override = request.checklist?.override
    ? `; checklist overridden with ${request.checklist.unticked.length} unticked`
    : '';
  return `• ${request.requestedAt.slice(0, 16).replace('T', ' ')} Phase ${request.from.number} → ${request.to.number}: ${request.status} — by ${mention(request.requester)}${request.reason ? ` (“${plain(request.reason, 80)}”)` : ''}${approvals}${override}.${link}`;
}
