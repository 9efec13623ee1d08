import type { Runbook } from '../core/runbooks/runbook.js';
import type { AccessControl } from './access.js';
import type { ChecklistService } from './checklist-service.js';
import type { ClusterServices } from './cluster-services.js';
import type { FlagService } from './flag-service.js';
import type { OncallService } from './oncall-service.js';
import type { PhaseService } from './phase-service.js';
import type { RunbookService } from './runbook-service.js';

/** What command handlers may use. Built once in main.ts; tests build their own. */
export interface Services {
  flags: FlagService;
  access: AccessControl;
  /** The channel announcements go to. */
  channel: string;
  /** The Kubernetes use-cases; undefined when no cluster is configured. */
  cluster?: ClusterServices;
  /** The runbooks `/runbook` knows (config `runbooks`, else the seed's). */
  runbookCatalog?: readonly Runbook[];
  /** Deployments `/rollback all` rolls back (config `rollback.deployments`). */
  rollbackDeployments?: readonly string[];
  /** `/runbook run`: runs walked step by step in a thread; undefined where not wired. */
  runbooks?: RunbookService;
  /** `/phase advance`: approval requests, gates and the advance; undefined where not wired. */
  phases?: PhaseService;
  /** The deployment checklists people tick (`/phase status`); undefined where not wired. */
  checklists?: ChecklistService;
  /** `/oncall`: the escalation chain and who is paged next; undefined where not wired. */
  oncall?: OncallService;
}

export type { ClusterServices };
