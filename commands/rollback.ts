import { z } from 'zod';
import { context, escapeText, header, plain, section, slackDate } from '../src/commanding/blocks.js';
import { confirm, message, UserError } from '../src/commanding/reply.js';
import { type CommandContext, type CommandSpec, subcommand } from '../src/commanding/spec.js';
import { formatDuration } from '../src/core/duration.js';
import type { FlagChange } from '../src/core/flags/rules.js';
import { planPhaseRollback, SEED_PHASES } from '../src/core/phases/plan.js';
import { reentryWarning, skippedLine } from '../src/messages/rollback.js';
import { ClusterError } from '../src/ports/cluster.js';
import type { PlanResult, RevisionSummary, StartResult } from '../src/services/rollback-service.js';
import type { ClusterServices } from '../src/services/services.js';
import { killSwitch } from './flags.js';

const reason = z.string().max(500, 'keep the reason under 500 characters').optional();

const deploymentArgs = z.object({
  name: z
    .string()
    .max(253, 'a Deployment name has at most 253 characters')
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a Deployment name, e.g. messaging-core')
    .optional(),
  toRevision: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, 'expected a revision number, e.g. --to-revision 3')
    .transform(Number)
    .optional(),
  reason,
  /** Set by the confirmation only: what the operator saw and agreed to. */
  expect: z.object({ revision: z.number(), current: z.string() }).optional(),
});

export const rollbackCommand: CommandSpec = {
  name: '/rollback',
  summary:
    'undo a bad change: a Deployment (as `kubectl rollout undo`), the flags, the last phase, or all of it',
  subcommands: [
    subcommand({
      name: 'deployment',
      usage: 'deployment <name> [--to-revision N] [reason]',
      summary:
        'roll a Deployment back to its previous revision (or N) and follow the rollout in a thread; no name lists them',
      permission: 'operator',
      params: ['name', '...reason'],
      options: ['to-revision'],
      args: deploymentArgs,
      async run(ctx, args) {
        const cluster = requireCluster(ctx);
        if (!args.name) return listDeployments(cluster);
        const planned = await clusterCall(() => cluster.rollback.plan(args.name!, args.toRevision ?? 0));
        if (planned.kind !== 'ready') throw refusal(planned, cluster.namespace);
        const { plan } = planned;
        const now = cluster.rollback.now().getTime();
        const window = cluster.rollback.reentryWindowMs;
        const skipped = skippedLine(plan.skipped, window, now);
        const warning = plan.reentry
          ? reentryWarning(plan.target.revision, plan.target.images, plan.reentry, now)
          : undefined;
        const kubectl = `kubectl rollout undo deployment/${plan.deployment} --to-revision=${plan.target.revision} -n ${cluster.namespace}`;
        return confirm({
          title: `Roll back ${plan.deployment} from revision ${plan.current.revision ?? '?'} to revision ${plan.target.revision}?`,
          details: [
            `Now: ${revisionLine(plan.current, now)}`,
            `After: ${revisionLine(plan.target, now)}`,
            ...(skipped ? [skipped] : []),
            ...(warning ? [warning] : []),
            args.reason ? `Reason: “${plain(args.reason, 200)}”` : 'No reason given.',
          ],
          confirmLabel: `Roll back to revision ${plan.target.revision}`,
          args: {
            ...args,
            expect: { revision: plan.target.revision, current: String(plan.current.revision ?? '?') },
          },
          blocks: [
            context(
              `Same as \`${kubectl}\`. I follow the rollout in a thread in the channel, with pods and logs at the end.`,
            ),
          ],
        });
      },
      async confirmed(ctx, args) {
        const cluster = requireCluster(ctx);
        if (!args.name || !args.expect)
          throw new UserError('This confirmation is incomplete; run the command again.');
        const { name, expect } = args;
        const result = await clusterCall(() =>
          cluster.rollback.start(name, expect.revision, expect.current, ctx.user.id, args.reason),
        );
        return startedReply(result, cluster.namespace);
      },
    }),
    {
      ...killSwitch,
      name: 'flags',
      usage: 'flags [reason]',
      summary: 'the kill switch, as `/flags disable-all`: every new feature off',
    },
    subcommand({
      name: 'phase',
      usage: 'phase [reason]',
      summary: 'back to the previous phase: the new features the current phase turned on go off',
      permission: 'operator',
      params: ['...reason'],
      args: z.object({ reason }),
      async run(ctx, args) {
        const { catalog } = ctx.services.flags;
        const plan = planPhaseRollback(SEED_PHASES, catalog, (await ctx.services.flags.snapshot()).values);
        if (!plan) {
          return message(
            'Already at Phase 0 — Pre-Deployment: there is no earlier phase. Nothing was changed.',
          );
        }
        return confirm({
          title: `Roll back from Phase ${plan.from.number} — ${plan.from.name} to Phase ${plan.to.number} — ${plan.to.name}?`,
          details: plan.changes.map((change) => `\`${change.key}\` on → off`),
          confirmLabel: `Back to Phase ${plan.to.number}`,
          args,
          blocks: [
            context(
              'Baseline flags the phase lists (observability, concurrency control) stay on. Deployments are not touched: `/rollback deployment &lt;name&gt;` or `/rollback all` for those.',
            ),
          ],
        });
      },
      async confirmed(ctx, args) {
        const { catalog } = ctx.services.flags;
        let target: string | undefined;
        const changes = await ctx.services.flags.changeWith(
          (values) => {
            const plan = planPhaseRollback(SEED_PHASES, catalog, values);
            target = plan && `Phase ${plan.to.number} — ${plan.to.name}`;
            return plan?.changes ?? [];
          },
          'phase',
          { actor: ctx.user, via: 'slack', reason: args.reason, correlationId: ctx.correlationId },
        );
        if (!target || changes.length === 0) {
          return message(
            'Nothing to roll back: the phase changed since you asked. Nothing was changed; see `/phase status`.',
          );
        }
        return message(`:rewind: Back to ${target}: turned off ${keys(changes)}. Announced in the channel.`);
      },
    }),
    subcommand({
      name: 'all',
      usage: 'all [reason]',
      summary: 'everything: the kill switch, then each listed Deployment back one revision',
      permission: 'operator',
      params: ['...reason'],
      args: z.object({
        reason,
        /** Set by the confirmation only: the rollbacks the operator saw and agreed to. */
        expect: z.array(z.object({ name: z.string(), revision: z.number(), current: z.string() })).optional(),
      }),
      async run(ctx, args) {
        const flagChanges = await ctx.services.flags.previewDisableAll();
        const cluster = ctx.services.cluster;
        const details = flagChanges.map((change) => `flag \`${change.key}\` on → off`);
        const expect: Array<{ name: string; revision: number; current: string }> = [];
        if (cluster) {
          const now = cluster.rollback.now().getTime();
          const window = cluster.rollback.reentryWindowMs;
          for (const name of ctx.services.rollbackDeployments ?? []) {
            const planned = await clusterCall(() => cluster.rollback.plan(name, 0));
            if (planned.kind === 'ready') {
              const { plan } = planned;
              expect.push({
                name,
                revision: plan.target.revision,
                current: String(plan.current.revision ?? '?'),
              });
              const skipped = skippedLine(plan.skipped, window, now);
              details.push(
                `Deployment \`${name}\` revision ${plan.current.revision ?? '?'} → ${plan.target.revision} (${imageList(plan.target.images)}), from ${imageList(plan.current.images)}${skipped ? `\n    ${skipped}` : ''}`,
              );
            } else {
              details.push(
                `Deployment \`${name}\`: left out — ${refusal(planned, cluster.namespace).message.replace(/ Nothing was changed\.$/, '')}`,
              );
            }
          }
        }
        if (flagChanges.length === 0 && expect.length === 0) {
          return message(
            [
              `:white_check_mark: Nothing to roll back: every new feature is already off${cluster ? ' and no listed Deployment has a safe earlier revision to go to' : ' (no cluster configured, so no Deployments)'}. Nothing was changed.`,
              ...details.map((line) => `• ${line}`),
            ].join('\n'),
          );
        }
        return confirm({
          title: 'Roll back everything?',
          details,
          confirmLabel: 'Roll back everything',
          args: { ...args, expect },
          blocks: cluster ? [] : [context('No cluster configured: only the flags are rolled back.')],
        });
      },
      async confirmed(ctx, args) {
        const lines: string[] = [];
        const changes = await ctx.services.flags.disableAll({
          actor: ctx.user,
          via: 'slack',
          reason: args.reason,
          correlationId: ctx.correlationId,
        });
        lines.push(
          changes.length > 0
            ? `:octagonal_sign: Flags: turned off ${keys(changes)}.`
            : 'Flags: every new feature was already off.',
        );
        const cluster = ctx.services.cluster;
        for (const target of args.expect ?? []) {
          if (!cluster) break;
          try {
            const result = await clusterCall(() =>
              cluster.rollback.start(target.name, target.revision, target.current, ctx.user.id, args.reason),
            );
            lines.push(startedReply(result, cluster.namespace).text);
          } catch (error) {
            if (!(error instanceof UserError)) throw error;
            lines.push(`:warning: \`${target.name}\`: ${error.message}`);
          }
        }
        return message(lines.join('\n'));
      },
    }),
  ],
};

function requireCluster(ctx: CommandContext): ClusterServices {
  const cluster = ctx.services.cluster;
  if (!cluster) {
    throw new UserError(
      'No cluster configured: I cannot see or change Deployments. Nothing was changed.',
      'Set KUBECONFIG (or run the bot in the cluster with its service account) and restart it. `/rollback flags` works without a cluster.',
    );
  }
  return cluster;
}

async function listDeployments(cluster: ClusterServices) {
  const rows = await clusterCall(() => cluster.rollback.listDeployments());
  if (rows.length === 0) return message(`There are no Deployments in namespace \`${cluster.namespace}\`.`);
  const lines = rows.map(
    (row) =>
      `• \`${row.name}\` revision ${row.revision ?? '?'} · ${row.ready}/${row.desired} ready${row.paused ? ' · :double_vertical_bar: paused' : ''}${row.state === 'failed' ? ' · :x: rollout failed' : row.state === 'waiting' ? ' · rolling out' : ''} · ${row.images.map((image) => `\`${image}\``).join(', ')}`,
  );
  const usage = '`/rollback deployment &lt;name&gt; [--to-revision N] [reason]`';
  return message(`Deployments in ${cluster.namespace}:\n${lines.join('\n')}`, [
    header(`Deployments in ${cluster.namespace}`),
    section(lines.join('\n')),
    context(`Roll one back with ${usage}.`),
  ]);
}

function imageList(images: readonly string[]): string {
  return images.map((image) => `\`${image}\``).join(', ') || 'no containers';
}

function revisionLine(summary: RevisionSummary, now: number): string {
  const images = imageList(summary.images);
  const created = summary.createdAt
    ? `, created ${slackDate(summary.createdAt)} (${formatDuration(now - Date.parse(summary.createdAt))} ago)`
    : '';
  return `revision ${summary.revision ?? '?'} · ${images}${created}`;
}

function startedReply(result: StartResult, namespace: string) {
  if (result.kind === 'moved') {
    throw new UserError(
      `\`${result.deployment}\` changed since you asked: it is now at revision ${result.now}, not ${result.expected}. Nothing was changed.`,
      'Run the command again to see the new state.',
    );
  }
  if (result.kind !== 'started') throw refusal(result, namespace);
  const { plan } = result;
  const link =
    result.channel && result.threadTs
      ? ` Follow it <${threadLink(result.channel, result.threadTs)}|in the thread>.`
      : ' (I could not post in the channel; follow it with `kubectl rollout status`.)';
  return message(
    `:rewind: Rolling back \`${plan.deployment}\` to revision ${plan.target.revision} (${plan.target.images.map((image) => `\`${image}\``).join(', ')}): started.${link}`,
  );
}

/** A link to a message in Slack (archives URLs resolve for channel IDs in every workspace). */
function threadLink(channel: string, ts: string): string {
  return `https://slack.com/archives/${channel}/p${ts.replace('.', '')}`;
}

function refusal(result: Exclude<PlanResult, { kind: 'ready' }>, namespace: string): UserError {
  const name = `\`${result.deployment}\``;
  switch (result.kind) {
    case 'not-found':
      return new UserError(
        `There is no Deployment ${name} in namespace \`${namespace}\`. Nothing was changed.`,
        '`/rollback deployment` lists them.',
      );
    case 'paused':
      return new UserError(
        `${name} is paused, and a paused Deployment cannot be rolled back. Nothing was changed.`,
        `Resume it first (\`kubectl rollout resume deployment/${result.deployment} -n ${namespace}\`), then try again.`,
      );
    case 'no-history':
      return new UserError(
        `${name} has no earlier revision to roll back to (no rollout history found). Nothing was changed.`,
      );
    case 'revision-not-found':
      return new UserError(
        `${name} has no revision ${result.revision} in its history. Nothing was changed.`,
        result.available.length > 0
          ? `Revisions it has: ${result.available.join(', ')}.`
          : 'It has no revisions on record.',
      );
    case 'already-current':
      return new UserError(
        `Nothing to roll back: ${name} already runs the template of revision ${result.revision} (rollback skipped, as kubectl does). Nothing was changed.`,
      );
    case 'nothing-safe':
      return new UserError(
        `${name} has nothing safe to go back to: every earlier revision is one a rollback moved away from. ${skippedLine(result.skipped, result.windowMs, result.now) ?? ''} Nothing was changed.`,
        `If you mean it, name the revision: \`/rollback deployment ${result.deployment} --to-revision N\`.`,
      );
  }
}

/** Cluster failures as what the operator needs to know; anything else stays an internal error. */
async function clusterCall<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof ClusterError)) throw error;
    if (error.kind === 'forbidden') {
      throw new UserError(
        `The cluster refused: ${error.message}. Nothing was changed.`,
        "The bot's Role (deploy/kubernetes/base/rbac.yaml) must allow this; ask a cluster admin.",
      );
    }
    if (error.kind === 'unavailable') {
      throw new UserError(
        `The cluster could not be reached or failed: ${error.message}. Nothing was changed.`,
        'Try again in a moment.',
      );
    }
    throw new UserError(`The cluster answered: ${escapeText(error.message)}. Nothing was changed.`);
  }
}

function keys(changes: readonly FlagChange[]): string {
  return changes.map((change) => `\`${change.key}\``).join(', ');
}
