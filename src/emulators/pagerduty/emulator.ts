import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * PagerDuty's Events API v2 on loopback, as the real one answers: `POST /v2/enqueue` with
 * `{routing_key, event_action, dedup_key, payload: {summary, source, severity, …}}` → 202
 * `{status: 'success', message: 'Event processed', dedup_key}`; an invalid event → 400
 * `{status: 'invalid event', message: 'Event object is invalid', errors: [...]}`; 429 when told to
 * (`failNext`), as the real API does past its rate limit. Incidents are kept per dedup_key: a trigger
 * opens one (or adds to the open one), acknowledge and resolve change it, a trigger after a resolve
 * opens a new one. Bind loopback only.
 */

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';

export interface AcceptedEvent {
  seq: number;
  routing_key: string;
  event_action: PagerDutyAction;
  dedup_key: string;
  payload?: Record<string, unknown>;
  /** The whole request body as received. */
  body: Record<string, unknown>;
}

export interface EnqueueRequest {
  seq: number;
  status: number;
  /** The raw body (a routing key in it is the test's own). */
  body: string;
  response: unknown;
}

export interface Incident {
  dedup_key: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  summary: string;
  severity: string;
  /** Events that reached it, in order. */
  actions: PagerDutyAction[];
}

export type PagerDutyFailure = { status: 429 } | { status: 500 | 502 | 503 };

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS: readonly string[] = ['trigger', 'acknowledge', 'resolve'];
/** The Events API refuses bodies above 512 KB. */
const MAX_BODY_BYTES = 512 * 1024;
const SUMMARY_MAX = 1024;

export class PagerDutyEmulator {
  /** Events accepted (202), in order. */
  readonly events: AcceptedEvent[] = [];
  /** Every request to /v2/enqueue with the status it got. */
  readonly requests: EnqueueRequest[] = [];
  /** Incidents by dedup_key: the latest one for each key (an older, resolved one is replaced by a new trigger). */
  readonly incidents = new Map<string, Incident>();
  private readonly failures: PagerDutyFailure[] = [];
  private readonly waiters = new Set<() => void>();
  private server: Server | undefined;
  private seq = 0;
  url = '';

  /** `routingKeys`: the integration keys that exist (any 32-character key when not given). */
  constructor(private readonly options: { routingKeys?: readonly string[] } = {}) {}

  /** A well-formed routing key (32 characters), as an integration's Integration Key is. */
  static routingKey(): string {
    return randomBytes(16).toString('hex');
  }

  get enqueueUrl(): string {
    return `${this.url}/v2/enqueue`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next `count` requests fail this way (before validation, as a rate limit or outage would). */
  failNext(failure: PagerDutyFailure, count = 1): void {
    for (let i = 0; i < count; i += 1) this.failures.push(failure);
  }

  /** Resolves once `count` accepted events match (all events when no predicate). */
  waitForEvents(
    count: number,
    predicate: (event: AcceptedEvent) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<AcceptedEvent[]> {
    const check = () => {
      const found = this.events.filter(predicate);
      return found.length >= count ? found : undefined;
    };
    const now = check();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const wake = () => {
        const found = check();
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${count} PagerDuty event(s) not received within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      this.waiters.add(wake);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/v2/enqueue') return send(res, 404, { status: 'not found', message: 'Not Found' });
    if (req.method !== 'POST') return send(res, 405, { status: 'method not allowed' });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    const seq = ++this.seq;
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ seq, status, body: raw, response: body });
      send(res, status, body, headers);
      for (const wake of this.waiters) wake();
    };
    const failure = this.failures.shift();
    if (failure?.status === 429) {
      return answer(429, {
        status: 'throttle event',
        message: 'Requests for this service are arriving too quickly. Please retry later.',
      });
    }
    if (failure) return answer(failure.status, { status: 'error', message: 'Internal Server Error' });
    if (size > MAX_BODY_BYTES) return answer(400, invalid(['Event object is too large (maximum 512 KB)']));
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return answer(400, invalid(['Event object is not valid JSON']));
    }
    const errors = validate(body, this.options.routingKeys);
    if (errors.length > 0) return answer(400, invalid(errors));
    const event = body as Record<string, unknown>;
    const action = event.event_action as PagerDutyAction;
    const dedup =
      typeof event.dedup_key === 'string' && event.dedup_key !== ''
        ? event.dedup_key
        : randomBytes(16).toString('hex');
    const accepted: AcceptedEvent = {
      seq,
      routing_key: String(event.routing_key),
      event_action: action,
      dedup_key: dedup,
      ...(isObject(event.payload) && { payload: event.payload }),
      body: event,
    };
    this.events.push(accepted);
    this.apply(accepted);
    return answer(202, { status: 'success', message: 'Event processed', dedup_key: dedup });
  }

  private apply(event: AcceptedEvent): void {
    const open = this.incidents.get(event.dedup_key);
    if (event.event_action === 'trigger') {
      if (open && open.status !== 'resolved') {
        open.actions.push('trigger');
        return;
      }
      this.incidents.set(event.dedup_key, {
        dedup_key: event.dedup_key,
        status: 'triggered',
        summary: String(event.payload?.summary ?? '').slice(0, SUMMARY_MAX),
        severity: String(event.payload?.severity ?? ''),
        actions: ['trigger'],
      });
      return;
    }
    // Acknowledge or resolve an unknown or resolved incident: accepted and ignored, as PagerDuty does.
    if (!open || open.status === 'resolved') return;
    open.actions.push(event.event_action);
    if (event.event_action === 'resolve') open.status = 'resolved';
    else open.status = 'acknowledged';
  }
}

function invalid(errors: string[]) {
  return { status: 'invalid event', message: 'Event object is invalid', errors };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function blank(value: unknown): boolean {
  return typeof value !== 'string' || value.trim() === '';
}

/** The Events API's checks, with its messages. */
function validate(body: unknown, routingKeys: readonly string[] | undefined): string[] {
  if (!isObject(body)) return ['Event object is invalid'];
  const errors: string[] = [];
  const key = body.routing_key;
  if (blank(key)) errors.push("'routing_key' is missing or blank");
  else if ((key as string).length !== 32) {
    errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  } else if (routingKeys && !routingKeys.includes(key as string)) errors.push('Invalid routing key');
  const action = body.event_action;
  if (blank(action)) errors.push("'event_action' is missing or blank");
  else if (!ACTIONS.includes(action as string)) {
    errors.push("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)");
  }
  const dedup = body.dedup_key;
  if (dedup !== undefined && typeof dedup !== 'string') errors.push("'dedup_key' must be a string");
  else if (typeof dedup === 'string' && dedup.length > 255) {
    errors.push("'dedup_key' is too long (maximum is 255 characters)");
  }
  if ((action === 'acknowledge' || action === 'resolve') && blank(dedup)) {
    errors.push("'dedup_key' is missing or blank");
  }
  if (action === 'trigger') {
    const payload = body.payload;
    if (!isObject(payload)) errors.push("'payload' is missing or blank");
    else {
      if (blank(payload.summary)) errors.push("'payload.summary' is missing or blank");
      if (blank(payload.source)) errors.push("'payload.source' is missing or blank");
      if (blank(payload.severity)) errors.push("'payload.severity' is missing or blank");
      else if (!SEVERITIES.includes(payload.severity as string)) {
        errors.push("'payload.severity' is invalid (must be one of: critical, error, warning, info)");
      }
      if (payload.timestamp !== undefined && Number.isNaN(Date.parse(String(payload.timestamp)))) {
        errors.push("'payload.timestamp' is invalid (must be ISO 8601)");
      }
      if (payload.custom_details !== undefined && !isObject(payload.custom_details)) {
        errors.push("'payload.custom_details' must be an object");
      }
    }
  }
  return errors;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
