import type { Target } from './routes.js';
import { apiError, forbidden, KubeApiError } from './status.js';

interface Rule {
  verb: string;
  resource: string;
}

interface InjectedFailure extends Rule {
  status: number;
  remaining: number;
}

/**
 * Test knobs on the request path: RBAC denials and injected failures, matched by verb and resource;
 * network partitions, by user.
 */
export class Faults {
  private readonly denials: Rule[] = [];
  private readonly failures: InjectedFailure[] = [];
  /** Partitioned users, each with the resolvers of the requests hanging until the heal. */
  private readonly partitions = new Map<string, Set<() => void>>();

  partition(user: string): void {
    if (!this.partitions.has(user)) this.partitions.set(user, new Set());
  }

  heal(user: string): void {
    const waiting = this.partitions.get(user);
    this.partitions.delete(user);
    for (const resolve of waiting ?? []) resolve();
  }

  isPartitioned(user: string): boolean {
    return this.partitions.has(user);
  }

  /** Resolves when `user`'s partition heals (at once when it is not partitioned). */
  partitionHealed(user: string): Promise<void> {
    const waiting = this.partitions.get(user);
    if (!waiting) return Promise.resolve();
    return new Promise((resolve) => waiting.add(resolve));
  }

  deny(verb: string, resource: string): () => void {
    const rule = { verb, resource };
    this.denials.push(rule);
    return () => {
      const index = this.denials.indexOf(rule);
      if (index >= 0) this.denials.splice(index, 1);
    };
  }

  failNext(verb: string, resource: string, status: number, times: number): void {
    this.failures.push({ verb, resource, status, remaining: times });
  }

  reset(): void {
    this.denials.length = 0;
    this.failures.length = 0;
    for (const user of [...this.partitions.keys()]) this.heal(user);
  }

  /** Throws the 403 of a denial, or the next injected failure, that matches the request. */
  check(verb: string, target: Extract<Target, { type: 'resource' }>, resource: string, user: string): void {
    const matches = (rule: Rule) =>
      (rule.verb === '*' || rule.verb === verb) && (rule.resource === '*' || rule.resource === resource);
    if (this.denials.some(matches)) {
      throw forbidden(target.resource, resource, verb, user, target.namespace, target.name);
    }
    const failure = this.failures.find(matches);
    if (!failure) return;
    failure.remaining--;
    if (failure.remaining <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
    const what = `injected failure (${verb} ${resource})`;
    const error = apiError(failure.status, failure.status >= 500 ? `Internal error occurred: ${what}` : what);
    if (failure.status === 429)
      throw new KubeApiError(429, error.reason, error.message, { retryAfterSeconds: 1 });
    throw error;
  }
}
