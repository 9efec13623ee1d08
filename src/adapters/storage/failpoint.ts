/**
 * Crash points for the fault-injection tests: with `SWITCHYARD_FAILPOINT=<name>` the process kills
 * itself (SIGKILL: no cleanup, no flush) when it reaches that point. Inert unless the variable is set.
 */
export type FailpointName =
  | 'before-audit'
  | 'after-audit'
  | 'after-cluster'
  | 'after-state'
  /** Slack has accepted a post; nothing (journal, group record) knows it yet. */
  | 'after-slack-post';

export function failpoint(name: FailpointName): void {
  if (process.env.SWITCHYARD_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
