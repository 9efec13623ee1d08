import { randomUUID } from 'node:crypto';
import type { DocumentStore } from '../ports/document-store.js';

export interface PendingAction {
  id: string;
  command: string;
  subcommand: string;
  args: unknown;
  requestedBy: string;
  requestedAt: number;
  expiresAt: number;
  settled?: { by: string; at: number; how: 'confirmed' | 'cancelled' };
}

export type PendingActions = Record<string, PendingAction>;

export type Claim =
  | { status: 'claimed'; action: PendingAction }
  | { status: 'settled'; action: PendingAction }
  | { status: 'expired' }
  | { status: 'unknown' };

const KEEP_SETTLED_MS = 86_400_000;

/**
 * Dangerous actions wait here for a click. A claim is atomic and durable, so a second click, a
 * Slack retry or a restart in between never runs the action twice.
 */
export class Confirmations {
  constructor(
    private readonly store: DocumentStore<PendingActions>,
    private readonly ttlMs = 15 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  create(command: string, subcommand: string, args: unknown, requestedBy: string): Promise<PendingAction> {
    return this.store.update((current) => {
      const at = this.now();
      const action: PendingAction = {
        id: randomUUID(),
        command,
        subcommand,
        args,
        requestedBy,
        requestedAt: at,
        expiresAt: at + this.ttlMs,
      };
      return { next: { ...this.pruned(current), [action.id]: action }, result: action };
    });
  }

  async peek(id: string): Promise<PendingAction | undefined> {
    return (await this.store.read())[id];
  }

  claim(id: string, by: string, how: 'confirmed' | 'cancelled' = 'confirmed'): Promise<Claim> {
    return this.store.update((current): { next: PendingActions; result: Claim } => {
      const action = current[id];
      if (!action) return { next: current, result: { status: 'unknown' } };
      if (action.settled) return { next: current, result: { status: 'settled', action } };
      if (action.expiresAt < this.now()) return { next: current, result: { status: 'expired' } };
      const settled = { ...action, settled: { by, at: this.now(), how } };
      return { next: { ...current, [id]: settled }, result: { status: 'claimed', action: settled } };
    });
  }

  private pruned(current: PendingActions): PendingActions {
    const cutoff = this.now() - KEEP_SETTLED_MS;
    return Object.fromEntries(Object.entries(current).filter(([, action]) => action.expiresAt > cutoff));
  }
}
