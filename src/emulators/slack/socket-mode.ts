import { createHash, randomUUID } from 'node:crypto';
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../logger.js';

/**
 * Slack's Socket Mode on the emulator's port: `apps.connections.open` (app-level token) hands out a
 * single-use `ws://…/socket-mode?ticket=…` URL; the WebSocket endpoint greets with `hello`, sends
 * envelopes and collects the client's acks (`{envelope_id, payload}`).
 *
 * The WebSocket server side of RFC 6455 is implemented here (text frames, fragmentation, ping/pong,
 * close handshake; no extensions), so the emulator needs no WebSocket package. @slack/socket-mode 3.x
 * connects with undici's WebSocket client, which pings about every 1.7 s and drops a connection
 * whose pongs stop.
 */

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

/** What the client sent back for an envelope, as Slack receives it. */
export interface EnvelopeAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

export interface SendEnvelopeOptions {
  /** Default: true for slash commands (Slack lets their ack carry the reply), false otherwise. */
  acceptsResponsePayload?: boolean;
  /** Reject when no ack arrives in time; Slack's own deadline is 3 s. */
  timeoutMs?: number;
}

export const SOCKET_MODE_PATH = '/socket-mode';
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_MESSAGE_BYTES = 1024 * 1024;
const CLOSE_WAIT_MS = 1_000;

interface PendingAck {
  connection: WsConnection;
  resolve: (ack: EnvelopeAck) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class SocketModeHub {
  private readonly tickets = new Set<string>();
  private readonly connections = new Set<WsConnection>();
  private readonly pending = new Map<string, PendingAck>();
  private readonly waiters = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly options: { appToken: string; botToken: string; appId: string; logger: Logger },
  ) {}

  /** `apps.connections.open`: only the app-level token may open a connection. */
  open(token: string | undefined, baseUrl: string): { ok: boolean; [key: string]: unknown } {
    if (!token) return { ok: false, error: 'not_authed' };
    if (token === this.options.botToken) return { ok: false, error: 'not_allowed_token_type' };
    if (token !== this.options.appToken) return { ok: false, error: 'invalid_auth' };
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return { ok: true, url: `${baseUrl.replace(/^http/, 'ws')}${SOCKET_MODE_PATH}?ticket=${ticket}` };
  }

  get connected(): boolean {
    return [...this.connections].some((c) => c.open);
  }

  waitForClient(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        reject(new Error(`no Socket Mode client connected within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** Sends an envelope to the newest connection and resolves with the client's ack. */
  sendEnvelope(
    type: EnvelopeType,
    payload: Record<string, unknown>,
    options: SendEnvelopeOptions = {},
  ): Promise<EnvelopeAck> {
    const connection = [...this.connections].reverse().find((c) => c.open);
    if (!connection) return Promise.reject(new Error('no Socket Mode client is connected'));
    const envelopeId = randomUUID();
    const timeoutMs = options.timeoutMs ?? 3_000;
    const envelope: Record<string, unknown> = {
      envelope_id: envelopeId,
      type,
      payload,
      accepts_response_payload: options.acceptsResponsePayload ?? type === 'slash_commands',
      ...(type === 'events_api' ? { retry_attempt: 0, retry_reason: '' } : {}),
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(envelopeId);
        reject(new Error(`no ack for ${type} envelope ${envelopeId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(envelopeId, { connection, resolve, reject, timer });
      connection.sendText(JSON.stringify(envelope));
    });
  }

  /** The HTTP server's `upgrade` event. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const key = req.headers['sec-websocket-key'];
    const refusal =
      url.pathname !== SOCKET_MODE_PATH
        ? 404
        : req.headers.upgrade?.toLowerCase() !== 'websocket' || typeof key !== 'string'
          ? 400
          : this.stopped || !this.tickets.delete(url.searchParams.get('ticket') ?? '')
            ? 401 // tickets are single-use, like Slack's
            : undefined;
    if (refusal !== undefined) {
      socket.end(
        `HTTP/1.1 ${refusal} ${STATUS_CODES[refusal]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }

    const accept = createHash('sha1').update(`${key}${WS_GUID}`).digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    const connection = new WsConnection(socket, (text) => this.receive(text), this.options.logger);
    this.connections.add(connection);
    connection.closed.then(() => this.forget(connection));
    if (head.length > 0) connection.receive(head);
    connection.sendText(
      JSON.stringify({
        type: 'hello',
        num_connections: [...this.connections].filter((c) => c.open).length,
        debug_info: {
          host: 'applink-local',
          build_number: 1,
          approximate_connection_time: 18_060,
        },
        connection_info: { app_id: this.options.appId },
      }),
    );
    this.options.logger.debug('slack emulator: Socket Mode client connected');
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Tells every client to go (`disconnect`, like Slack before recycling), then closes what is left. */
  async close(): Promise<void> {
    this.stopped = true;
    this.tickets.clear();
    await Promise.all(
      [...this.connections].map(async (connection) => {
        if (connection.open) {
          connection.sendText(
            JSON.stringify({ type: 'disconnect', reason: 'warning', debug_info: { host: 'applink-local' } }),
          );
          await Promise.race([connection.closed, delay(CLOSE_WAIT_MS)]);
        }
        connection.close(1001);
        await Promise.race([connection.closed, delay(CLOSE_WAIT_MS)]);
        connection.destroy();
      }),
    );
  }

  private receive(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.options.logger.warn('slack emulator: Socket Mode client sent something that is not JSON');
      return;
    }
    const envelopeId = (message as { envelope_id?: unknown } | null)?.envelope_id;
    const waiting = typeof envelopeId === 'string' ? this.pending.get(envelopeId) : undefined;
    if (!waiting || typeof envelopeId !== 'string') {
      this.options.logger.warn({ envelopeId }, 'slack emulator: ack for no pending envelope');
      return;
    }
    this.pending.delete(envelopeId);
    clearTimeout(waiting.timer);
    const { payload } = message as { payload?: unknown };
    waiting.resolve({
      envelope_id: envelopeId,
      ...(typeof payload === 'object' && payload !== null
        ? { payload: payload as Record<string, unknown> }
        : {}),
    });
  }

  private forget(connection: WsConnection): void {
    this.connections.delete(connection);
    for (const [id, waiting] of this.pending) {
      if (waiting.connection !== connection) continue;
      this.pending.delete(id);
      clearTimeout(waiting.timer);
      waiting.reject(new Error(`Socket Mode connection closed before envelope ${id} was acked`));
    }
  }
}

/** The server end of one WebSocket: frames in and out, ping → pong, close handshake. */
class WsConnection {
  readonly closed: Promise<void>;
  private buffer: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;
  private closeSent = false;
  private ended = false;

  constructor(
    private readonly socket: Duplex,
    private readonly onText: (text: string) => void,
    private readonly logger: Logger,
  ) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => {
      this.ended = true;
    });
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => {
      this.logger.debug({ err }, 'slack emulator: Socket Mode socket error');
      socket.destroy();
    });
  }

  /** Open for messages: upgraded, not closing. */
  get open(): boolean {
    return !this.closeSent && !this.ended;
  }

  receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.ended) return;
      const frame = readFrame(this.buffer);
      if (frame === undefined) return;
      if ('error' in frame) {
        this.fail(frame.error);
        return;
      }
      this.buffer = this.buffer.subarray(frame.size);
      this.handle(frame);
    }
  }

  sendText(text: string): void {
    if (this.open) this.socket.write(encodeFrame(0x1, Buffer.from(text, 'utf8')));
  }

  close(code: number): void {
    if (this.closeSent || this.ended) return;
    this.closeSent = true;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.socket.write(encodeFrame(0x8, payload));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private handle(frame: Frame): void {
    const problem = this.process(frame);
    if (problem !== undefined) this.fail(problem);
  }

  /** Handles one frame; returns a close code when the peer broke the protocol. */
  private process(frame: Frame): number | undefined {
    switch (frame.opcode) {
      case 0x0:
      case 0x1:
      case 0x2: {
        if (frame.opcode !== 0x0) {
          if (this.fragments.length > 0) return 1002;
          this.fragmentOpcode = frame.opcode;
        } else if (this.fragments.length === 0) {
          return 1002;
        }
        this.fragments.push(frame.payload);
        const size = this.fragments.reduce((sum, part) => sum + part.length, 0);
        if (size > MAX_MESSAGE_BYTES) return 1009;
        if (!frame.fin) return;
        const message = Buffer.concat(this.fragments);
        this.fragments = [];
        if (this.fragmentOpcode === 0x1) this.onText(message.toString('utf8'));
        return;
      }
      case 0x8: {
        // Echo the peer's close (or answer ours), then end the TCP connection.
        if (!this.closeSent) {
          this.closeSent = true;
          this.socket.write(encodeFrame(0x8, frame.payload.subarray(0, 2)));
        }
        this.socket.end();
        return;
      }
      case 0x9:
        if (!this.ended) this.socket.write(encodeFrame(0xa, frame.payload));
        return;
      case 0xa:
        return;
      default:
        return 1002;
    }
  }

  private fail(code: number): void {
    this.close(code);
    this.socket.end();
  }
}

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
  /** Bytes the frame took in the buffer. */
  size: number;
}

/** One complete frame from the start of `buffer`, undefined if more bytes are needed. */
function readFrame(buffer: Buffer): Frame | { error: number } | undefined {
  if (buffer.length < 2) return undefined;
  const first = buffer.readUInt8(0);
  const second = buffer.readUInt8(1);
  if ((first & 0x70) !== 0) return { error: 1002 }; // no extension negotiated, so no RSV bits
  if ((second & 0x80) === 0) return { error: 1002 }; // a client must mask its frames
  let length = second & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    const big = buffer.readBigUInt64BE(2);
    if (big > BigInt(MAX_MESSAGE_BYTES)) return { error: 1009 };
    length = Number(big);
    offset = 10;
  }
  if (length > MAX_MESSAGE_BYTES) return { error: 1009 };
  if (buffer.length < offset + 4 + length) return undefined;
  const mask = buffer.subarray(offset, offset + 4);
  const payload = Buffer.from(buffer.subarray(offset + 4, offset + 4 + length));
  for (let i = 0; i < payload.length; i++) {
    payload.writeUInt8(payload.readUInt8(i) ^ mask.readUInt8(i % 4), i);
  }
  return { fin: (first & 0x80) !== 0, opcode: first & 0x0f, payload, size: offset + 4 + length };
}

/** A single unmasked server frame. */
function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.alloc(2) : length < 0x10000 ? Buffer.alloc(4) : Buffer.alloc(10);
  header.writeUInt8(0x80 | opcode, 0);
  if (length < 126) {
    header.writeUInt8(length, 1);
  } else if (length < 0x10000) {
    header.writeUInt8(126, 1);
    header.writeUInt16BE(length, 2);
  } else {
    header.writeUInt8(127, 1);
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, payload]);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
