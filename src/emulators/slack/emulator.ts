import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../../logger.js';
import { blockKitRefusal, blockKitViolations, viewRefusal, viewViolations } from './block-kit-limits.js';
import {
  type EnvelopeAck,
  type EnvelopeType,
  type SendEnvelopeOptions,
  SocketModeHub,
} from './socket-mode.js';

export type { EnvelopeAck, EnvelopeType, SendEnvelopeOptions } from './socket-mode.js';

/**
 * A Slack workspace on loopback that speaks Slack's wire protocols: the Web API (`/api/<method>`, as
 * `@slack/web-api` calls it), response_url endpoints, Socket Mode (`apps.connections.open` and a WebSocket
 * endpoint, see socket-mode.ts), and a small JSON inspection API (`/_emulator/…`) for a process that is
 * not the one holding this object. The inspection API is unauthenticated: bind loopback.
 */

export type SlackFailure =
  | { status: 429; retryAfter: number }
  | { status: 500 | 502 | 503 }
  /** An `ok:false` answer; `errors` adds Slack's detail (`errors`, `response_metadata.messages`), as for `invalid_blocks`. */
  | { error: string; errors?: string[] };

export interface SlackResponse {
  ok: boolean;
  error?: string;
  [key: string]: unknown;
}

export type SlackParams = Record<string, unknown>;

export interface RecordedCall {
  seq: number;
  method: string;
  /** Parsed arguments without the token; `blocks`/`attachments` as objects. */
  params: SlackParams;
  at: number;
  status: number;
  response: SlackResponse;
  /** Set when the call failed because of `failNext` or the rate limit. */
  failure?: SlackFailure;
}

export interface Reaction {
  name: string;
  users: string[];
  count: number;
}

/** A message as Slack stores it, plus emulator bookkeeping (`seq`, `ephemeralTo`, `deleted`). */
export interface EmulatedMessage {
  /** Sequence number of the last change (post, update, reaction, delete). */
  seq: number;
  channel: string;
  ts: string;
  thread_ts?: string;
  user: string;
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
  reactions?: Reaction[];
  edited?: { user: string; ts: string };
  /** Posted with chat.postEphemeral: only this user sees it; it cannot be updated or deleted. */
  ephemeralTo?: string;
  deleted?: boolean;
  /** Message metadata (`chat.postMessage`'s `metadata`), shown only to `include_all_metadata` readers. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** Files shared by `files.completeUploadExternal` (the message's text is its `initial_comment`). */
  files?: Array<{ id: string; name: string; title: string; size: number }>;
}

/** A file of the `files.uploadV2` flow: announced, its bytes posted to `upload_url`, then completed. */
export interface EmulatedFile {
  id: string;
  filename: string;
  /** The `length` announced by `files.getUploadURLExternal`. */
  length: number;
  /** What was posted to the upload URL (undefined until then). */
  content?: Buffer;
  title?: string;
  /** Channels it was shared in by `files.completeUploadExternal`. */
  channels: string[];
  completed: boolean;
}

/** Where a response_url points: lets `replace_original`/`delete_original`/`in_channel` act on messages. */
export interface ResponseUrlContext {
  channel?: string;
  messageTs?: string;
}

export interface RecordedResponse {
  seq: number;
  url: string;
  at: number;
  status: number;
  /** The posted JSON: text, blocks, response_type, replace_original, delete_original, thread_ts. */
  body: SlackParams;
  /** `used_url`, `expired_url`, … when Slack would have refused the post. */
  error?: string;
}

/** A channel of the emulated workspace: public `C…` (or private `G…`) or the bot's DM `D…` with a user. */
export interface EmulatedChannel {
  id: string;
  /** Without `#`; a DM has the user's id as its name. */
  name: string;
  isIm: boolean;
  members: string[];
}

export interface ChannelSpec {
  name: string;
  /** Default: a fresh `C…` id. */
  id?: string;
  /** Whether the bot is a member, and so may post (default false, like a channel the bot was never invited to). */
  botMember?: boolean;
  members?: string[];
}

/** The incident channel of local mode and of the tests (`SLACK_CHANNEL=C0INCIDENTS`), with the bot in it. */
export const DEFAULT_CHANNELS: readonly ChannelSpec[] = [
  { id: 'C0INCIDENTS', name: 'messaging-system-incidents', botMember: true },
];

export interface SlackEmulatorOptions {
  botToken?: string;
  /** App-level token for Socket Mode's `apps.connections.open`. */
  appToken?: string;
  teamId?: string;
  botUserId?: string;
  logger?: Logger;
  /** chat.postMessage and chat.update: a token bucket per method and channel; off by default. */
  rateLimit?: { postsPerSecond: number; burst: number };
  /** The workspace's channels at start; default `DEFAULT_CHANNELS`. */
  channels?: readonly ChannelSpec[];
  /** Clock in milliseconds; injectable to test response_url expiry and the rate limit. */
  now?: () => number;
}

/** A user's App Home as views.publish last set it. */
export interface PublishedView {
  user: string;
  seq: number;
  id: string;
  hash: string;
  /** The view as published: `type: "home"`, its blocks and optional fields. */
  view: { type: 'home'; blocks: unknown[]; [field: string]: unknown };
}

interface ResponseUrlState {
  createdAt: number;
  uses: number;
  context: ResponseUrlContext;
}

interface Outcome {
  status: number;
  response: SlackResponse;
  failure?: SlackFailure;
}

const BOT_ID = 'B0LOCAL';
const APP_ID = 'A0LOCAL';
const RESPONSE_URL_MAX_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60_000;
const MAX_BODY_BYTES = 5 * 1024 * 1024;
/** Form-encoded Web API calls carry these JSON-stringified. */
const JSON_FIELDS = ['blocks', 'attachments', 'metadata', 'view'];

export class SlackEmulator {
  readonly events = new EventEmitter<{
    call: [RecordedCall];
    response: [RecordedResponse];
    /** A message was posted or changed (updated, reacted to, deleted): the sandbox page's live feed. */
    message: [EmulatedMessage];
    /** A user's App Home was published (views.publish accepted). */
    view: [PublishedView];
  }>();
  /** Block Kit violations of every recorded message body, each prefixed with the method. */
  readonly violations: string[] = [];
  /** The same, kept through `reset()` until `takeViolations()`: what the shared test guard reports. */
  private unchecked: string[] = [];

  private readonly botToken: string;
  private readonly teamId: string;
  private readonly botUserId: string;
  private readonly logger: Logger;
  private readonly rateLimit: SlackEmulatorOptions['rateLimit'];
  private readonly now: () => number;
  private readonly socketMode: SocketModeHub;

  private server: Server | undefined;
  private baseUrl: string | undefined;
  /** One counter for calls, message changes and responses, so `since=` feeds never go backwards. */
  private seq = 0;
  private lastTsMicros = 0;
  private recordedCalls: RecordedCall[] = [];
  private recordedResponses: RecordedResponse[] = [];
  private store: EmulatedMessage[] = [];
  private failures = new Map<string, SlackFailure[]>();
  private buckets = new Map<string, { tokens: number; at: number }>();
  private responseUrls = new Map<string, ResponseUrlState>();
  private readonly users = new Map<string, { name: string; isAdmin: boolean; isBot: boolean }>();
  private readonly usergroups = new Map<string, { users: string[]; handle: string; name: string }>();
  private readonly channels = new Map<string, EmulatedChannel>();
  /** Files by id, and the secret upload keys that name them in `upload_url`s. */
  private readonly uploads = new Map<string, EmulatedFile>();
  private readonly uploadKeys = new Map<string, string>();
  private channelCounter = 0;
  private homeViews = new Map<string, PublishedView>();

  constructor(options: SlackEmulatorOptions = {}) {
    this.botToken = options.botToken ?? 'xoxb-local';
    this.teamId = options.teamId ?? 'T0LOCAL';
    this.botUserId = options.botUserId ?? 'U0BOT';
    this.logger = options.logger ?? createLogger('silent');
    this.rateLimit = options.rateLimit;
    this.now = options.now ?? Date.now;
    this.users.set(this.botUserId, { name: 'switchyard', isAdmin: false, isBot: true });
    for (const spec of options.channels ?? DEFAULT_CHANNELS) this.createChannel(spec.name, spec);
    this.socketMode = new SocketModeHub({
      appToken: options.appToken ?? 'xapp-local',
      botToken: this.botToken,
      appId: APP_ID,
      logger: this.logger,
    });
  }

  async start(port = 0, host = '127.0.0.1'): Promise<void> {
    if (this.server) throw new Error('SlackEmulator already started');
    const server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        this.logger.error({ err }, 'slack emulator: request failed');
        if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'fatal_error' });
      });
    });
    server.on('upgrade', (req, socket, head) => this.socketMode.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    liveEmulators.add(this);
    const { port: actual } = server.address() as AddressInfo;
    this.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
    this.logger.info({ url: this.baseUrl }, 'slack emulator listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    if (this.unchecked.length === 0) liveEmulators.delete(this); // else the test guard still reports them
    await this.socketMode.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections(); // clients keep connections alive; don't wait for them
    });
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('SlackEmulator is not started');
    return this.baseUrl;
  }

  /** For Bolt's `clientOptions.slackApiUrl` / WebClient's `slackApiUrl` (trailing slash included). */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  // ---- test controls ----------------------------------------------------------------------------------

  /** The next `times` calls of `method` fail this way (before auth, like an outage at Slack's edge). */
  failNext(method: string, failure: SlackFailure, times = 1): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(failure);
    this.failures.set(method, queue);
  }

  addUser(id: string, user: { name: string; isAdmin?: boolean }): void {
    this.users.set(id, { name: user.name, isAdmin: user.isAdmin ?? false, isBot: false });
  }

  /** A user group (`S…`) with its members and its handle (`@handle`; default the ID in lower case). */
  setUsergroup(id: string, userIds: string[], handle = id.toLowerCase()): void {
    if (!/^[a-z0-9][a-z0-9._-]{0,20}$/.test(handle)) throw new Error(`invalid user group handle ${handle}`);
    this.usergroups.set(id, { users: [...userIds], handle, name: handle });
  }

  /**
   * Creates a channel (Slack ids: `C…`); `#name` and `name` resolve to it. Returns its id. The bot can post
   * only once it is a member (`botMember`, `joinChannel`, or `conversations.join`).
   */
  createChannel(name: string, spec: Omit<ChannelSpec, 'name'> = {}): string {
    const bare = name.replace(/^#/, '');
    if (this.channelByName(bare)) throw new Error(`channel #${bare} already exists`);
    const id = spec.id ?? `C${String(++this.channelCounter).padStart(8, '0')}`;
    if (this.channels.has(id)) throw new Error(`channel ${id} already exists`);
    const members = [...(spec.members ?? []), ...(spec.botMember ? [this.botUserId] : [])];
    this.channels.set(id, { id, name: bare, isIm: false, members: [...new Set(members)] });
    return id;
  }

  /** Adds a user (default: the bot) to a channel, by id or `#name`. */
  joinChannel(channel: string, userId = this.botUserId): void {
    const found = this.channelOf(channel);
    if (!found) throw new Error(`no channel ${channel}`);
    if (!found.members.includes(userId)) found.members.push(userId);
  }

  /** The workspace's channels, DMs included. */
  channelList(): EmulatedChannel[] {
    return structuredClone([...this.channels.values()]);
  }

  /** Violations not yet taken (even across `reset()`), then cleared: for a test that provokes them on purpose. */
  takeViolations(): string[] {
    this.violations.length = 0;
    if (!this.server) liveEmulators.delete(this);
    return this.unchecked.splice(0);
  }

  /**
   * Clears calls, messages, responses, `violations`, pending failures and rate-limit state; keeps the
   * directory (users, user groups, channels and their members) and the violations `takeViolations()` reports.
   */
  reset(): void {
    this.uploads.clear();
    this.uploadKeys.clear();
    this.recordedCalls = [];
    this.recordedResponses = [];
    this.store = [];
    this.homeViews.clear();
    this.violations.length = 0;
    this.failures.clear();
    this.buckets.clear();
    this.responseUrls.clear();
  }

  /**
   * A person's reaction, as Slack stores it when someone clicks an emoji (the app is told separately,
   * by a `reaction_added` event). Returns Slack's error code, or undefined when it was stored.
   */
  addReaction(channel: string, ts: string, name: string, user: string): string | undefined {
    const message = this.find(channel, ts);
    if (!message) return 'message_not_found';
    const reactions = message.reactions ?? [];
    const reaction = reactions.find((r) => r.name === name);
    if (reaction?.users.includes(user)) return 'already_reacted';
    if (reaction) {
      reaction.users.push(user);
      reaction.count++;
    } else reactions.push({ name, users: [user], count: 1 });
    message.reactions = reactions;
    this.touch(message);
    return undefined;
  }

  /** The reverse of addReaction; Slack's `no_reaction` when there was none by that user. */
  removeReaction(channel: string, ts: string, name: string, user: string): string | undefined {
    const message = this.find(channel, ts);
    if (!message) return 'message_not_found';
    const reaction = message.reactions?.find((r) => r.name === name);
    if (!reaction?.users.includes(user)) return 'no_reaction';
    reaction.users = reaction.users.filter((u) => u !== user);
    reaction.count--;
    message.reactions = message.reactions?.filter((r) => r.count > 0);
    this.touch(message);
    return undefined;
  }

  createResponseUrl(context: ResponseUrlContext = {}): string {
    const id = randomBytes(12).toString('hex');
    this.responseUrls.set(id, { createdAt: this.now(), uses: 0, context });
    return `${this.url}/response/${id}`;
  }

  // ---- Socket Mode ------------------------------------------------------------------------------------

  /** A client holds an open Socket Mode connection (it has been sent `hello`). */
  socketModeConnected(): boolean {
    return this.socketMode.connected;
  }

  waitForSocketClient(timeoutMs = 5000): Promise<void> {
    return this.socketMode.waitForClient(timeoutMs);
  }

  /**
   * Sends `{envelope_id, type, payload, accepts_response_payload}` over the newest Socket Mode connection
   * and resolves with the client's ack `{envelope_id, payload}`; rejects when none arrives in time.
   */
  sendEnvelope(
    type: EnvelopeType,
    payload: Record<string, unknown>,
    options: SendEnvelopeOptions = {},
  ): Promise<EnvelopeAck> {
    return this.socketMode.sendEnvelope(type, payload, options);
  }

  // ---- inspection -------------------------------------------------------------------------------------

  /** Files of the upload flow, in the order they were announced. */
  files(): EmulatedFile[] {
    return [...this.uploads.values()].map((file) => ({ ...file, channels: [...file.channels] }));
  }

  calls(method?: string): RecordedCall[] {
    return this.recordedCalls.filter((c) => method === undefined || c.method === method);
  }

  /** Current state (after updates) of the messages not deleted, in posting order; ephemeral ones included. */
  messages(channel?: string): EmulatedMessage[] {
    return structuredClone(
      this.store.filter((m) => !m.deleted && (channel === undefined || m.channel === channel)),
    );
  }

  /** The App Home views.publish last set for `user`. */
  homeView(user: string): PublishedView | undefined {
    return structuredClone(this.homeViews.get(user));
  }

  /** Every user's published App Home. */
  homeViewList(): PublishedView[] {
    return structuredClone([...this.homeViews.values()]);
  }

  /** Replies in the thread under `ts` (without the parent). */
  thread(channel: string, ts: string): EmulatedMessage[] {
    return this.messages(channel).filter((m) => m.thread_ts === ts && m.ts !== ts);
  }

  responses(responseUrl?: string): RecordedResponse[] {
    return this.recordedResponses.filter((r) => responseUrl === undefined || r.url === responseUrl);
  }

  onCall(listener: (call: RecordedCall) => void): () => void {
    this.events.on('call', listener);
    return () => this.events.off('call', listener);
  }

  /** First call of `method` (already recorded or still to come) matching; failed calls included. */
  waitForCall(
    method: string,
    predicate: (call: RecordedCall) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<RecordedCall> {
    const match = (c: RecordedCall) => c.method === method && predicate(c);
    return this.waitFor('call', this.recordedCalls, match, timeoutMs, `waitForCall(${method})`);
  }

  waitForResponse(
    predicate: (response: RecordedResponse) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<RecordedResponse> {
    return this.waitFor('response', this.recordedResponses, predicate, timeoutMs, 'waitForResponse');
  }

  private waitFor<T>(
    event: 'call' | 'response',
    seen: readonly T[],
    match: (item: T) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<T> {
    const hit = seen.find(match);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const listener = (item: T) => {
        try {
          if (!match(item)) return;
          cleanup();
          resolve(item);
        } catch (err) {
          cleanup();
          reject(err);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${what} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      // The listener's item type follows `event`; the emitter's typing cannot tie the two together.
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off(event, listener as never);
      };
      this.events.on(event, listener as never);
    });
  }

  // ---- HTTP -------------------------------------------------------------------------------------------

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname;
    if (path.startsWith('/api/')) {
      const body = parseBody(await readBody(req), req);
      const params = body && { ...Object.fromEntries(url.searchParams), ...body };
      return this.replyApi(res, path.slice('/api/'.length), params, bearer(req.headers.authorization));
    }
    if (path.startsWith('/upload/v1/')) {
      return this.replyUpload(res, path.slice('/upload/v1/'.length), req);
    }
    if (path.startsWith('/response/') && req.method === 'POST') {
      return this.replyResponseUrl(res, path.slice('/response/'.length), await readBody(req), req);
    }
    if (path === '/_emulator/messages' && req.method === 'GET') {
      return sendJson(res, 200, feed(this.store, Number(url.searchParams.get('since') ?? 0)));
    }
    if (path === '/_emulator/responses' && req.method === 'GET') {
      return sendJson(res, 200, feed(this.recordedResponses, Number(url.searchParams.get('since') ?? 0)));
    }
    if (path === '/_emulator/response-url' && req.method === 'POST') {
      const context = parseBody(await readBody(req), req) ?? {};
      return sendJson(res, 200, {
        url: this.createResponseUrl({ channel: str(context.channel), messageTs: str(context.messageTs) }),
      });
    }
    sendJson(res, 404, { ok: false, error: 'not_found' });
  }

  private replyApi(
    res: ServerResponse,
    method: string,
    parsed: SlackParams | undefined,
    auth?: string,
  ): void {
    const params = parsed ?? {};
    const token = auth ?? str(params.token);
    delete params.token; // never record credentials
    const outcome: Outcome = parsed ? this.dispatch(method, params, token) : reply({ error: 'invalid_json' });
    const call: RecordedCall = { seq: ++this.seq, method, params, at: this.now(), ...outcome };
    this.recordedCalls.push(call);
    this.logger.debug({ method, status: call.status, error: call.response.error }, 'slack emulator call');
    const headers: Record<string, string> = {};
    if (outcome.failure && 'retryAfter' in outcome.failure)
      headers['retry-after'] = String(outcome.failure.retryAfter);
    sendJson(res, outcome.status, outcome.response, headers);
    this.events.emit('call', call);
  }

  private dispatch(method: string, params: SlackParams, token: string | undefined): Outcome {
    const failure = this.failures.get(method)?.shift();
    if (failure) return failed(failure);
    if (method === 'apps.connections.open')
      return { status: 200, response: this.socketMode.open(token, this.url) };
    const handler = this.handlers[method];
    if (!handler) return reply({ error: 'unknown_method', req_method: method });
    if (!token) return reply({ error: 'not_authed' });
    if (token !== this.botToken) return reply({ error: 'invalid_auth' });
    if (method === 'chat.postMessage' || method === 'chat.update') {
      const ref = str(params.channel) ?? '';
      const channel = this.channelOf(ref)?.id ?? (isUserId(ref) ? dmChannelId([ref]) : ref);
      const retryAfter = this.takeRateToken(`${method} ${channel}`);
      if (retryAfter !== undefined) return failed({ status: 429, retryAfter });
    }
    return { status: 200, response: handler(params) };
  }

  /** Token bucket per method and channel; returns the seconds to wait when empty. */
  private takeRateToken(key: string): number | undefined {
    if (!this.rateLimit) return undefined;
    const { postsPerSecond, burst } = this.rateLimit;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * postsPerSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / postsPerSecond));
  }

  /**
   * The `upload_url` of `files.getUploadURLExternal`: a POST of the file's bytes (raw, as the SDK sends
   * them), answered `200 OK - <bytes>` as Slack's upload service does. An unknown or already used URL
   * is a 404; a body of another size than the `length` announced is refused (400), so the file can
   * never be completed. Recorded as a call of the method `upload_url`.
   */
  private async replyUpload(res: ServerResponse, key: string, req: IncomingMessage): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    }
    const file = this.uploads.get(this.uploadKeys.get(key) ?? '');
    const body = uploadedBytes(Buffer.concat(chunks), req.headers['content-type']);
    let status = 200;
    let text = `OK - ${body.length}`;
    if (req.method !== 'POST') [status, text] = [405, 'method not allowed'];
    else if (!file || file.content !== undefined) [status, text] = [404, 'not found'];
    else if (size > MAX_BODY_BYTES || body.length !== file.length)
      [status, text] = [400, `length mismatch: announced ${file.length}, got ${size}`];
    else {
      file.content = body;
      this.uploadKeys.delete(key);
    }
    const call: RecordedCall = {
      seq: ++this.seq,
      method: 'upload_url',
      params: { file_id: file?.id ?? '', bytes: size },
      at: this.now(),
      status,
      response: status === 200 ? { ok: true } : { ok: false, error: text },
    };
    this.recordedCalls.push(call);
    res.writeHead(status, STATUS_CODES[status], { 'content-type': 'text/plain; charset=utf-8' });
    res.end(text);
    this.events.emit('call', call);
  }

  private replyResponseUrl(res: ServerResponse, id: string, raw: string, req: IncomingMessage): void {
    const body = parseBody(raw, req);
    const state = this.responseUrls.get(id);
    let error: string | undefined;
    if (!body) error = 'invalid_payload';
    else if (!state) error = 'no_such_url';
    else if (this.now() - state.createdAt > RESPONSE_URL_TTL_MS) error = 'expired_url';
    else if (state.uses >= RESPONSE_URL_MAX_USES) error = 'used_url';
    const status = error === undefined ? 200 : error === 'invalid_payload' ? 400 : 404;
    if (state && body && error === undefined) {
      state.uses++;
      this.check('response_url', body); // recorded (the shared test guard fails the test); not a Web API call
      this.applyResponse(state.context, body);
    }
    const url = `${this.url}/response/${id}`;
    const recorded: RecordedResponse = {
      seq: ++this.seq,
      url,
      at: this.now(),
      status,
      body: body ?? {},
      error,
    };
    this.recordedResponses.push(recorded);
    sendJson(res, status, error === undefined ? { ok: true } : { ok: false, error });
    this.events.emit('response', recorded);
  }

  /** What Slack does with a response_url post besides showing it to the user. */
  private applyResponse(context: ResponseUrlContext, body: SlackParams): void {
    if (!context.channel) return;
    const original = context.messageTs ? this.find(context.channel, context.messageTs) : undefined;
    if (original && truthy(body.delete_original)) {
      original.deleted = true;
      this.touch(original);
    } else if (original && truthy(body.replace_original)) {
      const { text, blocks, attachments } = messageContent(body); // replaces the whole message
      Object.assign(original, { text, blocks, attachments });
      this.touch(original);
    } else if (body.response_type === 'in_channel') {
      this.post({ channel: context.channel, thread_ts: str(body.thread_ts), ...messageContent(body) });
    }
  }

  // ---- Web API methods --------------------------------------------------------------------------------

  private readonly handlers: Record<string, (p: SlackParams) => SlackResponse> = {
    'auth.test': () => ({
      ok: true,
      url: 'https://local.slack.com/',
      team: 'Local',
      user: 'switchyard',
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: BOT_ID,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (p) => {
      const target = this.resolveChannel(p.channel);
      if ('error' in target) return fail(target.error);
      if (!p.text && p.blocks === undefined && p.attachments === undefined) return fail('no_text');
      const invalid = this.check('chat.postMessage', p);
      if (invalid) return invalid;
      const metadata = messageMetadata(p.metadata);
      if (metadata === 'invalid') return fail('invalid_metadata_format');
      const message = this.post({
        channel: target.channel.id,
        thread_ts: str(p.thread_ts),
        ...messageContent(p),
        metadata,
      });
      return { ok: true, channel: message.channel, ts: message.ts, message: this.view(message) };
    },
    'chat.update': (p) => {
      const target = this.resolveChannel(p.channel);
      if ('error' in target) return fail(target.error);
      const channel = target.channel.id;
      const message = this.find(channel, str(p.ts));
      if (!message) return fail('message_not_found');
      // Like Slack: fields left out keep their previous value.
      const updated = { ...message, ...messageContent(p) };
      const invalid = this.check('chat.update', updated);
      if (invalid) return invalid;
      Object.assign(message, updated, { edited: { user: this.botUserId, ts: this.nextTs() } });
      this.touch(message);
      return { ok: true, channel, ts: message.ts, text: message.text ?? '', message: this.view(message) };
    },
    'chat.postEphemeral': (p) => {
      const target = this.resolveChannel(p.channel);
      if ('error' in target) return fail(target.error);
      const channel = target.channel.id;
      const user = str(p.user);
      if (!user) return fail('user_not_found');
      if (!p.text && p.blocks === undefined && p.attachments === undefined) return fail('no_text');
      const invalid = this.check('chat.postEphemeral', p);
      if (invalid) return invalid;
      const message = this.post({
        channel,
        thread_ts: str(p.thread_ts),
        ephemeralTo: user,
        ...messageContent(p),
      });
      return { ok: true, message_ts: message.ts };
    },
    'chat.delete': (p) => {
      const target = this.resolveChannel(p.channel);
      if ('error' in target) return fail(target.error);
      const channel = target.channel.id;
      const message = this.find(channel, str(p.ts));
      if (!message) return fail('message_not_found');
      message.deleted = true;
      this.touch(message);
      return { ok: true, channel, ts: message.ts };
    },
    /** Step 1 of `files.uploadV2`: Slack's argument checks, then a one-use upload URL and the file's id. */
    'files.getUploadURLExternal': (p) => {
      const filename = str(p.filename);
      if (!filename) return fail('invalid_arguments');
      if (p.length === undefined || p.length === '' || Number(p.length) === 0)
        return fail('missing_argument');
      const length = Number(p.length);
      if (!Number.isInteger(length) || length < 0) return fail('invalid_arguments');
      if (length > MAX_BODY_BYTES) return fail('file_upload_size_restricted');
      const id = `F${String(this.uploads.size + 1).padStart(10, '0')}`;
      const key = randomBytes(12).toString('hex');
      this.uploads.set(id, { id, filename, length, channels: [], completed: false });
      this.uploadKeys.set(key, id);
      return { ok: true, upload_url: `${this.url}/upload/v1/${key}`, file_id: id };
    },
    /**
     * Step 3: shares the uploaded files in `channel_id` (an id, never a name) with `initial_comment`, as
     * a message carrying the files. A file whose bytes never arrived is `file_not_found`.
     */
    'files.completeUploadExternal': (p) => {
      let files: unknown = p.files;
      if (typeof files === 'string') {
        try {
          files = JSON.parse(files);
        } catch {
          return fail('invalid_arguments');
        }
      }
      if (
        !Array.isArray(files) ||
        files.length === 0 ||
        !files.every(
          (f) => typeof f === 'object' && f !== null && typeof (f as { id?: unknown }).id === 'string',
        )
      )
        return fail('invalid_arguments');
      const wanted = files as Array<{ id: string; title?: unknown }>;
      const found = wanted.map((f) => this.uploads.get(f.id));
      if (found.some((file) => file === undefined || file.content === undefined))
        return fail('file_not_found');
      const channelRef = str(p.channel_id);
      let channel: EmulatedChannel | undefined;
      if (channelRef) {
        if (!this.channels.has(channelRef)) return fail('channel_not_found'); // an id, never a name
        const target = this.resolveChannel(channelRef);
        if ('error' in target) return fail(target.error);
        channel = target.channel;
      }
      const shared = found.map((file, index) => {
        const title = wanted[index]?.title;
        file!.title = typeof title === 'string' && title ? title : file!.filename;
        file!.completed = true;
        if (channel && !file!.channels.includes(channel.id)) file!.channels.push(channel.id);
        return file!;
      });
      if (channel) {
        this.post({
          channel: channel.id,
          thread_ts: str(p.thread_ts),
          text: typeof p.initial_comment === 'string' ? p.initial_comment : '',
          files: shared.map((file) => ({
            id: file.id,
            name: file.filename,
            title: file.title ?? file.filename,
            size: file.length,
          })),
        });
      }
      return {
        ok: true,
        files: shared.map((file) => ({
          id: file.id,
          title: file.title,
          name: file.filename,
          size: file.length,
        })),
      };
    },
    'conversations.open': (p) => {
      const existing = str(p.channel);
      if (existing) {
        const im = this.channels.get(existing);
        return im?.isIm ? { ok: true, channel: { id: im.id } } : fail('channel_not_found');
      }
      const users = (Array.isArray(p.users) ? p.users.map(String) : (str(p.users) ?? '').split(','))
        .map((u) => u.trim())
        .filter(Boolean);
      if (users.length === 0) return fail('users_list_not_supplied');
      return { ok: true, channel: { id: this.imWith(users).id } };
    },
    'conversations.join': (p) => {
      const channel = this.channelOf(str(p.channel) ?? '');
      if (!channel || channel.isIm) return fail('channel_not_found');
      const already = channel.members.includes(this.botUserId);
      if (!already) channel.members.push(this.botUserId);
      return {
        ok: true,
        channel: this.channelView(channel),
        ...(already ? { already_in_channel: true } : {}),
      };
    },
    'conversations.history': (p) => {
      // Slack wants a conversation id here (a user id is channel_not_found), and membership.
      const ref = str(p.channel) ?? '';
      if (!this.channels.has(ref)) return fail('channel_not_found'); // an id, never a name or a user
      const target = this.resolveChannel(ref);
      if ('error' in target) return fail(target.error);
      return this.history(target.channel.id, p);
    },
    'conversations.list': (p) => {
      const types = (str(p.types) ?? 'public_channel').split(',').map((type) => type.trim());
      const all = [...this.channels.values()].filter((c) =>
        c.isIm ? types.includes('im') : types.includes('public_channel'),
      );
      const limit = Math.min(1000, Math.max(1, Number(p.limit ?? 100) || 100));
      const cursor = str(p.cursor);
      const start = cursor
        ? Number(
            Buffer.from(cursor, 'base64')
              .toString()
              .replace(/^offset:/, ''),
          ) || 0
        : 0;
      const more = start + limit < all.length;
      return {
        ok: true,
        channels: all.slice(start, start + limit).map((c) => this.channelView(c)),
        response_metadata: {
          next_cursor: more ? Buffer.from(`offset:${start + limit}`).toString('base64') : '',
        },
      };
    },
    'conversations.info': (p) => {
      const channel = this.channelOf(str(p.channel) ?? '');
      return channel ? { ok: true, channel: this.channelView(channel) } : fail('channel_not_found');
    },
    'usergroups.users.list': (p) => {
      const group = this.usergroups.get(str(p.usergroup) ?? '');
      return group ? { ok: true, users: [...group.users] } : fail('no_such_subteam');
    },
    // Like Slack: users only with include_users, user_count only with include_count.
    'usergroups.list': (p) => ({
      ok: true,
      usergroups: [...this.usergroups].map(([id, group]) => ({
        id,
        team_id: this.teamId,
        is_usergroup: true,
        name: group.name,
        description: '',
        handle: group.handle,
        date_create: 0,
        date_delete: 0,
        ...(truthy(p.include_users) && { users: [...group.users] }),
        ...(truthy(p.include_count) && { user_count: group.users.length }),
      })),
    }),
    'users.info': (p) => {
      const id = str(p.user) ?? '';
      const user = this.users.get(id);
      if (!user) return fail('user_not_found');
      return {
        ok: true,
        user: {
          id,
          team_id: this.teamId,
          name: user.name,
          real_name: user.name,
          deleted: false,
          is_admin: user.isAdmin,
          is_owner: false,
          is_bot: user.isBot,
          profile: { display_name: user.name, real_name: user.name },
        },
      };
    },
    'reactions.add': (p) => {
      const target = this.resolveChannel(p.channel);
      if ('error' in target) return fail(target.error);
      const name = str(p.name);
      if (!name) return fail('invalid_name');
      const message = this.find(target.channel.id, str(p.timestamp));
      if (!message) return fail('message_not_found');
      const reactions = message.reactions ?? [];
      const reaction = reactions.find((r) => r.name === name);
      if (reaction?.users.includes(this.botUserId)) return fail('already_reacted');
      if (reaction) {
        reaction.users.push(this.botUserId);
        reaction.count++;
      } else {
        reactions.push({ name, users: [this.botUserId], count: 1 });
      }
      message.reactions = reactions;
      this.touch(message);
      return { ok: true };
    },
    'views.publish': (p) => {
      const user = str(p.user_id);
      if (!user)
        return fail('invalid_arguments', {
          response_metadata: { messages: ['[ERROR] missing required field: user_id'] },
        });
      if (!this.users.has(user)) return fail('user_not_found');
      const found = viewViolations(p.view, 'home');
      if (found.length > 0) {
        const recorded = found.map((v) => `views.publish: ${v}`);
        this.violations.push(...recorded);
        this.unchecked.push(...recorded);
        this.logger.warn(
          { method: 'views.publish', violations: found },
          'slack emulator: Block Kit violation',
        );
        return viewRefusal(found);
      }
      const previous = this.homeViews.get(user);
      const hash = str(p.hash);
      if (hash !== undefined && previous && previous.hash !== hash) return fail('hash_conflict');
      const view = structuredClone(p.view) as PublishedView['view'];
      const published: PublishedView = {
        user,
        seq: ++this.seq,
        id: previous?.id ?? `V${randomBytes(5).toString('hex').toUpperCase()}`,
        hash: `${Math.floor(this.now() / 1000)}.${randomBytes(4).toString('hex')}`,
        view,
      };
      this.homeViews.set(user, published);
      this.events.emit('view', structuredClone(published));
      return {
        ok: true,
        view: {
          id: published.id,
          team_id: this.teamId,
          app_id: APP_ID,
          bot_id: BOT_ID,
          private_metadata: '',
          callback_id: '',
          external_id: '',
          ...view,
          hash: published.hash,
        },
      };
    },
    'reactions.get': (p) => {
      const target = this.resolveChannel(p.channel);
      if ('error' in target) return fail(target.error);
      const message = this.find(target.channel.id, str(p.timestamp));
      if (!message) return fail('message_not_found');
      return { ok: true, type: 'message', channel: message.channel, message: this.view(message) };
    },
  };

  /**
   * Strict, like Slack: records the Block Kit violations of a message and returns Slack's refusal
   * (`invalid_blocks`, `msg_too_long` or `invalid_attachments`, with `errors` and
   * `response_metadata.messages`); the caller then stores nothing.
   */
  private check(method: string, body: SlackParams): SlackResponse | undefined {
    const found = blockKitViolations(body as Parameters<typeof blockKitViolations>[0]);
    if (found.length === 0) return undefined;
    const recorded = found.map((v) => `${method}: ${v}`);
    this.violations.push(...recorded);
    this.unchecked.push(...recorded);
    this.logger.warn({ method, violations: found }, 'slack emulator: Block Kit violation');
    return { ...blockKitRefusal(found) };
  }

  /**
   * A `channel` argument as Slack resolves it: a channel id, `#name` or `name`, or a user id (the bot's DM
   * with that user). Unknown: `channel_not_found`; the bot not a member: `not_in_channel`.
   */
  private resolveChannel(ref: unknown): { channel: EmulatedChannel } | { error: string } {
    const id = str(ref);
    const channel = id && (isUserId(id) ? this.imWith([id]) : this.channelOf(id));
    if (!channel) return { error: 'channel_not_found' };
    if (!channel.members.includes(this.botUserId)) return { error: 'not_in_channel' };
    return { channel };
  }

  private channelOf(ref: string): EmulatedChannel | undefined {
    return this.channels.get(ref) ?? this.channelByName(ref.replace(/^#/, ''));
  }

  private channelByName(name: string): EmulatedChannel | undefined {
    return [...this.channels.values()].find((c) => !c.isIm && c.name === name);
  }

  /** The bot's DM (`D…`) with one user, or a group DM with several; opened on first use. */
  private imWith(users: string[]): EmulatedChannel {
    const id = dmChannelId(users);
    let im = this.channels.get(id);
    if (!im) {
      im = { id, name: users.join(','), isIm: true, members: [this.botUserId, ...users] };
      this.channels.set(id, im);
    }
    return im;
  }

  private channelView(c: EmulatedChannel): SlackParams {
    return {
      id: c.id,
      name: c.name,
      is_channel: !c.isIm,
      is_im: c.isIm,
      is_member: c.members.includes(this.botUserId),
      num_members: c.members.length,
    };
  }

  private post(fields: Omit<EmulatedMessage, 'seq' | 'ts' | 'user'>): EmulatedMessage {
    const message: EmulatedMessage = {
      ...dropUndefined(fields),
      seq: ++this.seq,
      ts: this.nextTs(),
      user: this.botUserId,
    };
    this.store.push(message);
    this.events.emit('message', structuredClone(message));
    return message;
  }

  /** A message that chat.update/delete/reactions can address: not deleted, not ephemeral. */
  private find(channel: string, ts: string | undefined): EmulatedMessage | undefined {
    return this.store.find((m) => m.channel === channel && m.ts === ts && !m.deleted && !m.ephemeralTo);
  }

  private touch(message: EmulatedMessage): void {
    message.seq = ++this.seq;
    this.events.emit('message', structuredClone(message));
  }

  /** Slack-shaped message for API answers. */
  private view(m: EmulatedMessage, withMetadata = false): SlackParams {
    const { seq: _seq, channel: _channel, ephemeralTo: _to, deleted: _deleted, metadata, ...slack } = m;
    return structuredClone({
      type: 'message',
      bot_id: BOT_ID,
      team: this.teamId,
      ...slack,
      ...(withMetadata && metadata ? { metadata } : {}),
    });
  }

  /**
   * `conversations.history`: top-level messages (thread replies stay in their thread), newest first,
   * between `oldest` and `latest` (exclusive unless `inclusive`), `limit` per page (default 100, at most
   * 999) with a cursor; metadata only with `include_all_metadata`.
   */
  private history(channel: string, p: SlackParams): SlackResponse {
    const limit = Math.min(999, Math.max(1, Number(p.limit ?? 100) || 100));
    const inclusive = truthy(p.inclusive);
    const oldest = Number(p.oldest ?? 0);
    const latest = p.latest === undefined ? Number.POSITIVE_INFINITY : Number(p.latest);
    const after = (ts: number) => (inclusive ? ts >= oldest : ts > oldest);
    const before = (ts: number) => (inclusive ? ts <= latest : ts < latest);
    const all = this.store
      .filter(
        (m) =>
          m.channel === channel &&
          !m.deleted &&
          !m.ephemeralTo &&
          (m.thread_ts === undefined || m.thread_ts === m.ts) &&
          after(Number(m.ts)) &&
          before(Number(m.ts)),
      )
      .sort((a, b) => Number(b.ts) - Number(a.ts));
    const cursor = str(p.cursor);
    const start = cursor
      ? Number(
          Buffer.from(cursor, 'base64')
            .toString()
            .replace(/^offset:/, ''),
        ) || 0
      : 0;
    const page = all.slice(start, start + limit);
    const more = start + limit < all.length;
    return {
      ok: true,
      messages: page.map((m) => this.view(m, truthy(p.include_all_metadata))),
      has_more: more,
      pin_count: 0,
      response_metadata: {
        next_cursor: more ? Buffer.from(`offset:${start + limit}`).toString('base64') : '',
      },
    };
  }

  /** Unique, increasing `seconds.micros` timestamps, like Slack's message ts. */
  private nextTs(): string {
    this.lastTsMicros = Math.max(this.lastTsMicros + 1, this.now() * 1000);
    const seconds = Math.floor(this.lastTsMicros / 1e6);
    return `${seconds}.${String(this.lastTsMicros % 1e6).padStart(6, '0')}`;
  }
}

// ---- helpers --------------------------------------------------------------------------------------------

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const truthy = (v: unknown): boolean => v === true || v === 'true';

function fail(error: string, extra: SlackParams = {}): SlackResponse {
  return { ok: false, error, ...extra };
}

function reply(body: { error: string } & SlackParams): Outcome {
  return { status: 200, response: { ok: false, ...body } };
}

function failed(failure: SlackFailure): Outcome {
  if ('error' in failure) {
    const detail = failure.errors && {
      errors: failure.errors,
      response_metadata: { messages: failure.errors.map((e) => `[ERROR] ${e}`) },
    };
    return { status: 200, response: fail(failure.error, detail), failure };
  }
  if (failure.status === 429) return { status: 429, response: fail('ratelimited'), failure };
  // Both are real Slack error codes for server-side trouble.
  return {
    status: failure.status,
    response: fail(failure.status === 500 ? 'fatal_error' : 'service_unavailable'),
    failure,
  };
}

/** `metadata` as Slack takes it: an object (or its JSON) with a string `event_type` and an object `event_payload`. */
function messageMetadata(raw: unknown): EmulatedMessage['metadata'] | 'invalid' {
  if (raw === undefined) return undefined;
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return 'invalid';
    }
  }
  const candidate = value as { event_type?: unknown; event_payload?: unknown } | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.event_type !== 'string' ||
    !candidate.event_type ||
    typeof candidate.event_payload !== 'object' ||
    candidate.event_payload === null ||
    Array.isArray(candidate.event_payload)
  )
    return 'invalid';
  return {
    event_type: candidate.event_type,
    event_payload: candidate.event_payload as Record<string, unknown>,
  };
}

function messageContent(p: SlackParams): Pick<EmulatedMessage, 'text' | 'blocks' | 'attachments'> {
  return dropUndefined({
    text: typeof p.text === 'string' ? p.text : undefined,
    blocks: Array.isArray(p.blocks) ? p.blocks : undefined,
    attachments: Array.isArray(p.attachments) ? p.attachments : undefined,
  });
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Emulators started and not yet stopped: the shared test guard checks their violations after each test. */
const liveEmulators = new Set<SlackEmulator>();

export function liveSlackEmulators(): SlackEmulator[] {
  return [...liveEmulators];
}

/** chat.postMessage to a user ID posts in the app's DM with that user. */
const isUserId = (ref: string): boolean => /^[UW][A-Z0-9]+$/.test(ref);

function dmChannelId(users: string[]): string {
  if (users.length === 1) return `D${users[0]!.slice(1)}`;
  const digest = createHash('sha256')
    .update([...users].sort().join(','))
    .digest('hex');
  return `G${digest.slice(0, 10).toUpperCase()}`;
}

/**
 * The file's bytes in a POST to an upload URL: the body itself, or, in a `multipart/form-data` body
 * (Slack takes both), the part that carries a file (a `filename=`), else the first part.
 */
function uploadedBytes(body: Buffer, contentType: string | undefined): Buffer {
  const boundary = /^multipart\/form-data;.*\bboundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
  if (!boundary) return body;
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    parts.push(body.subarray(start + delimiter.length, next));
    start = next;
  }
  const parsed = parts.map((part) => {
    const split = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, Math.max(0, split)).toString('latin1');
    // Each part is `\r\n<headers>\r\n\r\n<bytes>\r\n`.
    const bytes =
      split < 0 ? Buffer.alloc(0) : part.subarray(split + 4, Math.max(split + 4, part.length - 2));
    return { headers, bytes };
  });
  const file = parsed.find((part) => /filename=/i.test(part.headers)) ?? parsed[0];
  return file ? file.bytes : body;
}

function feed<T extends { seq: number }>(items: T[], since: number): { items: T[]; next: number } {
  const fresh = items.filter((i) => i.seq > since).sort((a, b) => a.seq - b.seq);
  return { items: fresh, next: fresh.at(-1)?.seq ?? since };
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** JSON or form-encoded parameters; JSON_FIELDS of a form are parsed. Undefined for broken JSON. */
function parseBody(raw: string, req: IncomingMessage): SlackParams | undefined {
  if (/json/i.test(req.headers['content-type'] ?? '')) {
    try {
      const parsed: unknown = raw === '' ? {} : JSON.parse(raw);
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as SlackParams)
        : undefined;
    } catch {
      return undefined;
    }
  }
  const params: SlackParams = Object.fromEntries(new URLSearchParams(raw));
  for (const field of JSON_FIELDS) {
    const value = params[field];
    if (typeof value !== 'string') continue;
    try {
      params[field] = JSON.parse(value);
    } catch {
      // keep the string: blockKitViolations reports it as "must be an array"
    }
  }
  return params;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, STATUS_CODES[status], {
    'content-type': 'application/json; charset=utf-8',
    ...headers,
  });
  res.end(JSON.stringify(body));
}
