import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../metrics.js';

export interface RequestContext {
  log: Logger;
  correlationId: string;
  params: Record<string, string>;
}

export type RouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
) => Promise<void> | void;

export interface Route {
  method: string;
  /** `/api/v1/features/:flag` style; `:name` matches one path segment. */
  path: string;
  handler: RouteHandler;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

/** One HTTP server for every route (Slack, Alertmanager, API, health, metrics), with request ids. */
export function createHttpServer(routes: readonly Route[], log: Logger, metrics?: Metrics): Server {
  const compiled = routes.map(compile);
  return createServer((req, res) => {
    const correlationId = pickRequestId(req.headers['x-request-id']);
    res.setHeader('x-request-id', correlationId);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const requestLog = log.child({ correlationId, method: req.method, path: url.pathname });
    const match = findRoute(compiled, req.method ?? 'GET', url.pathname);
    res.on('finish', () => {
      metrics?.httpRequests.inc({ route: match.route?.path ?? 'unmatched', status: String(res.statusCode) });
      requestLog.debug({ status: res.statusCode }, 'request done');
    });
    if (!match.route) {
      sendJson(res, match.methodMismatch ? 405 : 404, {
        error: match.methodMismatch ? `method ${req.method} not allowed here` : `no route ${url.pathname}`,
      });
      return;
    }
    Promise.resolve(
      match.route.handler(req, res, { log: requestLog, correlationId, params: match.params }),
    ).catch((error: unknown) => {
      requestLog.error({ err: error }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error', correlationId });
      else res.end();
    });
  });
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { ...route, pattern: new RegExp(`^${source}/?$`), names };
}

function findRoute(routes: CompiledRoute[], method: string, path: string) {
  let methodMismatch = false;
  for (const route of routes) {
    const found = route.pattern.exec(path);
    if (!found) continue;
    if (route.method !== method && !(route.method === 'GET' && method === 'HEAD')) {
      methodMismatch = true;
      continue;
    }
    const params = Object.fromEntries(
      route.names.map((name, index) => [name, safeDecode(found[index + 1] ?? '')]),
    );
    return { route, params, methodMismatch };
  }
  return { route: undefined, params: {}, methodMismatch };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function pickRequestId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[\w.-]{1,64}$/.test(value) ? value : randomUUID();
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(text);
}

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a JSON body up to a limit; malformed or oversized bodies become a 400/413 BodyError. */
export async function readJsonBody(req: IncomingMessage, limitBytes = 1_000_000): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new BodyError(413, `body larger than ${limitBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new BodyError(400, 'expected a JSON body');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BodyError(400, `body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Constant-time comparison of a `Bearer` header with the configured token. */
export function bearerMatches(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match) return false;
  const given = Buffer.from(match[1]!.trim());
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
