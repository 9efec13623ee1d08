import type { PodView } from './types.js';

/** What a rollback is, said when it starts. */
export interface RollbackHeadline {
  deployment: string;
  revision: number;
  requestedBy: string;
  reason?: string;
}

/** How a watched rollout ended: the outcome, the pods, and the last log lines of a new pod. */
export interface RolloutResult {
  deployment: string;
  revision: number;
  outcome: 'succeeded' | 'failed' | 'timed-out' | 'stopped' | 'lost';
  message: string;
  /** The images the Deployment runs, read back from the cluster after the rollout (undefined: not read). */
  running?: string[];
  /** The revision the Deployment is at when read back. */
  runningRevision?: number;
  pods: PodView[];
  logs?: { pod: string; container: string; text: string } | { pod: string; error: string };
}
