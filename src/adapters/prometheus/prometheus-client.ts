import { z } from 'zod';
import type { PrometheusQuery, QueryResult } from '../../ports/prometheus.js';

const sampleValue = z.tuple([z.number(), z.string()]);

const responseSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({
        resultType: z.literal('vector'),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sampleValue })),
      }),
      z.object({ resultType: z.literal('scalar'), result: sampleValue }),
      z.object({ resultType: z.literal('string'), result: sampleValue }),
      z.object({
        resultType: z.literal('matrix'),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(sampleValue) })),
      }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string() }),
]);

/** The Prometheus instant-query API (`GET /api/v1/query`), with a timeout and clear errors. */
export class PrometheusClient implements PrometheusQuery {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async query(expr: string): Promise<QueryResult> {
    const url = new URL('api/v1/query', this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    url.searchParams.set('query', expr);
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      throw new PrometheusError(
        timedOut
          ? `Prometheus did not answer within ${this.timeoutMs / 1000} s`
          : `could not reach Prometheus at ${url.origin} (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new PrometheusError(`Prometheus answered HTTP ${response.status} without a JSON body`);
    }
    const parsed = responseSchema.safeParse(body);
    if (!parsed.success) {
      throw new PrometheusError(`Prometheus answered HTTP ${response.status} with an unexpected body`);
    }
    if (parsed.data.status === 'error') {
      throw new PrometheusError(`Prometheus refused the query: ${parsed.data.error}`);
    }
    const data = parsed.data.data;
    switch (data.resultType) {
      case 'vector':
        return {
          kind: 'vector',
          samples: data.result.map((sample) => ({ labels: sample.metric, value: sample.value[1] })),
        };
      case 'scalar':
      case 'string':
        return { kind: 'scalar', value: data.result[1] };
      case 'matrix':
        return {
          kind: 'vector',
          samples: data.result.map((series) => ({
            labels: series.metric,
            value: series.values.at(-1)?.[1] ?? 'NaN',
          })),
        };
    }
  }
}

export class PrometheusError extends Error {}
