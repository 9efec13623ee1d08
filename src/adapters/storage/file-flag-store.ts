import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FlagCatalog } from '../../core/flags/catalog.js';
import {
  type AuditEntry,
  type FlagState,
  initialFlagState,
  reconcileWithCatalog,
  replayAudit,
} from '../../core/flags/state.js';
import type { FlagStore } from '../../ports/flag-store.js';
import { readJsonFile, writeFileAtomic } from './atomic-file.js';
import { JsonLinesLog } from './json-lines-log.js';

/** The embedded default: `flags.json` (atomic) and `audit.jsonl` (append-only) under STATE_DIR. */
export class FileFlagStore implements FlagStore {
  private readonly statePath: string;
  private readonly audit: JsonLinesLog<AuditEntry>;

  constructor(
    private readonly dir: string,
    private readonly catalog: FlagCatalog,
  ) {
    this.statePath = join(dir, 'flags.json');
    this.audit = new JsonLinesLog(join(dir, 'audit.jsonl'));
  }

  async load(): Promise<FlagState> {
    const saved = (await readJsonFile<FlagState>(this.statePath)) ?? initialFlagState(this.catalog);
    const recovered = reconcileWithCatalog(this.catalog, replayAudit(saved, await this.audit.readAll()));
    // A crash between the audit append and the state write is repaired here, on disk too.
    if (recovered.seq !== saved.seq)
      await writeFileAtomic(this.statePath, `${JSON.stringify(recovered, null, 2)}\n`);
    return recovered;
  }

  async commit(state: FlagState, entries: readonly AuditEntry[]): Promise<void> {
    await this.audit.append(entries);
    await writeFileAtomic(this.statePath, `${JSON.stringify(state, null, 2)}\n`);
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
    await mkdir(this.dir, { recursive: true });
    const probe = join(this.dir, '.ready-probe');
    await writeFile(probe, String(Date.now()));
    await unlink(probe);
  }
}
