import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemoGate {
  query: string;
  max?: number;
  min?: number;
}

/**
 * A stand-in for Prometheus in local mode: the instant-query API (`GET|POST /api/v1/query`) answering
 * the gate queries with a value on the good side of their threshold while healthy and on the bad side while not, so a
 * local `/phase advance` passes or is blocked by the real gate code. Other queries answer 0 (healthy)
 * or 1 (unhealthy). Loopback only.
 */
export class DemoPrometheus {
  private server: Server | undefined;
  private healthyNow = true;
  private baseUrl: string | undefined;

  constructor(private readonly gates: readonly DemoGate[]) {}

  get healthy(): boolean {
    return this.healthyNow;
  }

  setHealthy(healthy: boolean): void {
    this.healthyNow = healthy;
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('DemoPrometheus is not started');
    return this.baseUrl;
  }

  /** The value a query answers now. */
  valueOf(query: string): number {
    const gate = this.gates.find((candidate) => candidate.query === query);
    if (!gate) return this.healthyNow ? 0 : 1;
    if (gate.max !== undefined) return this.healthyNow ? gate.max / 5 : gate.max * 3;
    // A `min` gate (a success rate, targets up): halfway to 1 (or the minimum) while healthy, below it while not.
    const min = gate.min ?? 0;
    return this.healthyNow ? (min < 1 ? (min + 1) / 2 : min) : min / 3;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://prometheus');
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const query = url.searchParams.get('query') ?? form.get('query');
        res.setHeader('content-type', 'application/json');
        if (url.pathname === '/-/ready' || url.pathname === '/-/healthy') {
          res.end(JSON.stringify({ status: 'success' }));
          return;
        }
        if (url.pathname !== '/api/v1/query') {
          res.statusCode = 404;
          res.end(
            JSON.stringify({ status: 'error', errorType: 'not_found', error: `no route ${url.pathname}` }),
          );
          return;
        }
        if (!query) {
          res.statusCode = 400;
          res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'query is required' }));
          return;
        }
        const now = Date.now() / 1000;
        res.end(
          JSON.stringify({
            status: 'success',
            data: {
              resultType: 'vector',
              result: [{ metric: { job: 'messaging-system' }, value: [now, String(this.valueOf(query))] }],
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
