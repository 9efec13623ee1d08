import type { AccessControl } from './access.js';
import type { FlagService } from './flag-service.js';
import type { RollbackService } from './rollback-service.js';

/** What command handlers may use. Built once in main.ts; tests build their own. */
export interface Services {
  flags: FlagService;
  access: AccessControl;
  /** The channel announcements go to. */
  channel: string;
  /** The Kubernetes use-cases; undefined when no cluster is configured. */
  cluster?: ClusterServices;
  /** Deployments `/rollback all` rolls back (config `rollback.deployments`). */
  rollbackDeployments?: readonly string[];
}

export interface ClusterServices {
  namespace: string;
  rollback: RollbackService;
}
