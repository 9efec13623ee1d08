import { z } from 'zod';
import {
  actorLabel,
  context,
  header,
  inlineCode,
  plain,
  section,
  slackDate,
} from '../src/commanding/blocks.js';
import { confirm, message, UserError } from '../src/commanding/reply.js';
import { type CommandContext, type CommandSpec, subcommand } from '../src/commanding/spec.js';
import { formatDuration } from '../src/core/duration.js';
import { FLAG_GROUPS, type FlagDefinition, type FlagGroup } from '../src/core/flags/catalog.js';
import { type DiffBase, diffFlags } from '../src/core/flags/diff.js';
import { resolveFlagName } from '../src/core/flags/names.js';
import type { FlagChange } from '../src/core/flags/rules.js';
import type { AuditEntry, FlagState } from '../src/core/flags/state.js';
import { parseTimedDuration, type TimedChange, type TimedChanges } from '../src/core/flags/timed.js';
import { SEED_PHASES } from '../src/core/phases/plan.js';

const reason = z.string().max(500, 'keep the reason under 500 characters').optional();
const flagName = z.string({ error: 'name a flag, e.g. adaptive_timing (see /flags list)' }).min(1);
/** `--for 2h`: the change reverts by itself after that long. */
const forDuration = z
  .string()
  .optional()
  .transform((text, zctx) => {
    if (text === undefined) return undefined;
    const parsed = parseTimedDuration(text);
    if (parsed.ok) return parsed.ms;
    zctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  });
const timedArgs = z.object({ flag: flagName, reason, for: forDuration });
const diffBase = z
  .string()
  .optional()
  .transform((text, zctx): DiffBase => {
    const base = (text ?? 'defaults').toLowerCase();
    if (base === 'defaults' || base === 'plan') return base;
    zctx.addIssue({
      code: 'custom',
      message: `compare with \`defaults\` or \`plan\`, not ${inlineCode(base.slice(0, 40))}`,
    });
    return z.NEVER;
  });

/** The kill switch, also offered as `/rollback flags`. */
export const killSwitch = subcommand({
  name: 'disable-all',
  usage: 'disable-all [reason]',
  summary: 'kill switch: every new feature off; baseline protections stay on',
  permission: 'operator',
  params: ['...reason'],
  args: z.object({ reason }),
  async run(ctx, args) {
    const changes = await ctx.services.flags.previewDisableAll();
    if (changes.length === 0) {
      return message(
        ':white_check_mark: Nothing to disable: every new feature is already off. Nothing was changed.',
      );
    }
    return confirm({
      title: `Turn off ${changes.length} new feature${changes.length === 1 ? '' : 's'}?`,
      details: changes.map((change) => `\`${change.key}\` on → off`),
      confirmLabel: `Disable ${changes.length} flag${changes.length === 1 ? '' : 's'}`,
      args,
      blocks: [
        context(
          'Baseline protections (safety, observability, timing fallback, concurrency control) stay as they are.',
        ),
      ],
    });
  },
  async confirmed(ctx, args) {
    const changes = await ctx.services.flags.disableAll(changeMeta(ctx, args.reason));
    if (changes.length === 0) {
      return message(
        ':white_check_mark: Nothing to disable: every new feature was already off. Nothing was changed.',
      );
    }
    return message(
      `:octagonal_sign: Kill switch: turned off ${changes.map((change) => `\`${change.key}\``).join(', ')}. Announced in the channel.`,
    );
  },
});

export const flagsCommand: CommandSpec = {
  name: '/flags',
  summary: 'see and change the messaging system’s feature flags; `disable-all` is the kill switch',
  subcommands: [
    subcommand({
      name: 'list',
      usage: 'list [group]',
      summary: 'all flags, grouped, with who changed them last',
      permission: 'anyone',
      params: ['group'],
      args: z.object({ group: z.string().optional() }),
      async run(ctx, { group }) {
        const wanted = group ? parseGroup(group) : undefined;
        const state = await ctx.services.flags.snapshot();
        const timed = await ctx.services.flags.pendingTimed();
        const catalog = ctx.services.flags.catalog;
        const groups = wanted ? [wanted] : FLAG_GROUPS;
        const on = catalog.flags.filter((flag) => state.values[flag.key]).length;
        const blocks = [
          header(`Feature flags — ${on} of ${catalog.flags.length} on`),
          ...groups.map((name) =>
            section(
              `*${name}*\n${catalog
                .inGroup(name)
                .map((flag) => flagLine(flag, state, timed))
                .join('\n')}`,
            ),
          ),
          context(
            '`/flags get &lt;flag&gt;` for details · `/flags enable|disable &lt;flag&gt; [--for 2h] [reason]` · `/flags diff` · `/flags disable-all` kill switch',
          ),
        ];
        const text = groups
          .map(
            (name) =>
              `${name}: ${catalog
                .inGroup(name)
                .map((f) => `${f.key}=${state.values[f.key] ? 'on' : 'off'}`)
                .join(', ')}`,
          )
          .join('\n');
        return message(`Feature flags — ${on} of ${catalog.flags.length} on\n${text}`, blocks);
      },
    }),
    subcommand({
      name: 'get',
      usage: 'get <flag>',
      summary: 'one flag: value, default, rules, last change',
      permission: 'anyone',
      params: ['flag'],
      args: z.object({ flag: flagName }),
      async run(ctx, args) {
        const flag = resolveFlag(ctx, args.flag);
        const state = await ctx.services.flags.snapshot();
        const last = state.lastChange[flag.key];
        const timed = pendingFor(await ctx.services.flags.pendingTimed(), flag.key);
        const lines = [
          `${mark(state.values[flag.key])} *${flag.key}* is *${onOff(state.values[flag.key])}* (default ${onOff(flag.defaultEnabled)})`,
          flag.description,
          `Env var / ConfigMap key: \`${flag.envVar}\` · group: ${flag.group}${flag.safety ? ' · :shield: safety flag' : ''}`,
          flag.requires.length ? `Needs: ${flag.requires.map((k) => `\`${k}\``).join(', ')}` : undefined,
          flag.conflictsWith.length
            ? `Excludes: ${flag.conflictsWith.map((k) => `\`${k}\``).join(', ')}`
            : undefined,
          last
            ? `Last change: ${slackDate(last.at)} by ${actorLabel(last.by, last.via)}${last.reason ? ` — “${plain(last.reason, 200)}”` : ''}`
            : 'Never changed since the bot started keeping records.',
          timed ? revertLine(timed, flag.key) : undefined,
        ].filter(Boolean);
        return message(lines.join('\n').replace(/[*`]/g, ''), [section(lines.join('\n'))]);
      },
    }),
    subcommand({
      name: 'enable',
      usage: 'enable <flag> [--for <duration>] [reason]',
      summary: 'turn a flag on; with `--for 2h` it goes back off by itself after 2 hours',
      permission: 'operator',
      params: ['flag', '...reason'],
      options: ['for'],
      args: timedArgs,
      run: (ctx, args) => setFlag(ctx, args.flag, true, args.reason, false, args.for),
    }),
    subcommand({
      name: 'disable',
      usage: 'disable <flag> [--for <duration>] [reason]',
      summary:
        'turn a flag off (and what depends on it); safety flags ask first; `--for 2h` turns it back on after 2 hours',
      permission: 'operator',
      params: ['flag', '...reason'],
      options: ['for'],
      args: timedArgs,
      run: (ctx, args) => setFlag(ctx, args.flag, false, args.reason, false, args.for),
      confirmed: (ctx, args) => setFlag(ctx, args.flag, false, args.reason, true, args.for),
    }),
    killSwitch,
    subcommand({
      name: 'diff',
      usage: 'diff [defaults|plan]',
      summary:
        'flags that differ from the seed defaults (or from the current phase’s plan), with who changed them and when',
      permission: 'anyone',
      params: ['base'],
      args: z.object({ base: diffBase }),
      async run(ctx, { base }) {
        const state = await ctx.services.flags.snapshot();
        const timed = await ctx.services.flags.pendingTimed();
        const diff = diffFlags(ctx.services.flags.catalog, SEED_PHASES, state.values, base);
        const against =
          base === 'defaults'
            ? 'the seed defaults'
            : `the plan of phase ${diff.phase!.number} (${plain(diff.phase!.name, 80)})`;
        if (diff.differences.length === 0) {
          return message(
            `:white_check_mark: Every flag is as ${against} say${base === 'defaults' ? '' : 's'}.`,
          );
        }
        const lines = diff.differences.map((entry) => {
          const last = state.lastChange[entry.key];
          const who = last
            ? ` — ${actorLabel(last.by, last.via)} ${slackDate(last.at)}${last.reason ? ` “${plain(last.reason, 120)}”` : ''}`
            : ' — not changed since records began';
          const pending = pendingFor(timed, entry.key);
          const reverts = pending ? ` · :hourglass_flowing_sand: reverts ${slackDate(pending.revertAt)}` : '';
          return `${mark(entry.value)} \`${entry.key}\` is *${onOff(entry.value)}*, ${base === 'defaults' ? 'default' : 'plan'} ${onOff(entry.expected)}${who}${reverts}`;
        });
        const title = `${diff.differences.length} flag${diff.differences.length === 1 ? '' : 's'} differ${diff.differences.length === 1 ? 's' : ''} from ${against}`;
        return message(`${title}\n${lines.join('\n')}`, [
          header(title.replace(/[*`]/g, '')),
          // A section holds 3,000 characters: a few lines each, never a line cut in half.
          ...chunks(lines, 2_900).map((chunk) => section(chunk.join('\n'))),
          context(
            base === 'defaults'
              ? '`/flags diff plan` compares with the current phase’s plan.'
              : '`/flags diff` compares with the seed defaults.',
          ),
        ]);
      },
    }),
    subcommand({
      name: 'history',
      usage: 'history [flag]',
      summary: 'the last changes, from the audit log',
      permission: 'anyone',
      params: ['flag'],
      args: z.object({ flag: z.string().optional() }),
      async run(ctx, args) {
        const flag = args.flag ? resolveFlag(ctx, args.flag) : undefined;
        const entries = await ctx.services.flags.history(flag?.key, 20);
        if (entries.length === 0) return message(`No changes recorded${flag ? ` for ${flag.key}` : ''} yet.`);
        const lines = entries.map(historyLine);
        return message(lines.join('\n'), [
          header(`Flag history${flag ? ` — ${flag.key}` : ''}`),
          section(lines.join('\n')),
          context(`Newest first; the ${entries.length} most recent.`),
        ]);
      },
    }),
  ],
};

async function setFlag(
  ctx: CommandContext,
  name: string,
  enabled: boolean,
  reason?: string,
  confirmed = false,
  forMs?: number,
) {
  const flag = resolveFlag(ctx, name);
  const result = await ctx.services.flags.set(flag.key, enabled, changeMeta(ctx, reason), confirmed, forMs);
  switch (result.status) {
    case 'unchanged':
      return message(`${mark(enabled)} \`${flag.key}\` is already ${onOff(enabled)}. Nothing was changed.`);
    case 'refused':
      throw new UserError(`${result.error} Nothing was changed.`, `To fix: ${result.hint}`);
    case 'needs-confirmation':
      return confirm({
        title: `Turn off ${result.changes.map((change) => `\`${change.key}\``).join(', ')}?`,
        details: [
          result.why,
          ...result.changes.map((change) => `\`${change.key}\` on → off`),
          ...(forMs === undefined ? [] : [`For ${formatDuration(forMs)}, then back on by itself.`]),
        ],
        confirmLabel: `Disable ${flag.key}`,
        args: { flag: flag.key, reason, for: forMs },
      });
    case 'changed': {
      const timed =
        result.revertAt !== undefined
          ? ` It goes back ${onOff(!enabled)} by itself ${slackDate(result.revertAt)} (in ${formatDuration(forMs ?? 0)}) unless someone changes it before.`
          : '';
      return message(
        `${mark(enabled)} Done: ${describeChanges(result.changes)}. Announced in the channel.${timed}`,
      );
    }
  }
}

function changeMeta(ctx: CommandContext, reason?: string) {
  return { actor: ctx.user, via: 'slack' as const, reason, correlationId: ctx.correlationId };
}

function resolveFlag(ctx: CommandContext, name: string): FlagDefinition {
  const resolved = resolveFlagName(ctx.services.flags.catalog, name);
  if (resolved.ok) return resolved.flag;
  const shown = inlineCode(name.slice(0, 60));
  if (resolved.suggestion) {
    throw new UserError(
      `There is no flag ${shown}. Did you mean \`${resolved.suggestion.key}\`?`,
      'See `/flags list` for all flags.',
    );
  }
  throw new UserError(`There is no flag ${shown}.`, 'See `/flags list` for all flags.');
}

function parseGroup(name: string): FlagGroup {
  const group = FLAG_GROUPS.find((candidate) => candidate === name.toLowerCase());
  if (!group)
    throw new UserError(
      `There is no flag group ${inlineCode(name.slice(0, 40))}. Groups: ${FLAG_GROUPS.join(', ')}.`,
    );
  return group;
}

function flagLine(flag: FlagDefinition, state: FlagState, timed: TimedChanges): string {
  const value = state.values[flag.key] ?? flag.defaultEnabled;
  const last = state.lastChange[flag.key];
  const changed = last ? ` · ${actorLabel(last.by, last.via)} ${slackDate(last.at)}` : '';
  const nonDefault = value !== flag.defaultEnabled ? ' _(not default)_' : '';
  const pending = pendingFor(timed, flag.key);
  const reverts = pending ? ` · :hourglass_flowing_sand: reverts ${slackDate(pending.revertAt)}` : '';
  return `${mark(value)} \`${flag.key}\` ${onOff(value)}${nonDefault}${flag.safety ? ' :shield:' : ''}${changed}${reverts}`;
}

/** Lines grouped so that each group, joined by newlines, stays within `max` characters. */
function chunks(lines: readonly string[], max: number): string[][] {
  const groups: string[][] = [];
  let size = 0;
  for (const line of lines) {
    const current = groups.at(-1);
    if (current && size + line.length + 1 <= max) {
      current.push(line);
      size += line.length + 1;
    } else {
      groups.push([line]);
      size = line.length;
    }
  }
  return groups;
}

/** The pending timed change that would change this flag back (its own, or one that cascaded to it). */
function pendingFor(timed: TimedChanges, key: string): TimedChange | undefined {
  return timed[key] ?? Object.values(timed).find((change) => change.changes.some((part) => part.key === key));
}

function revertLine(timed: TimedChange, key: string): string {
  const back = timed.changes.find((part) => part.key === key)?.from;
  return `:hourglass_flowing_sand: Timed change: goes back ${onOff(back)} by itself ${slackDate(timed.revertAt)} (set ${slackDate(timed.setAt)} by ${actorLabel(timed.by, timed.via)} for ${formatDuration(timed.revertAt - timed.setAt)}) unless changed before.`;
}

function historyLine(entry: AuditEntry): string {
  const why = entry.reason ? ` — “${plain(entry.reason, 120)}”` : '';
  return `${slackDate(entry.at)} · ${actorLabel(entry.actor, entry.via)}: \`${entry.flag}\` ${onOff(entry.before)} → ${onOff(entry.after)} (${entry.action})${why}`;
}

export function describeChanges(changes: readonly FlagChange[]): string {
  return changes.map((change) => `\`${change.key}\` ${onOff(change.to)}`).join(', ');
}

const mark = (value: boolean | undefined) => (value ? ':large_green_circle:' : ':white_circle:');
const onOff = (value: boolean | undefined) => (value ? 'on' : 'off');
