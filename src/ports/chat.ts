import type { Actor, AuditAction, ChangeChannel } from '../core/flags/state.js';
import type { PhaseRequest } from '../core/phases/request.js';
import type { RollbackHeadline, RolloutResult } from '../core/rollout/result.js';
import type { RolloutStatus } from '../core/rollout/status.js';
import type { RunbookRun } from '../core/runbooks/run.js';
import type { Runbook } from '../core/runbooks/runbook.js';

/**
 * What the bot says, as data. Use-cases hand these to the `Chat` port; the messages layer
 * (`src/messages/`) renders them to Block Kit and escapes every piece of text in them, so nothing
 * a user, an API caller, the cluster or an alert wrote can become a mention, a broadcast or a link.
 */
export type Notice =
  /** Bot-worded plain text (it may still quote outside text): shown escaped, never as markup. */
  | { kind: 'note'; text: string }
  | {
      kind: 'flags-changed';
      action: AuditAction;
      changes: Array<{ key: string; to: boolean }>;
      actor: Actor;
      via: ChangeChannel;
      reason?: string;
      /** A timed change (`--for`): when it reverts by itself (ms). */
      revertAt?: number;
      /** A timed change's revert: who made it, when, for how long (ms). */
      revertOf?: { by: Actor; via: ChangeChannel; setAt: number; revertAt: number; reason?: string };
    }
  | { kind: 'phase-request'; request: PhaseRequest }
  /** The request's outcome, said in its thread. */
  | { kind: 'phase-outcome'; request: PhaseRequest }
  | { kind: 'rollback-started'; headline: RollbackHeadline }
  | { kind: 'rollback-progress'; deployment: string; status: RolloutStatus; elapsedMs: number }
  | { kind: 'rollback-result'; result: RolloutResult }
  | { kind: 'runbook-header'; runbook: Runbook; run: RunbookRun; now: string }
  | { kind: 'runbook-step'; runbook: Runbook; run: RunbookRun; index: number };

export type ChatMessage = Notice & { threadTs?: string };

/**
 * Posting to the incident channel, independent of how the chat platform is reached. Durable: a
 * post is recorded before `post` or `update` starts it, and is sent after a restart if need be;
 * `post` resolves once it is sent, with where it landed.
 */
export interface Chat {
  post(channel: string, message: ChatMessage): Promise<{ channel: string; ts: string }>;
  update(channel: string, ts: string, message: ChatMessage): Promise<void>;
  /** Reachability for /readyz. */
  ping(): Promise<void>;
}
