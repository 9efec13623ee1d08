import type { RollbackService } from './rollback-service.js';

/** The Kubernetes use-cases, when a cluster is configured. */
export interface ClusterServices {
  namespace: string;
  rollback: RollbackService;
}
