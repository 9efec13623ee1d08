import type { Logger } from '../../logger.js';

/** How long the handles are kept before `usergroups.list` is asked again. */
export const HANDLES_TTL_MS = 10 * 60_000;

/**
 * User-group handles by ID (`usergroups.list`), cached: the alert message shows `@messaging-oncall`
 * instead of `S0ONCALL`. Never throws: when Slack cannot say, the last known handles (or none) are
 * used, and the message falls back to the ID; asked again after `retryMs`.
 */
export class UsergroupHandles {
  private cached: { handles: ReadonlyMap<string, string>; at: number } | undefined;
  private pending: Promise<ReadonlyMap<string, string>> | undefined;

  constructor(
    private readonly list: () => Promise<Map<string, string>>,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = HANDLES_TTL_MS,
    private readonly retryMs = 60_000,
  ) {}

  get(): Promise<ReadonlyMap<string, string>> {
    const cached = this.cached;
    if (cached && this.now() - cached.at < this.ttlMs) return Promise.resolve(cached.handles);
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<ReadonlyMap<string, string>> {
    try {
      const handles = await this.list();
      this.cached = { handles, at: this.now() };
      return handles;
    } catch (error) {
      this.log.warn({ err: error }, 'usergroups.list failed: user groups are shown by ID for now');
      const handles = this.cached?.handles ?? new Map<string, string>();
      // Try again after retryMs, not on every message.
      this.cached = { handles, at: this.now() - this.ttlMs + this.retryMs };
      return handles;
    }
  }
}
