import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A new version of a file written to a temp file and fsynced, not yet in place. */
export interface PreparedFile {
  /** Renames it over the target and fsyncs the directory. */
  commit(): Promise<void>;
  /** Removes the temp file (never throws). */
  discard(): Promise<void>;
}

const TEMP_SUFFIX = '.tmp';

/**
 * Writes `contents` to a temp file next to `path` and fsyncs it. Whatever fails, no temp file is
 * left behind: a full disk must not fill up further with half-written copies.
 */
export async function prepareFileAtomic(
  path: string,
  contents: string,
  /** Called once the contents are written (a full disk has failed by then), before the fsync. */
  onWritten?: () => void,
): Promise<PreparedFile> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`;
  const discard = () => unlink(temp).catch(() => undefined);
  try {
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(contents);
      onWritten?.();
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await discard();
    throw error;
  }
  return {
    async commit() {
      try {
        await rename(temp, path);
      } catch (error) {
        await discard();
        throw error;
      }
      await syncDirectory(dirname(path));
    },
    discard,
  };
}

/** Write to a temp file, fsync it, rename over the target, fsync the directory: all or nothing. */
export async function writeFileAtomic(path: string, contents: string, onWritten?: () => void): Promise<void> {
  await (await prepareFileAtomic(path, contents, onWritten)).commit();
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Temp files of `path` left by a process killed mid-write; removed at start. Returns their names. */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return [];
  }
  const stale = names.filter((name) => name.startsWith(prefix) && name.endsWith(TEMP_SUFFIX));
  await Promise.all(stale.map((name) => unlink(join(dirname(path), name)).catch(() => undefined)));
  return stale;
}

export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The text of a file, or undefined when it does not exist. */
export async function readTextFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
