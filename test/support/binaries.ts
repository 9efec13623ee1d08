import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const INSTALL_HINT = 'apt-get install -y prometheus-alertmanager prometheus';

/**
 * Names a tool goes by. Debian's `prometheus-alertmanager` package installs the server as
 * `/usr/bin/prometheus-alertmanager` (no `alertmanager` on PATH); upstream tarballs call it `alertmanager`.
 */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  alertmanager: ['alertmanager', 'prometheus-alertmanager'],
  'prometheus-alertmanager': ['prometheus-alertmanager', 'alertmanager'],
};

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The absolute path of `name` (or its alias) on PATH, or undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const candidate of ALIASES[name] ?? [name]) {
    for (const dir of dirs) {
      const path = join(dir, candidate);
      if (isExecutable(path)) return path;
    }
  }
  return undefined;
}

/**
 * The path of a tool the tests need. Missing, it throws — tests never skip silently — and the message
 * says how to install it.
 */
export function requireBinary(name: string): string {
  const path = findBinary(name);
  if (path !== undefined) return path;
  const names = (ALIASES[name] ?? [name]).join(' or ');
  throw new Error(`${names} not found on PATH (${process.env.PATH ?? ''}). Install it with: ${INSTALL_HINT}`);
}
