import { z } from 'zod';
import { DEFAULT_RETENTION_MS } from '../core/alerts/retention.js';
import { parseDuration } from '../core/duration.js';
import { SEED_FLAGS } from '../core/flags/catalog.js';
import { NOTIFY_EVENTS } from '../core/notify/events.js';
import { TEMPLATE_FIELDS, type Template, unknownPlaceholders } from '../core/notify/template.js';
import { SEED_GATES } from '../core/phases/seed-gates.js';

const slackId = z
  .string()
  .regex(/^[UWS][A-Z0-9]{2,}$/, 'expected a Slack user ID (U…/W…) or user-group ID (S…)');

const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like 90s, 15m or 4h, got "${text}"` });
    return z.NEVER;
  }
  return ms;
});

/** A checklist replacing a seed one: at most 10 items (one Slack checkboxes element), each unique. */
const checklist = z
  .array(
    z
      .string()
      .trim()
      .min(1, 'a checklist item cannot be empty')
      .max(75, 'keep a checklist item within 75 characters (Slack shows no more in a checkbox)'),
  )
  .max(10, 'at most 10 items per checklist (Slack shows no more in one checkboxes element)')
  .refine((items) => new Set(items).size === items.length, 'checklist items must be unique');

const severity = z.enum(['sev1', 'sev2', 'sev3']);

const deploymentName = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a Deployment name');
const stepTitle = z.string().min(1).max(200);

/** A declarative runbook step, as in src/core/runbooks/runbook.ts. */
const runbookStep = z.discriminatedUnion(
  'kind',
  [
    z
      .object({
        kind: z.literal('check'),
        title: stepTitle,
        query: z.string().min(1),
        expect: z.string().min(1),
      })
      .strict(),
    z
      .object({
        kind: z.literal('flag'),
        title: stepTitle,
        flag: z.string().refine((key) => SEED_FLAGS.some((flag) => flag.key === key), {
          message: `expected a flag key: ${SEED_FLAGS.map((flag) => flag.key).join(', ')}`,
        }),
        enabled: z.boolean(),
      })
      .strict(),
    z.object({ kind: z.literal('disable-all'), title: stepTitle }).strict(),
    z.object({ kind: z.literal('rollback'), title: stepTitle, deployment: deploymentName }).strict(),
    z.object({ kind: z.literal('rollout-status'), title: stepTitle, deployment: deploymentName }).strict(),
    z.object({ kind: z.literal('manual'), title: stepTitle, text: z.string().min(1) }).strict(),
    z
      .object({ kind: z.literal('status-update'), title: stepTitle, text: z.string().min(1).max(2000) })
      .strict(),
  ],
  {
    error:
      'expected a step kind: check, flag, disable-all, rollback, rollout-status, manual or status-update',
  },
);

const runbook = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case name like high-latency'),
    title: z.string().min(1).max(150),
    alerts: z.array(z.string().min(1)).default([]),
    summary: z.string().min(1).max(1000),
    steps: z.array(runbookStep).min(1, 'a runbook needs at least one step').max(40),
  })
  .strict();

/** Any JSON value (a webhook template), as YAML can write it. */
const templateValue: z.ZodType<Template> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(templateValue),
    z.record(z.string(), templateValue),
  ]),
);

const webhook = z
  .object({
    /** Where the JSON is POSTed: only ever this URL (alert text never changes it). */
    url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    /** Which events it receives. */
    events: z
      .array(z.enum(NOTIFY_EVENTS, { error: `expected one of ${NOTIFY_EVENTS.join(', ')}` }))
      .min(1)
      .default([...NOTIFY_EVENTS]),
    /** Alert events are sent for groups at these levels (the seed's communication plan: sev1 and sev2). */
    severities: z.array(severity).min(1).default(['sev1', 'sev2']),
    /** The JSON body, with `{{field}}` placeholders in its strings; absent: Switchyard's own shape. */
    template: templateValue.optional().superRefine((template, ctx) => {
      if (template === undefined) return;
      const unknown = unknownPlaceholders(template);
      if (unknown.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown placeholder {{${unknown[0]}}}; expected one of ${TEMPLATE_FIELDS.join(', ')}, labels.<name>, annotations.<name>`,
        });
      }
    }),
  })
  .strict();

const pagerduty = z
  .object({
    /** The name of the environment variable holding the integration's routing key (never the key itself). */
    routingKeyEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name like PAGERDUTY_ROUTING_KEY'),
    /** Groups at these levels trigger an incident. */
    severities: z.array(severity).min(1).default(['sev1']),
    /** The Events API v2 endpoint (an EU account or a test emulator changes it). */
    url: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
      .default('https://events.pagerduty.com/v2/enqueue'),
  })
  .strict();

/** The YAML config file of DESIGN.md. Defaults follow the seed, so a site writes only what differs. */
export const fileConfigSchema = z
  .object({
    channel: z.string().min(1).default('#messaging-system-incidents'),
    access: z
      .object({
        operators: z.array(slackId).default([]),
        approvers: z.array(slackId).default([]),
        approvalsRequired: z.number().int().min(1).max(20).default(2),
      })
      .strict()
      .prefault({}),
    escalation: z
      .object({
        oncall: slackId.optional(),
        tiers: z
          .array(
            z
              .object({
                after: duration,
                notify: z.array(slackId).default([]),
                /** The role the tier reaches; default the seed's Team Lead / Engineering Manager / VP Engineering. */
                name: z.string().trim().min(1).max(80).optional(),
              })
              .strict(),
          )
          // The seed's matrix: team lead after 15 min, engineering manager after 1 h, VP after 4 h.
          .prefault([
            { after: '15m', notify: [] },
            { after: '60m', notify: [] },
            { after: '4h', notify: [] },
          ]),
      })
      .strict()
      .prefault({}),
    severity: z
      .object({
        mapping: z
          .record(z.string(), severity)
          .default({ critical: 'sev1', warning: 'sev2', info: 'sev3', none: 'sev3' }),
      })
      .strict()
      .prefault({}),
    /** STATE_BACKEND=kubernetes: the Lease that elects the one replica doing timed work. Shorter than
     * client-go's 15 s / 10 s / 2 s, whose takeover after a crash can take 17 s: these keep it under 15 s. */
    leaderElection: z
      .object({
        /** How long a Lease holds without renewal before another replica may take it. */
        leaseDuration: duration.default(12_000),
        /** The leader stops leading (and sending) when it could not renew for this long. */
        renewDeadline: duration.default(8_000),
        /** How often the leader renews and the others try to take the Lease. */
        retryPeriod: duration.default(1_000),
        /** The Lease's name in STATE_NAMESPACE. */
        leaseName: z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
          .default('switchyard-leader'),
      })
      .strict()
      .refine(
        (value) => value.retryPeriod < value.renewDeadline && value.renewDeadline < value.leaseDuration,
        {
          message: 'expected retryPeriod < renewDeadline < leaseDuration',
        },
      )
      .prefault({}),
    alerts: z
      .object({
        /**
         * A resolved alert group is forgotten this long after it resolved (its record is deleted); if the
         * same group fires again later, it opens a new message. A firing group is never forgotten.
         */
        retention: duration.default(DEFAULT_RETENTION_MS),
      })
      .strict()
      .prefault({}),
    rollback: z
      .object({
        /** What `/rollback all` rolls back besides the flags: the seed's application rollback. */
        deployments: z
          .array(z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a Deployment name'))
          .default(['messaging-core', 'messaging-timing-engine', 'messaging-retry-engine']),
        /**
         * For this long after a rollback moved a Deployment away from a revision (by the bot or by
         * kubectl), the default rollback target skips that revision; `--to-revision` still allows it.
         */
        reentryWindow: duration.default(24 * 60 * 60_000),
      })
      .strict()
      .prefault({}),
    /** Replaces the seed's runbooks when given (the whole list). */
    runbooks: z
      .array(runbook)
      .refine(
        (list) => new Set(list.map((entry) => entry.name)).size === list.length,
        'runbook names must be unique',
      )
      .optional(),
    /**
     * Checked before `/phase advance` switches anything on: each query's value must stay below `max`
     * (or be at least `min`), and, with `degradation`, must not be worse than the phase's baseline (the
     * values read when the phase began) by more than `relative` × baseline or `absolute`, whichever is
     * larger. Defaults: the seed's success metrics and alert thresholds.
     */
    gates: z
      .array(
        z
          .object({
            name: z.string().min(1).max(100),
            query: z.string().min(1),
            max: z.number().optional(),
            min: z.number().optional(),
            degradation: z
              .object({
                relative: z.number().min(0).optional(),
                absolute: z.number().min(0).optional(),
              })
              .strict()
              .refine((value) => value.relative !== undefined || value.absolute !== undefined, {
                message: 'expected relative and/or absolute',
              })
              .optional(),
            /** Checked only for advances into these phases (default: every advance). */
            phases: z.array(z.number().int().min(1)).min(1).optional(),
          })
          .strict()
          .refine((gate) => (gate.max === undefined) !== (gate.min === undefined), {
            message: 'a gate needs either max (the value must stay below it) or min (at least it), not both',
          }),
      )
      .refine(
        (list) => new Set(list.map((gate) => gate.name)).size === list.length,
        'gate names must be unique',
      )
      .default(SEED_GATES),
    phases: z
      .object({
        /** A new `/phase advance` supersedes an open request older than this. */
        requestTimeout: duration.default(60 * 60_000),
        /**
         * Replaces the seed's checklists, each named here (the others stay as in the seed). An empty
         * list means that phase has nothing to tick.
         */
        checklists: z
          .object({
            'pre-deployment': checklist.optional(),
            'phase-1': checklist.optional(),
            'phase-2': checklist.optional(),
            'phase-3': checklist.optional(),
            'post-deployment': checklist.optional(),
          })
          .strict()
          .default({}),
      })
      .strict()
      .prefault({}),
    kubernetes: z
      .object({
        /** Deployments restarted after a flag change, for consumers that read flags only at start. */
        restartOnFlagChange: z.array(z.string().min(1)).default([]),
        /** How often the ConfigMap is compared with the bot's state. */
        driftCheckInterval: duration.default(5_000),
      })
      .strict()
      .prefault({}),
    /** Telling the world beyond Slack: webhooks (status page, email relay) and PagerDuty. */
    notify: z
      .object({
        webhooks: z.array(webhook).max(20).default([]),
        pagerduty: pagerduty.optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type FileConfig = z.infer<typeof fileConfigSchema>;
