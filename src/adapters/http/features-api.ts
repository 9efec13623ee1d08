import { z } from 'zod';
import { UserError } from '../../commanding/reply.js';
import type { FlagDefinition } from '../../core/flags/catalog.js';
import { resolveFlagName } from '../../core/flags/names.js';
import type { FlagState } from '../../core/flags/state.js';
import { parseTimedDuration, type TimedChanges } from '../../core/flags/timed.js';
import type { FlagService } from '../../services/flag-service.js';
import { BodyError, bearerMatches, type Route, type RouteHandler, readJsonBody, sendJson } from './server.js';

/**
 * A reason: the type message is for a wrong type only (a schema-wide `error` would also replace the
 * length messages, and a 501-character reason would be told it is "not a string").
 */
const reasonSchema = z
  .string({
    error: (issue) => (issue.code === 'invalid_type' ? 'expected "reason": a string saying why' : undefined),
  })
  .trim()
  .min(1, 'say why in "reason"')
  .max(500, 'at most 500 characters: shorten the reason');

const putBody = z.object({
  enabled: z.boolean({ error: 'expected "enabled": true or false' }),
  reason: reasonSchema,
  /** Turning off a safety flag needs an explicit yes, as in Slack. */
  confirm: z.boolean().optional(),
  /** A timed change: `"for": "2h"` reverts it by itself after that long (as `--for` in Slack). */
  for: z
    .string({ error: 'expected "for": a duration like "30m" or "2h"' })
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      const parsed = parseTimedDuration(text);
      if (parsed.ok) return parsed.ms;
      ctx.addIssue({ code: 'custom', message: parsed.error.replace('after --for', 'in "for"') });
      return z.NEVER;
    }),
});

const disableAllBody = z.object({ reason: reasonSchema });

/** The seed's flag API, served live from the same state as Slack: `/api/v1/features…`. */
export function featureApiRoutes(flags: FlagService, apiToken: string | undefined): Route[] {
  const view = (flag: FlagDefinition, state: FlagState, timed: TimedChanges) => {
    const last = state.lastChange[flag.key];
    const pending =
      timed[flag.key] ??
      Object.values(timed).find((change) => change.changes.some((part) => part.key === flag.key));
    const back = pending?.changes.find((part) => part.key === flag.key)?.from;
    return {
      name: flag.key,
      envVar: flag.envVar,
      group: flag.group,
      enabled: state.values[flag.key] ?? flag.defaultEnabled,
      default: flag.defaultEnabled,
      safety: flag.safety,
      requires: flag.requires,
      conflictsWith: flag.conflictsWith,
      updatedBy: last?.by.id ?? null,
      updatedAt: last?.at ?? null,
      updatedVia: last?.via ?? null,
      /** A timed change pending on this flag: when it goes back, and to what. */
      revert: pending ? { at: new Date(pending.revertAt).toISOString(), enabled: back ?? null } : null,
    };
  };

  const findFlag = (name: string) => {
    const resolved = resolveFlagName(flags.catalog, name);
    if (resolved.ok) return { flag: resolved.flag };
    return {
      error: {
        error: `unknown flag "${name.slice(0, 80)}"`,
        ...(resolved.suggestion ? { suggestion: resolved.suggestion.key } : {}),
      },
    };
  };

  /** Writes need the bearer token; with no token configured, writes are refused outright. */
  const authorised =
    (handler: RouteHandler): RouteHandler =>
    async (req, res, ctx) => {
      // Refusals don't read the body; drain it so the keep-alive connection stays usable.
      if (!apiToken || !bearerMatches(req, apiToken)) req.resume();
      if (!apiToken) {
        return sendJson(res, 401, {
          error: 'flag API writes are disabled: set FLAG_API_TOKEN to enable them',
        });
      }
      if (!bearerMatches(req, apiToken)) {
        return sendJson(
          res,
          401,
          { error: 'missing or wrong bearer token (Authorization: Bearer <FLAG_API_TOKEN>)' },
          { 'www-authenticate': 'Bearer' },
        );
      }
      try {
        await handler(req, res, ctx);
      } catch (error) {
        // A refusal from where the flags take effect (the cluster), or a state directory that cannot
        // be written (StorageError, a UserError): nothing changed, say why.
        if (error instanceof UserError) {
          return sendJson(res, 503, { error: error.message, ...(error.hint ? { hint: error.hint } : {}) });
        }
        if (error instanceof BodyError) {
          return sendJson(
            res,
            error.status,
            { error: error.message },
            error.status === 413 ? { connection: 'close' } : {},
          );
        }
        throw error;
      }
    };

  const actorOf = (header: string | string[] | undefined) => {
    const name = Array.isArray(header) ? header[0] : header;
    return { id: 'api', ...(name ? { name: name.slice(0, 80) } : {}) };
  };

  return [
    {
      method: 'GET',
      path: '/api/v1/features',
      handler: async (_req, res) => {
        const state = await flags.snapshot();
        const timed = await flags.pendingTimed();
        sendJson(res, 200, { flags: flags.catalog.flags.map((flag) => view(flag, state, timed)) });
      },
    },
    {
      method: 'POST',
      path: '/api/v1/features/disable-all',
      handler: authorised(async (req, res, ctx) => {
        const body = disableAllBody.safeParse(await readJsonBody(req));
        if (!body.success) return sendJson(res, 400, zodError(body.error));
        const changes = await flags.disableAll({
          actor: actorOf(req.headers['x-switchyard-actor']),
          via: 'api',
          reason: body.data.reason,
          correlationId: ctx.correlationId,
        });
        sendJson(res, 200, {
          changed: changes,
          message: changes.length === 0 ? 'nothing to disable' : undefined,
        });
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/features/:flag',
      handler: async (_req, res, ctx) => {
        const found = findFlag(ctx.params.flag ?? '');
        if (found.error) return sendJson(res, 404, found.error);
        sendJson(res, 200, view(found.flag, await flags.snapshot(), await flags.pendingTimed()));
      },
    },
    {
      method: 'PUT',
      path: '/api/v1/features/:flag',
      handler: authorised(async (req, res, ctx) => {
        const found = findFlag(ctx.params.flag ?? '');
        if (found.error) return sendJson(res, 404, found.error);
        const body = putBody.safeParse(await readJsonBody(req));
        if (!body.success) return sendJson(res, 400, zodError(body.error));
        const meta = {
          actor: actorOf(req.headers['x-switchyard-actor']),
          via: 'api' as const,
          reason: body.data.reason,
          correlationId: ctx.correlationId,
        };
        const result = await flags.set(
          found.flag.key,
          body.data.enabled,
          meta,
          body.data.confirm === true,
          body.data.for,
        );
        const state = await flags.snapshot();
        const timed = await flags.pendingTimed();
        switch (result.status) {
          case 'refused':
            return sendJson(res, 409, { error: result.error, hint: result.hint });
          case 'needs-confirmation':
            return sendJson(res, 409, {
              error: `${result.why} Send "confirm": true to go ahead.`,
              needsConfirmation: true,
              wouldChange: result.changes,
            });
          case 'unchanged':
            return sendJson(res, 200, { ...view(found.flag, state, timed), changed: [] });
          case 'changed':
            return sendJson(res, 200, { ...view(found.flag, state, timed), changed: result.changes });
        }
      }),
    },
  ];
}

function zodError(error: z.ZodError) {
  const issue = error.issues[0]!;
  return { error: `${issue.path.join('.') || 'body'}: ${issue.message}`, path: issue.path.join('.') };
}
