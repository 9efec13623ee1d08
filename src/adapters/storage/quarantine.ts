import { copyFile, mkdir, rename } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { Logger } from '../../logger.js';

export interface DamageReport {
  /** The damaged file, relative to STATE_DIR. */
  file: string;
  /** What was wrong with it. */
  reason: string;
  /** What the bot did about it (rebuilt, started empty, kept the valid lines…). */
  outcome: string;
  /** Where the damaged copy is kept, relative to STATE_DIR (absent when it could not be kept). */
  kept?: string;
}

/**
 * Damaged state found at start: each file or line that fails validation is kept under
 * `STATE_DIR/quarantine/` (never deleted), logged once with its name and the reason, and told to the
 * channel once (all of a start's damage in one notice) when `attach` gives a way to post.
 */
export class Quarantine {
  private readonly reports: DamageReport[] = [];
  private post?: (text: string) => Promise<void>;
  private told = 0;

  constructor(
    private readonly stateDir: string,
    private readonly log: Logger,
  ) {}

  get dir(): string {
    return join(this.stateDir, 'quarantine');
  }

  /** Everything reported so far. */
  get damage(): readonly DamageReport[] {
    return this.reports;
  }

  /** Moves the whole file aside (a rename: it needs no free space). */
  async moveFile(path: string, reason: string, outcome: string): Promise<void> {
    await this.keep(path, reason, outcome, (target) => rename(path, target));
  }

  /** Keeps a copy of the file as it was, before the bot rewrites it without its damaged lines. */
  async copyFile(path: string, reason: string, outcome: string): Promise<void> {
    await this.keep(path, reason, outcome, (target) => copyFile(path, target));
  }

  /** Damage with nothing to move (e.g. entries missing from the end of the audit log). */
  report(path: string, reason: string, outcome: string): void {
    this.record({ file: this.name(path), reason, outcome });
  }

  /** Posts what was found so far as one notice, and each later report as it comes. */
  async attach(post: (text: string) => Promise<void>): Promise<void> {
    this.post = post;
    await this.tell();
  }

  private async keep(
    path: string,
    reason: string,
    outcome: string,
    place: (target: string) => Promise<void>,
  ): Promise<void> {
    // The report count keeps two copies of one file in the same millisecond apart.
    const target = join(
      this.dir,
      `${stamp()}-${this.reports.length}-${this.name(path).replaceAll('/', '__')}`,
    );
    try {
      await mkdir(this.dir, { recursive: true });
      await place(target);
      this.record({ file: this.name(path), reason, outcome, kept: this.name(target) });
    } catch (error) {
      this.record({
        file: this.name(path),
        reason,
        outcome: `${outcome} (could not keep a copy in quarantine/: ${(error as Error).message})`,
      });
    }
  }

  private record(report: DamageReport): void {
    this.reports.push(report);
    this.log.warn(
      { file: report.file, reason: report.reason, quarantined: report.kept ?? null, outcome: report.outcome },
      `damaged state file ${report.file}: ${report.reason}; ${report.outcome}`,
    );
    if (this.post) void this.tell();
  }

  private async tell(): Promise<void> {
    const fresh = this.reports.slice(this.told);
    if (fresh.length === 0 || !this.post) return;
    this.told = this.reports.length;
    try {
      await this.post(noticeText(fresh));
    } catch (error) {
      this.log.error({ err: error }, 'could not post the damaged-state notice');
    }
  }

  private name(path: string): string {
    const rel = relative(this.stateDir, path);
    return rel.startsWith('..') ? basename(path) : rel;
  }
}

/** The notice's text; the chat port's `note` renderer escapes it (once), so a reason shows as written. */
export function noticeText(reports: readonly DamageReport[]): string {
  const lines = reports.map(
    (report) =>
      `• \`${report.file}\`: ${report.reason}. ${report.outcome}.${report.kept ? ` Kept as \`${report.kept}\`.` : ''}`,
  );
  return `:warning: *Damaged state found at start* — the bot started anyway:\n${lines.join('\n')}`;
}

function stamp(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
}
