import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FlagCatalog } from '../../core/flags/catalog.js';
import {
  type AuditEntry,
  type Checkpoint,
  type FlagState,
  recoverFlagState,
} from '../../core/flags/state.js';
import { createLogger, type Logger } from '../../logger.js';
import type { FlagStore } from '../../ports/flag-store.js';
import { prepareFileAtomic, readTextFile, removeStaleTemps, writeFileAtomic } from './atomic-file.js';
import { failpoint } from './failpoint.js';
import { type DamagedLine, JsonLinesLog } from './json-lines-log.js';
import { Quarantine } from './quarantine.js';
import { auditEntrySchema, firstIssue, flagStateFileSchema, stateChecksum } from './state-schemas.js';
import { describeStorageFailure, StorageError } from './storage-error.js';

export interface FileFlagStoreOptions {
  quarantine?: Quarantine;
  log?: Logger;
  now?: () => Date;
}

/**
 * The embedded default: `audit.jsonl` (append-only, the write-ahead log and the truth) and
 * `flags.json` (a checksummed checkpoint of it) under STATE_DIR/flags.
 *
 * A change is one transaction: the new checkpoint is written to a temp file first (where a full disk
 * shows), then the audit lines are appended (the commit point), then the cluster takes the values
 * (`applyExternally`), then the checkpoint is renamed into place. A failure before the commit point
 * leaves nothing; a refusal by the cluster cuts the audit lines off again. A crash after the commit
 * point is completed at the next start (replay, and the cluster is brought in line).
 */
export class FileFlagStore implements FlagStore {
  private readonly statePath: string;
  private readonly audit: JsonLinesLog<AuditEntry>;
  private readonly quarantine: Quarantine;
  private readonly log: Logger;
  private readonly now: () => Date;
  private unsynced: string[] = [];

  constructor(
    private readonly dir: string,
    private readonly catalog: FlagCatalog,
    options: FileFlagStoreOptions = {},
  ) {
    this.statePath = join(dir, 'flags.json');
    this.audit = new JsonLinesLog(join(dir, 'audit.jsonl'), (value) => {
      const parsed = auditEntrySchema.safeParse(value);
      return parsed.success
        ? { ok: true, record: parsed.data }
        : { ok: false, reason: `not an audit entry (${firstIssue(parsed.error)})` };
    });
    this.log = options.log ?? createLogger('silent');
    this.quarantine = options.quarantine ?? new Quarantine(dirname(dir), this.log);
    this.now = options.now ?? (() => new Date());
  }

  /** Flags whose latest audit entries were replayed at load: the cluster may not have them yet. */
  unsyncedFlags(): string[] {
    return this.unsynced;
  }

  /** The cluster has these flags' values now (written after the replay). */
  async markApplied(applied: Readonly<Record<string, boolean>>): Promise<void> {
    this.unsynced = this.unsynced.filter((flag) => !(flag in applied));
  }

  async load(): Promise<FlagState> {
    await removeStaleTemps(this.statePath);
    const entries = await this.readAudit();
    const checkpoint = await this.readCheckpoint();
    const recovery = recoverFlagState(this.catalog, checkpoint, entries, this.now().toISOString());
    if (recovery.checkpointRejected) {
      await this.quarantine.moveFile(
        this.statePath,
        recovery.checkpointRejected,
        'rebuilt it from the audit log',
      );
    }
    if (recovery.lost) {
      const { after, upTo } = recovery.lost;
      await this.quarantine.copyFile(
        this.audit.path,
        `entries #${after + 1}–#${upTo} are missing (flags.json had recorded them)`,
        recovery.recovered.length > 0
          ? `kept the values of flags.json and recorded them as entries #${recovery.recovered[0]!.seq}–#${recovery.recovered.at(-1)!.seq}`
          : 'flags.json agrees with what is left, so no value changed',
      );
    }
    if (recovery.recovered.length > 0) {
      try {
        await this.audit.append(recovery.recovered);
      } catch (error) {
        this.log.error(
          { err: error },
          'could not record the recovered flag values in the audit log; will retry at the next start',
        );
      }
    }
    if (recovery.rewrite) {
      try {
        await writeFileAtomic(this.statePath, checkpointText(recovery.state));
      } catch (error) {
        this.log.warn({ err: error }, 'could not rewrite flags.json; the audit log holds the state');
      }
    }
    this.unsynced = recovery.unsynced;
    return recovery.state;
  }

  async commit(state: FlagState, entries: readonly AuditEntry[], applyExternally?: () => Promise<void>) {
    let prepared: Awaited<ReturnType<typeof prepareFileAtomic>>;
    try {
      prepared = await prepareFileAtomic(this.statePath, checkpointText(state));
    } catch (error) {
      throw new StorageError('Saving the flag state', error);
    }
    failpoint('before-audit');
    let appended: Awaited<ReturnType<JsonLinesLog<AuditEntry>['append']>>;
    try {
      appended = await this.audit.append(entries);
    } catch (error) {
      await prepared.discard();
      throw new StorageError('Writing the audit log', error);
    }
    failpoint('after-audit');
    if (applyExternally) {
      try {
        await applyExternally();
      } catch (error) {
        await prepared.discard();
        try {
          await appended.undo();
        } catch (undoError) {
          this.log.error(
            { err: undoError, seqs: entries.map((entry) => entry.seq) },
            'could not take back the audit entries of a change the cluster refused; they will be replayed at the next start',
          );
        }
        throw error;
      }
    }
    failpoint('after-cluster');
    try {
      await prepared.commit();
    } catch (error) {
      // The audit log holds the change (the commit point passed); flags.json catches up later.
      this.log.warn({ err: error }, 'could not replace flags.json; the audit log holds the change');
    }
    failpoint('after-state');
  }

  async history(filter: { flag?: string; limit: number }): Promise<AuditEntry[]> {
    const all = await this.audit.readAll();
    return all
      .filter((entry) => !filter.flag || entry.flag === filter.flag)
      .reverse()
      .slice(0, filter.limit);
  }

  /** Writes and removes a probe file: permission bits alone say nothing when running as root. */
  async checkWritable(): Promise<void> {
    const probe = join(this.dir, '.ready-probe');
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(probe, String(Date.now()));
    } catch (error) {
      throw new Error(describeStorageFailure(error));
    } finally {
      await unlink(probe).catch(() => undefined);
    }
  }

  /** The valid audit entries in order; damaged lines are kept in quarantine and left out. */
  private async readAudit(): Promise<AuditEntry[]> {
    let reading: Awaited<ReturnType<JsonLinesLog<AuditEntry>['read']>>;
    try {
      reading = await this.audit.read();
    } catch (error) {
      throw new Error(
        `cannot read the flag audit log ${this.audit.path} (${describeStorageFailure(error)}): it cannot be rebuilt, so the bot will not start without it. Fix the file's permissions or the disk, or move the file away to start with an empty history.`,
      );
    }
    const damaged: DamagedLine[] = [...reading.damaged];
    const entries: AuditEntry[] = [];
    for (const entry of reading.records) {
      const previous = entries.at(-1)?.seq ?? 0;
      if (entry.seq > previous) entries.push(entry);
      else damaged.push({ line: -1, reason: `entry #${entry.seq} comes after #${previous}` });
    }
    if (damaged.length > 0) {
      await this.quarantine.copyFile(
        this.audit.path,
        `${damaged.length} damaged line(s): ${damaged
          .slice(0, 3)
          .map((line) => (line.line > 0 ? `line ${line.line}: ${line.reason}` : line.reason))
          .join('; ')}`,
        `kept the ${entries.length} valid entries; the history has a gap there`,
      );
      try {
        await this.audit.rewrite(entries);
      } catch (error) {
        this.log.warn({ err: error }, 'could not rewrite the audit log without its damaged lines');
      }
    }
    return entries;
  }

  private async readCheckpoint(): Promise<Checkpoint | undefined> {
    const text = await readTextFile(this.statePath).catch((error: unknown) => {
      this.log.warn({ err: error }, 'cannot read flags.json; rebuilding it from the audit log');
      return undefined;
    });
    if (text === undefined) return undefined;
    const reject = async (reason: string) => {
      await this.quarantine.moveFile(this.statePath, reason, 'rebuilt it from the audit log');
      return undefined;
    };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return reject(`not JSON (${(error as Error).message.slice(0, 80)})`);
    }
    const parsed = flagStateFileSchema.safeParse(value);
    if (!parsed.success) return reject(`not a flag state (${firstIssue(parsed.error)})`);
    const { checksum, ...state } = parsed.data;
    if (checksum !== undefined && checksum !== stateChecksum(state)) {
      return reject('its checksum does not match its content');
    }
    return { state, trusted: checksum !== undefined };
  }
}

function checkpointText(state: FlagState): string {
  return `${JSON.stringify({ ...state, checksum: stateChecksum(state) }, null, 2)}\n`;
}
