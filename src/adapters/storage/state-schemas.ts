import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AuditEntry, FlagState } from '../../core/flags/state.js';

/**
 * What each state file must look like to be used at start. The document schemas check the fields the
 * bot relies on and let others through, so a newer field never makes a file "damaged".
 */
const actor = z.object({ id: z.string().min(1), name: z.string().optional() });
const via = z.enum(['slack', 'api', 'cluster', 'system']);

export const auditEntrySchema = z.object({
  seq: z.number().int().positive(),
  at: z.string().min(1),
  actor,
  via,
  action: z.enum(['enable', 'disable', 'disable-all', 'drift', 'phase']),
  flag: z.string().min(1),
  before: z.boolean(),
  after: z.boolean(),
  reason: z.string().optional(),
  correlationId: z.string().optional(),
}) satisfies z.ZodType<AuditEntry>;

export const flagStateFileSchema = z.object({
  values: z.record(z.string(), z.boolean()),
  lastChange: z.record(
    z.string(),
    z.object({ by: actor, at: z.string(), via, reason: z.string().optional() }),
  ),
  seq: z.number().int().nonnegative(),
  checksum: z.string().optional(),
});

/** sha256 of the state's content: proves a `flags.json` is exactly what the bot wrote. */
export function stateChecksum(state: FlagState): string {
  const body = JSON.stringify({ values: state.values, lastChange: state.lastChange, seq: state.seq });
  return createHash('sha256').update(body).digest('hex');
}

const recordOf = (entry: z.ZodType) => z.record(z.string(), entry);

export const pendingActionsSchema = recordOf(
  z.looseObject({
    id: z.string(),
    command: z.string(),
    subcommand: z.string(),
    requestedBy: z.string(),
    requestedAt: z.number(),
    expiresAt: z.number(),
    /** Who hears the outcome (issue 10); absent in older records. */
    opener: z.looseObject({ kind: z.string(), ref: z.string() }).optional(),
  }),
);

/** A phase's baseline (src/core/phases/gates.ts Baseline); absent in requests recorded before it. */
const baselineSchema = z.looseObject({
  phase: z.number(),
  capturedAt: z.string(),
  source: z.enum(['phase-start', 'request']),
  values: z.record(z.string(), z.number()),
  missing: z.record(z.string(), z.string()).optional(),
});

export const phaseRequestsSchema = recordOf(
  z.looseObject({
    id: z.string(),
    from: z.looseObject({ number: z.number(), name: z.string() }),
    to: z.looseObject({ number: z.number(), name: z.string() }),
    toEnable: z.array(z.string()),
    requester: z.string(),
    required: z.number(),
    requestedAt: z.string(),
    expiresAt: z.string(),
    approvals: z.array(z.string()),
    status: z.string(),
    channel: z.string(),
    ts: z.string(),
    /** Issue 14: the checklist when asked, and an override's reason; absent in older records. */
    checklist: z
      .looseObject({
        id: z.string(),
        unticked: z.array(z.string()),
        override: z.looseObject({ reason: z.string(), by: z.string() }).optional(),
      })
      .optional(),
    baseline: baselineSchema.optional(),
    nextBaseline: baselineSchema.optional(),
  }),
);

const checklistEventSchema = z.discriminatedUnion('action', [
  z.looseObject({
    seq: z.number().int().positive(),
    at: z.string().min(1),
    by: z.string().min(1),
    action: z.enum(['tick', 'untick']),
    checklist: z.string().min(1),
    item: z.string().min(1),
    text: z.string(),
  }),
  z.looseObject({
    seq: z.number().int().positive(),
    at: z.string().min(1),
    by: z.string().min(1),
    action: z.literal('override'),
    checklist: z.string().min(1),
    unticked: z.array(z.string()),
    reason: z.string(),
    requestId: z.string(),
  }),
]);

/** `phases/checklists.json` (issue 14): who ticked what and when, and every change as the record. */
export const checklistStateSchema = z.looseObject({
  ticks: z.record(z.string(), z.looseObject({ by: z.string().min(1), at: z.string().min(1) })),
  events: z.array(checklistEventSchema),
  seq: z.number().int().nonnegative(),
});

/** The bot's rollbacks (src/core/rollout/reentry.ts RollbackRecord), newest last. */
export const rollbackAuditSchema = z.looseObject({
  rollbacks: z.array(
    z.looseObject({
      deployment: z.string(),
      fromRevision: z.number(),
      fromReplicaSet: z.string(),
      toRevision: z.number(),
      at: z.string(),
      by: z.string(),
    }),
  ),
});

export const runbookRunsSchema = recordOf(
  z.looseObject({
    run: z.looseObject({
      id: z.string(),
      runbook: z.string(),
      startedBy: z.string(),
      startedAt: z.string(),
      /** Issue 10's fields are optional: a run recorded before them reads as it was. */
      aborted: z.looseObject({ by: z.string(), at: z.string() }).optional(),
      steps: z.array(
        z.looseObject({
          status: z.string(),
          awaiting: z.array(z.looseObject({ ref: z.string(), by: z.string(), at: z.string() })).optional(),
          doneOffered: z.boolean().optional(),
          link: z.string().optional(),
        }),
      ),
    }),
    channel: z.string(),
    ts: z.string(),
    stepTs: z.array(z.string()),
  }),
);

/** The first problem zod found, as `path: message`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Slack requests already accepted: [key, accepted at (ms)], pruned after the replay window. */
export const replayRecordsSchema = z.object({ seen: z.array(z.tuple([z.string(), z.number()])) });

/** Pending timed flag changes (`--for`), by flag: src/core/flags/timed.ts TimedChange. */
export const timedChangesSchema = recordOf(
  z.looseObject({
    flag: z.string().min(1),
    changes: z.array(z.object({ key: z.string().min(1), from: z.boolean(), to: z.boolean() })).min(1),
    entries: z.array(z.object({ flag: z.string().min(1), seq: z.number().int().positive(), at: z.string() })),
    setAt: z.number(),
    revertAt: z.number(),
    by: actor,
    via,
    reason: z.string().optional(),
  }),
);

/** Who opened the App Home (their Home is republished on a change). */
export const homeUsersSchema = z.object({ users: z.array(z.string().regex(/^[UW][A-Z0-9]+$/)) });

/** Start-up warnings last posted in the channel (`startup-warnings.json`). */
export const announcedWarningsSchema = z.object({ posted: z.array(z.string()) });
