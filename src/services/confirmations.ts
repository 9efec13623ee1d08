import { randomUUID } from 'node:crypto';
import type { DocumentStore } from '../ports/document-store.js';
import { StoreHealth } from './store-health.js';

/**
 * What opened a confirmation and wants to hear how it ended (a runbook step, say): `kind` picks the
 * listener registered with `Confirmations.onSettled`, `ref` is the opener's own reference, opaque
 * here. Recorded on the confirmation, so the outcome still reaches its opener after a restart.
 */
export interface ConfirmationOpener {
  kind: string;
  ref: string;
}

/**
 * How a confirmation ended: `executed` (Confirm ran the action and it returned: `text` is the
 * answer it gave), `failed` (Confirm ran it and it threw: a refusal or an error), `cancelled`, or
 * `expired` (someone clicked it after its time).
 */
export type ConfirmationOutcome =
  | { kind: 'executed'; by: string; at: number; text: string }
  | { kind: 'failed'; by: string; at: number; reason: string }
  | { kind: 'cancelled'; by: string; at: number }
  | { kind: 'expired'; at: number };

export type SettledListener = (
  opener: ConfirmationOpener,
  outcome: ConfirmationOutcome,
  action: PendingAction,
) => Promise<void>;

export interface PendingAction {
  id: string;
  command: string;
  subcommand: string;
  args: unknown;
  requestedBy: string;
  requestedAt: number;
  expiresAt: number;
  settled?: { by: string; at: number; how: 'confirmed' | 'cancelled' };
  /** Who hears the outcome (absent on most confirmations, and in records written before it existed). */
  opener?: ConfirmationOpener;
}

/** The file's shape: pending actions by id. Only ever read into a `Map`, never indexed directly. */
export type PendingActions = Record<string, PendingAction>;

export type Claim =
  | { status: 'claimed'; action: PendingAction }
  | { status: 'settled'; action: PendingAction }
  | { status: 'expired' }
  | { status: 'unknown' };

const KEEP_SETTLED_MS = 86_400_000;

/** Ids are UUIDs we minted; anything else (`__proto__`, junk from a forged click) is unknown. */
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isConfirmationId(id: string): boolean {
  return ID.test(id);
}

/**
 * Dangerous actions wait here for a click. A claim is atomic and durable, so a second click, a
 * Slack retry or a restart in between never runs the action twice. A failed read or write is
 * remembered until the next success, so readiness reports it.
 */
export class Confirmations {
  private readonly health: StoreHealth<PendingActions>;
  private readonly listeners = new Map<string, SettledListener>();

  constructor(
    private readonly store: DocumentStore<PendingActions>,
    private readonly ttlMs = 15 * 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.health = new StoreHealth('confirmations', store);
  }

  create(
    command: string,
    subcommand: string,
    args: unknown,
    requestedBy: string,
    opener?: ConfirmationOpener,
  ): Promise<PendingAction> {
    return this.watch(
      this.store.update((current) => {
        const at = this.now();
        const action: PendingAction = {
          id: randomUUID(),
          command,
          subcommand,
          args,
          requestedBy,
          requestedAt: at,
          expiresAt: at + this.ttlMs,
          ...(opener ? { opener: { kind: opener.kind, ref: opener.ref } } : {}),
        };
        const next = this.pruned(current);
        next.set(action.id, action);
        return { next: Object.fromEntries(next), result: action };
      }),
      'write',
    );
  }

  async peek(id: string): Promise<PendingAction | undefined> {
    if (!isConfirmationId(id)) return undefined;
    return entries(await this.watch(this.store.read(), 'read')).get(id);
  }

  claim(id: string, by: string, how: 'confirmed' | 'cancelled' = 'confirmed'): Promise<Claim> {
    if (!isConfirmationId(id)) return Promise.resolve({ status: 'unknown' });
    return this.watch(
      this.store.update((current): { next: PendingActions; result: Claim } => {
        const all = entries(current);
        const action = all.get(id);
        if (!action) return { next: current, result: { status: 'unknown' } };
        if (action.settled) return { next: current, result: { status: 'settled', action } };
        if (action.expiresAt < this.now()) return { next: current, result: { status: 'expired' } };
        const settled = { ...action, settled: { by, at: this.now(), how } };
        all.set(id, settled);
        return { next: Object.fromEntries(all), result: { status: 'claimed', action: settled } };
      }),
      'write',
    );
  }

  /**
   * The hook for openers: `listener` hears how every confirmation opened with `opener.kind === kind`
   * ended. One listener per kind (a second registration replaces the first).
   */
  onSettled(kind: string, listener: SettledListener): void {
    this.listeners.set(kind, listener);
  }

  /**
   * Tells the confirmation's opener how it ended (nothing when it has none, or no listener is
   * registered for its kind). A listener that throws is the caller's to log: the action itself
   * has happened (or not) either way.
   */
  async report(action: PendingAction, outcome: ConfirmationOutcome): Promise<void> {
    const opener = action.opener;
    const listener = opener && this.listeners.get(opener.kind);
    if (opener && listener) await listener(opener, outcome, action);
  }

  /** The clock the confirmations expire by (outcomes are stamped with it). */
  time(): number {
    return this.now();
  }

  /** For `/readyz`: throws while the store cannot be read or written. */
  checkReady(): Promise<void> {
    return this.health.check();
  }

  private watch<T>(work: Promise<T>, kind: 'read' | 'write'): Promise<T> {
    return this.health.watch(work, kind);
  }

  private pruned(current: PendingActions): Map<string, PendingAction> {
    const cutoff = this.now() - KEEP_SETTLED_MS;
    return new Map([...entries(current)].filter(([, action]) => action.expiresAt > cutoff));
  }
}

function entries(document: PendingActions): Map<string, PendingAction> {
  return new Map(Object.entries(document).filter(([id]) => isConfirmationId(id)));
}
