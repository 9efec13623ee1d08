import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON (undefined when the body is not JSON). */
  body: unknown;
  raw: string;
  /** What the receiver answered. */
  status: number;
}

/**
 * A webhook receiver on loopback (a status page or an email relay, for the tests): records every
 * request, answers 200 unless told to fail the next ones, and lets a test wait for what it accepted.
 */
export class WebhookReceiver {
  /** Every request, failed ones included. */
  readonly requests: ReceivedRequest[] = [];
  private readonly failures: Array<{ status: number; headers?: Record<string, string> }> = [];
  private readonly waiters = new Set<() => void>();
  private server: Server | undefined;
  url = '';

  /** Requests answered 2xx: what the receiver saw. */
  get accepted(): ReceivedRequest[] {
    return this.requests.filter((request) => request.status < 300);
  }

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const failure = this.failures.shift();
      const status = failure?.status ?? 200;
      this.requests.push({ path: req.url ?? '', headers: req.headers, body, raw, status });
      res.writeHead(status, { 'content-type': 'application/json', ...failure?.headers });
      res.end(JSON.stringify({ ok: status < 300 }));
      for (const wake of this.waiters) wake();
    });
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

  /** The next `count` requests are answered `status` (and not accepted). */
  failNext(status: number, count = 1, headers?: Record<string, string>): void {
    for (let i = 0; i < count; i += 1) this.failures.push({ status, ...(headers && { headers }) });
  }

  /** Forgets the failures still queued by `failNext`: healthy from the next request on. */
  recover(): void {
    this.failures.length = 0;
  }

  /** Resolves once `count` accepted requests match. */
  waitFor(
    count: number,
    predicate: (request: ReceivedRequest) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<ReceivedRequest[]> {
    const check = () => {
      const found = this.accepted.filter(predicate);
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
        reject(new Error(`${count} webhook request(s) not accepted within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      this.waiters.add(wake);
    });
  }
}
