import { UserError } from '../../commanding/reply.js';

const CAUSES: Record<string, string> = {
  ENOSPC: 'the state directory is full',
  EDQUOT: 'the disk quota of the state directory is used up',
  EROFS: 'the state directory is on a read-only file system',
  EACCES: 'the bot may not write to the state directory',
  EPERM: 'the bot may not write to the state directory',
  EIO: 'the disk of the state directory reported an I/O error',
};

/** `ENOSPC: the state directory is full`, or the error's own message for anything else. */
export function describeStorageFailure(error: unknown): string {
  if (error instanceof StorageError) return describeStorageFailure(error.failure);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && CAUSES[code]) return `${code}: ${CAUSES[code]}`;
  return error instanceof Error ? error.message : String(error);
}

export function isStorageFailure(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return error instanceof StorageError || (code !== undefined && code in CAUSES);
}

/** A write to the state directory failed; nothing was changed. Shown to the person as is (a UserError). */
export class StorageError extends UserError {
  constructor(
    what: string,
    readonly failure: unknown,
  ) {
    super(
      `${what} failed, so nothing was changed: ${describeStorageFailure(failure)}.`,
      'Free space in (or fix) the state directory (STATE_DIR), then try again. Reads keep working meanwhile.',
    );
  }
}
