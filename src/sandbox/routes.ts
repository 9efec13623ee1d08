import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { BodyError, type Route, readJsonBody, sendJson } from '../adapters/http/server.js';
import { sandboxPage } from './page.js';
import type { Sandbox } from './sandbox.js';

/**
 * The sandbox's HTTP routes, added to the bot's server in local mode only (bound to loopback): the
 * page, a server-sent event stream of the channel, and the actions a person can take. The CLI uses
 * the same actions.
 */
const commandBody = z.object({ user: z.string().min(1), text: z.string().min(1).max(4000) }).strict();
const actionBody = z
  .object({
    user: z.string().min(1),
    messageId: z.string().min(1).max(200).optional(),
    actionId: z.string().min(1).max(255),
    blockId: z.string().max(255).optional(),
    value: z.string().max(2000).optional(),
    selected: z.object({ value: z.string().max(2000), text: z.string().max(2000).optional() }).optional(),
    /** For checkboxes: every option checked after the click. */
    checked: z.array(z.string().max(150)).max(10).optional(),
  })
  .strict();
const reactionBody = z
  .object({
    user: z.string().min(1),
    messageId: z.string().min(1).max(200),
    name: z.string().regex(/^:?[a-z0-9_+'-]{1,100}:?$/, 'expected an emoji name like white_check_mark'),
    added: z.boolean().default(true),
  })
  .strict();
const alertBody = z
  .object({
    name: z.string().min(1).max(200),
    status: z.enum(['firing', 'resolved']),
    severity: z.string().optional(),
  })
  .strict();
const prometheusBody = z.object({ healthy: z.boolean() }).strict();
const homeBody = z.object({ user: z.string().min(1) }).strict();

export function sandboxRoutes(sandbox: Sandbox): Route[] {
  const post = <S extends z.ZodType>(path: string, schema: S, run: (body: z.infer<S>) => Promise<unknown>) =>
    ({
      method: 'POST',
      path,
      handler: async (req, res) => {
        let raw: unknown;
        try {
          raw = await readJsonBody(req, 64 * 1024);
        } catch (error) {
          if (error instanceof BodyError)
            return sendJson(res, error.status, { ok: false, error: error.message });
          throw error;
        }
        const parsed = schema.safeParse(raw);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          return sendJson(res, 400, {
            ok: false,
            error: `${issue.path.map(String).join('.') || 'body'}: ${issue.message}`,
          });
        }
        const body = parsed.data as { user?: string };
        if (body.user !== undefined) {
          const person = sandbox.person(body.user);
          if (!person) return sendJson(res, 400, { ok: false, error: `Unknown person "${body.user}".` });
          body.user = person.id;
        }
        sendJson(res, 200, await run(body as z.infer<S>));
      },
    }) satisfies Route;

  return [
    {
      method: 'GET',
      path: '/sandbox',
      handler: async (_req, res) => {
        const html = await sandboxPage();
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          // Everything the page needs is in it: nothing is fetched from anywhere else.
          'content-security-policy':
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
          'cache-control': 'no-store',
        });
        res.end(html);
      },
    },
    {
      method: 'GET',
      path: '/sandbox/api/state',
      handler: (_req, res) => sendJson(res, 200, sandbox.state()),
    },
    { method: 'GET', path: '/sandbox/events', handler: (req, res) => stream(sandbox, req.socket, res) },
    post('/sandbox/api/command', commandBody, (b) => sandbox.command(b.user, b.text)),
    post('/sandbox/api/action', actionBody, (b) => sandbox.action(b)),
    post('/sandbox/api/reaction', reactionBody, (b) =>
      sandbox.reaction(b.user, b.messageId, b.name, b.added),
    ),
    post('/sandbox/api/home', homeBody, (b) => sandbox.openHome(b.user)),
    post('/sandbox/api/alert', alertBody, (b) => sandbox.alert(b.name, b.status, b.severity)),
    post('/sandbox/api/prometheus', prometheusBody, async (b) =>
      sandbox.setPrometheusHealthy(b.healthy)
        ? { ok: true, healthy: b.healthy, replies: [], posts: [] }
        : {
            ok: false,
            error: 'PROMETHEUS_URL names a real Prometheus; the sandbox cannot change its health.',
            replies: [],
            posts: [],
          },
    ),
  ];
}

/** Server-sent events: the whole state at once, then again after every change (coalesced). */
function stream(sandbox: Sandbox, socket: { setNoDelay(v: boolean): void }, res: ServerResponse): void {
  socket.setNoDelay(true);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  let scheduled = false;
  const send = () => {
    scheduled = false;
    if (res.destroyed || res.writableEnded) return;
    res.write(`event: state\ndata: ${JSON.stringify(sandbox.state())}\n\n`);
  };
  const changed = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(send);
  };
  send();
  sandbox.events.on('changed', changed);
  res.on('close', () => sandbox.events.off('changed', changed));
}
