import type { EscalationTier } from '../../core/alerts/escalation.js';
import type { AuditEntry } from '../../core/flags/state.js';
import type { IncidentEvent } from '../../core/incidents/timeline.js';
import type { Runbook } from '../../core/runbooks/runbook.js';
import type { GroupStore } from '../../ports/alert-groups.js';
import type { DocumentStore } from '../../ports/document-store.js';
import type { PhaseRequests } from '../../services/phase-request.js';
import type { RollbackAudit } from '../../services/rollback-service.js';
import type { RunbookRuns } from '../../services/runbook-service.js';
import { eventsFromRecords } from './incident-records.js';

/** Where the bot keeps what the incident timeline is read from. */
export interface IncidentSources {
  groups: Pick<GroupStore, 'all'>;
  /** The whole flag audit log. */
  flagAudit: () => Promise<AuditEntry[]>;
  /** `STATE_DIR/rollbacks/audit.json`; absent without a cluster. */
  rollbacks?: Pick<DocumentStore<RollbackAudit>, 'read'>;
  runbookRuns: Pick<DocumentStore<RunbookRuns>, 'read'>;
  phaseRequests: Pick<DocumentStore<PhaseRequests>, 'read'>;
  runbooks: readonly Runbook[];
  tiers: readonly EscalationTier[];
  oncall?: string;
}

/** Reads every store (each as it is now) into the incident's plain events. */
export function incidentEventReader(sources: IncidentSources): () => Promise<IncidentEvent[]> {
  return async () => {
    const [flagAudit, rollbacks, runs, requests] = await Promise.all([
      sources.flagAudit(),
      sources.rollbacks ? sources.rollbacks.read() : Promise.resolve({ rollbacks: [] }),
      sources.runbookRuns.read(),
      sources.phaseRequests.read(),
    ]);
    return eventsFromRecords({
      groups: sources.groups.all(),
      flagAudit,
      rollbacks: rollbacks.rollbacks,
      runbookRuns: Object.values(runs),
      runbooks: sources.runbooks,
      phaseRequests: Object.values(requests),
      tiers: sources.tiers,
      oncall: sources.oncall,
    });
  };
}

/**
 * A document read for the incident timeline only: another use-case owns and writes it (the rollback
 * audit, only with a cluster). One that cannot be read counts as `empty` here, with `onError` told;
 * its owner reports the damage.
 */
export function readingOrEmpty<T>(
  store: Pick<DocumentStore<T>, 'read'>,
  empty: T,
  onError: (error: unknown) => void,
): Pick<DocumentStore<T>, 'read'> {
  return {
    async read() {
      try {
        return await store.read();
      } catch (error) {
        onError(error);
        return empty;
      }
    },
  };
}
