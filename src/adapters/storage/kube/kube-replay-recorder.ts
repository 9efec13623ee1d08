import { createHash } from 'node:crypto';
import {
  REPLAY_KEEP_MS,
  type ReplayRecorder,
  type ReplayVerdict,
} from '../../../interactions/replay-guard.js';
import { StateConflict } from '../../../ports/state-conflict.js';
import type { KubeStateObjects } from './state-objects.js';

export const REPLAY_KIND = 'replay';
export const REPLAY_PREFIX = 'switchyard-replay-';
const SEEN_AT = 'seenAt';
const MAX_ATTEMPTS = 5;

/** The object that records one key: named by its hash (a key may hold anything; a name may not). */
export function replayObjectName(key: string): string {
  return REPLAY_PREFIX + createHash('sha256').update(key).digest('hex').slice(0, 40);
}

/**
 * Replay records in the cluster, one object per key: 20,000 keys do not fit one object, and `create`
 * is the atomic "first time?" every replica agrees on. A key whose record is older than
 * `REPLAY_KEEP_MS` counts as new (its record is replaced); `prune` deletes such records.
 */
export class KubeReplayRecorder implements ReplayRecorder {
  /** Never bounded by count: old records go by `prune`. */
  readonly dropped = 0;

  constructor(
    private readonly objects: KubeStateObjects,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * All or nothing, as the file guard: when one key cannot be recorded (the API server failed), the
   * keys this call did record are deleted again before it throws. Otherwise Slack's retry (a new
   * signature, the same event id) would be taken for a replay, and the event lost.
   */
  async accept(keys: readonly string[]): Promise<ReplayVerdict> {
    const at = this.now();
    const outcomes = await Promise.allSettled(keys.map((key) => this.acceptKey(key, at)));
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) {
      await Promise.all(
        keys.map(async (key, index) => {
          const outcome = outcomes[index]!;
          if (outcome.status !== 'fulfilled' || !outcome.value) return;
          const name = replayObjectName(key);
          const recorded = await this.objects.get(name).catch(() => undefined);
          if (recorded?.data[SEEN_AT] === String(at))
            await this.objects.delete(name, recorded.resourceVersion).catch(() => undefined);
        }),
      );
      throw (failed as PromiseRejectedResult).reason;
    }
    const first = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<boolean>).value);
    const repeated = keys.find((_, index) => !first[index]);
    return repeated === undefined ? { first: true } : { first: false, key: repeated };
  }

  /** Reads an object that never exists: fails while the API server cannot be reached or refuses us. */
  async checkReady(): Promise<void> {
    await this.objects.get(`${REPLAY_PREFIX}ready-probe`);
  }

  /** Deletes the records past their window; returns how many. */
  async prune(now: number): Promise<number> {
    let deleted = 0;
    for (const object of await this.objects.list(REPLAY_KIND)) {
      const seenAt = Number(object.data[SEEN_AT]);
      if (Number.isFinite(seenAt) && now - seenAt < REPLAY_KEEP_MS) continue;
      try {
        if (await this.objects.delete(object.name, object.resourceVersion)) deleted += 1;
      } catch (error) {
        if (!(error instanceof StateConflict)) throw error; // taken again meanwhile: kept
      }
    }
    return deleted;
  }

  /** True when this call recorded the key first (or anew, its old record expired). */
  private async acceptKey(key: string, at: number): Promise<boolean> {
    const name = replayObjectName(key);
    const data = { [SEEN_AT]: String(at) };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.objects.create(name, REPLAY_KIND, data);
        return true;
      } catch (error) {
        if (!(error instanceof StateConflict)) throw error;
      }
      const existing = await this.objects.get(name);
      if (existing) {
        const seenAt = Number(existing.data[SEEN_AT]);
        if (Number.isFinite(seenAt) && at - seenAt < REPLAY_KEEP_MS) return false;
        try {
          await this.objects.replace(existing, REPLAY_KIND, data);
          return true;
        } catch (error) {
          if (!(error instanceof StateConflict)) throw error; // another replica took it: look again
        }
      }
      if (attempt >= MAX_ATTEMPTS) throw new StateConflict(name);
    }
  }
}
