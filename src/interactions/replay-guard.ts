import type { DocumentStore } from '../ports/document-store.js';
import { StoreHealth } from '../services/store-health.js';

/** The file's shape: `[key, first seen at (ms)]`, oldest first. A list, so no key becomes a property. */
export interface ReplayRecords {
  seen: [string, number][];
}

/**
 * A signature is valid for 5 minutes either side of its timestamp, so a request accepted now can
 * be replayed for up to 10 minutes: keep each record that long.
 */
export const REPLAY_KEEP_MS = 10 * 60_000;
/** Bounds the file under a flood; past this the oldest records go first (and a warning is logged). */
export const REPLAY_MAX_RECORDS = 20_000;

export type ReplayVerdict = { first: true } | { first: false; key: string };

/** Where accepted Slack requests are remembered: a file (`ReplayGuard`) or the cluster (one object per key). */
export interface ReplayRecorder {
  /** Records the keys; says whether none of them was seen inside the window. Written before acting. */
  accept(keys: readonly string[]): Promise<ReplayVerdict>;
  /** For `/readyz`: throws while the records cannot be read or written. */
  checkReady(): Promise<void>;
  /** How many records the last accept dropped inside their window (for a warning); 0 when unbounded. */
  readonly dropped: number;
}

/**
 * Remembers every accepted Slack request by its keys (signature, trigger_id, action_ts, event_id),
 * durably, so the same request sent again — a Slack retry, or a replay by someone who captured
 * it — is answered without acting again, also after a restart.
 */
export class ReplayGuard implements ReplayRecorder {
  private overflowed = 0;
  private indexed: { document: ReplayRecords; index: Map<string, number> } | undefined;
  private readonly health: StoreHealth<ReplayRecords>;

  constructor(
    private readonly store: DocumentStore<ReplayRecords>,
    private readonly now: () => number = Date.now,
    private readonly maxRecords = REPLAY_MAX_RECORDS,
  ) {
    this.health = new StoreHealth('replay records', store);
  }

  /** For `/readyz`: throws while the records cannot be read or written. */
  checkReady(): Promise<void> {
    return this.health.check();
  }

  /** Records the keys; says whether none of them was seen inside the window. Written before acting. */
  accept(keys: readonly string[]): Promise<ReplayVerdict> {
    return this.health.watch(this.record(keys), 'write');
  }

  private record(keys: readonly string[]): Promise<ReplayVerdict> {
    return this.store.update<ReplayVerdict>((current) => {
      const at = this.now();
      const index = this.indexOf(current);
      // Records are kept oldest first: the expired ones are a prefix.
      let expired = 0;
      while (expired < current.seen.length && at - current.seen[expired]![1] >= REPLAY_KEEP_MS) {
        const [key, seenAt] = current.seen[expired]!;
        if (index.get(key) === seenAt) index.delete(key);
        expired += 1;
      }
      const repeated = keys.find((key) => {
        const seenAt = index.get(key);
        return seenAt !== undefined && at - seenAt < REPLAY_KEEP_MS;
      });
      if (repeated !== undefined) return { next: current, result: { first: false, key: repeated } };
      const added = keys.map((key): [string, number] => [key, at]);
      const seen = current.seen.slice(expired).concat(added);
      this.overflowed = Math.max(0, seen.length - this.maxRecords);
      const next = { seen: this.overflowed > 0 ? seen.slice(this.overflowed) : seen };
      for (const [key] of seen.slice(0, this.overflowed)) index.delete(key);
      for (const [key, seenAt] of added) index.set(key, seenAt);
      this.indexed = { document: next, index };
      return { next, result: { first: true } };
    });
  }

  /**
   * The keys of `document` by when they were seen: kept from one request to the next (a lookup per
   * key instead of a scan of every record), rebuilt when the document is not the one it was made
   * for (the first request, or after a write failed and the store went back to what is on disk).
   */
  private indexOf(document: ReplayRecords): Map<string, number> {
    if (this.indexed?.document !== document) {
      this.indexed = { document, index: new Map(document.seen) };
    }
    return this.indexed.index;
  }

  /** How many records the last accept dropped inside their window (for a warning). */
  get dropped(): number {
    return this.overflowed;
  }
}

/** The keys that identify one Slack request, from its signature and its body. */
export function replayKeys(signature: string | undefined, body: Record<string, unknown>): string[] {
  const keys: string[] = [];
  if (signature) keys.push(`signature:${signature}`);
  if (typeof body.event_id === 'string') keys.push(`event:${body.event_id}`);
  if (typeof body.trigger_id === 'string') keys.push(`trigger:${body.trigger_id}`);
  const user = (body.user as { id?: unknown } | undefined)?.id;
  const actions = Array.isArray(body.actions) ? (body.actions as { action_ts?: unknown }[]) : [];
  for (const action of actions) {
    if (typeof action.action_ts === 'string') keys.push(`action:${String(user)}:${action.action_ts}`);
  }
  return keys;
}
