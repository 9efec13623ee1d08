import { join } from 'node:path';
import type { z } from 'zod';
import type { FlagCatalog } from '../../core/flags/catalog.js';
import { ReplayGuard, type ReplayRecorder, type ReplayRecords } from '../../interactions/replay-guard.js';
import type { Logger } from '../../logger.js';
import type { ObservableGroupStore } from '../../ports/alert-groups.js';
import type { ObservableDocumentStore } from '../../ports/document-store.js';
import type { FlagStore } from '../../ports/flag-store.js';
import { FileDocumentStore } from './file-document-store.js';
import { FileFlagStore } from './file-flag-store.js';
import { FileGroupStore } from './file-group-store.js';
import type { Quarantine } from './quarantine.js';
import { replayRecordsSchema } from './state-schemas.js';

/** The state documents every backend keeps, by name. */
export type DocumentName =
  | 'confirmations'
  | 'phase-requests'
  | 'runbook-runs'
  | 'checklists'
  | 'home-users'
  | 'timed-flags'
  | 'startup-warnings'
  | 'rollback-audit';

export interface DocumentValidationSpec {
  schema: z.ZodType;
  /** What the document holds, for notices ("pending confirmations"). */
  what: string;
}

/** Where the bot's state lives: files under STATE_DIR (one replica) or the API server (several). */
export interface StateBackend {
  readonly kind: 'file' | 'kubernetes';
  document<T>(
    name: DocumentName,
    initial: () => T,
    validation: DocumentValidationSpec,
  ): ObservableDocumentStore<T>;
  /** Loaded; with the kubernetes backend, the cache is kept fresh by a watch until `stop`. */
  groups(): Promise<ObservableGroupStore>;
  flags(catalog: FlagCatalog): FlagStore;
  /** The replay guard's storage. */
  replay(): ReplayRecorder;
  /** Ends watches. */
  stop(): Promise<void>;
}

/** Where each document has always been under STATE_DIR (kept: existing state loads unchanged). */
export const DOCUMENT_PATHS: Record<DocumentName, string> = {
  confirmations: 'confirmations.json',
  'phase-requests': join('phases', 'requests.json'),
  'runbook-runs': join('runbooks', 'runs.json'),
  checklists: join('phases', 'checklists.json'),
  'home-users': 'home-users.json',
  'timed-flags': join('flags', 'timed.json'),
  'startup-warnings': 'startup-warnings.json',
  'rollback-audit': join('rollbacks', 'audit.json'),
};

export interface FileBackendOptions {
  stateDir: string;
  quarantine: Quarantine;
  log: Logger;
  /** The replay window's clock (ms). */
  now?: () => number;
}

/** The embedded default: JSON files under STATE_DIR, for one replica with a volume. */
export function fileBackend({ stateDir, quarantine, log, now = Date.now }: FileBackendOptions): StateBackend {
  let groups: Promise<ObservableGroupStore> | undefined;
  return {
    kind: 'file',
    document: <T>(name: DocumentName, initial: () => T, validation: DocumentValidationSpec) =>
      new FileDocumentStore<T>(join(stateDir, DOCUMENT_PATHS[name]), initial, { ...validation, quarantine }),
    groups: () => {
      groups ??= (async () => {
        const store = new FileGroupStore(join(stateDir, 'alerts', 'groups'), quarantine);
        await store.load();
        return store;
      })();
      return groups;
    },
    flags: (catalog) => new FileFlagStore(join(stateDir, 'flags'), catalog, { quarantine, log }),
    replay: () =>
      new ReplayGuard(
        new FileDocumentStore<ReplayRecords>(join(stateDir, 'slack-replays.json'), () => ({ seen: [] }), {
          schema: replayRecordsSchema,
          quarantine,
          what: 'replay records',
        }),
        now,
      ),
    stop: async () => undefined,
  };
}
