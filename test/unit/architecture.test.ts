import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((match) => match[1] ?? match[2] ?? '');
}

/** Pure helpers the core may use; nothing that talks to Slack, Kubernetes, the network or the disk. */
const CORE_MAY_IMPORT = new Set(['fastest-levenshtein']);

describe('the hexagon', () => {
  const coreFiles = sourceFiles('src/core');

  it('has a core', () => {
    expect(coreFiles.length).toBeGreaterThan(5);
  });

  it.each(coreFiles.map((file) => [relative('.', file)]))(
    '%s imports only the core and pure helpers',
    (file) => {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('.')) {
          const target = join(file, '..', specifier);
          expect(target.startsWith('src/core'), `${file} imports ${specifier} from outside the core`).toBe(
            true,
          );
        } else {
          expect(CORE_MAY_IMPORT.has(specifier), `${file} imports ${specifier}`).toBe(true);
        }
      }
      const text = readFileSync(file, 'utf8');
      expect(text, `${file} reads the clock`).not.toMatch(/Date\.now\(|new Date\(\)/);
      expect(text, `${file} reaches the process`).not.toMatch(/process\.(env|exit|stdout)/);
    },
  );

  it('keeps command modules free of Slack and Kubernetes client libraries', () => {
    for (const file of sourceFiles('commands')) {
      for (const specifier of importsOf(file)) {
        expect(specifier, `${file} imports ${specifier}`).not.toMatch(/^@slack\/|^@kubernetes\//);
      }
    }
  });
});
