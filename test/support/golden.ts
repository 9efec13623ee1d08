import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** Where golden files live: `test/fixtures/golden/<name>.json`. */
export const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'golden');

/** As stored: JSON with two-space indentation and a final newline, so diffs in review read well. */
const serialise = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Rendered output checked against a golden file (Botkube's habit: a message is data; diff it).
 *
 * - `UPDATE_GOLDEN=1` (never in CI): writes the file from `value`; review the diff before committing.
 * - Otherwise: `value` must deep-equal the file; a missing file fails, it is never created silently.
 */
export function expectGolden(name: string, value: unknown): void {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name))
    throw new Error(`golden name ${JSON.stringify(name)}: use [a-z0-9._-]`);
  const path = join(GOLDEN_DIR, `${name}.json`);
  const shown = relative(process.cwd(), path);
  const actual = JSON.parse(serialise(value)) as unknown; // what would be stored: no undefined, no functions
  const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

  if (process.env.UPDATE_GOLDEN === '1') {
    if (ci)
      throw new Error(`UPDATE_GOLDEN=1 in CI: golden files are written locally and committed (${shown})`);
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, serialise(value));
    return;
  }
  if (!existsSync(path)) {
    throw new Error(
      `golden file ${shown} is missing: run \`UPDATE_GOLDEN=1 npx vitest run <this test file>\` locally, ` +
        'read the file, and commit it',
    );
  }
  const expected = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  expect(
    actual,
    `rendered output differs from ${shown}; if the change is intended, rerun with UPDATE_GOLDEN=1 and review the diff`,
  ).toEqual(expected);
}

/**
 * Text output (a Markdown file, say) checked against `test/fixtures/golden/<name>` byte for byte, with
 * the same rules as `expectGolden`: `UPDATE_GOLDEN=1` writes it (never in CI), a missing file fails.
 */
export function expectGoldenText(name: string, text: string): void {
  if (!/^[a-z0-9][a-z0-9._-]*\.[a-z]+$/.test(name))
    throw new Error(`golden name ${JSON.stringify(name)}: use [a-z0-9._-] with an extension`);
  const path = join(GOLDEN_DIR, name);
  const shown = relative(process.cwd(), path);
  const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
  if (process.env.UPDATE_GOLDEN === '1') {
    if (ci)
      throw new Error(`UPDATE_GOLDEN=1 in CI: golden files are written locally and committed (${shown})`);
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, text);
    return;
  }
  if (!existsSync(path)) {
    throw new Error(
      `golden file ${shown} is missing: run \`UPDATE_GOLDEN=1 npx vitest run <this test file>\` locally, read the file, and commit it`,
    );
  }
  expect(
    text,
    `output differs from ${shown}; if the change is intended, rerun with UPDATE_GOLDEN=1 and review the diff`,
  ).toBe(readFileSync(path, 'utf8'));
}
