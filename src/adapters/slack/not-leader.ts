/**
 * Thrown by a leader fence when this replica may no longer make outbound calls. The leader-election
 * module defines its own; the outbox recognises either by name, so it depends on neither.
 */
export class NotLeaderError extends Error {
  override name = 'NotLeaderError';
}

/** By name, or by class name (a subclass that does not set `name` still reads as "Error"). */
export function isNotLeader(error: unknown): boolean {
  return (
    error instanceof Error && (error.name === 'NotLeaderError' || error.constructor.name === 'NotLeaderError')
  );
}

/** The Lease term a leader's call is made under (carried in Slack message metadata). */
export interface LeaseTerm {
  holder: string;
  transitions: number;
}
