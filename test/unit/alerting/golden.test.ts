import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectGolden, GOLDEN_DIR } from '../../support/golden.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('expectGolden (test/support/golden.ts)', () => {
  it('fails on a missing golden file and never creates it', () => {
    vi.stubEnv('UPDATE_GOLDEN', '');
    expect(() => expectGolden('no-such-golden', { a: 1 })).toThrow(
      /golden file .*no-such-golden\.json is missing/,
    );
    expect(existsSync(join(GOLDEN_DIR, 'no-such-golden.json'))).toBe(false);
  });

  it('refuses UPDATE_GOLDEN=1 in CI', () => {
    vi.stubEnv('UPDATE_GOLDEN', '1');
    vi.stubEnv('CI', 'true');
    expect(() => expectGolden('no-such-golden', { a: 1 })).toThrow(/UPDATE_GOLDEN=1 in CI/);
    expect(existsSync(join(GOLDEN_DIR, 'no-such-golden.json'))).toBe(false);
  });

  it('fails with a diff when the value differs from the golden', () => {
    vi.stubEnv('UPDATE_GOLDEN', '');
    expect(() => expectGolden('alert-message.sev3-firing', { text: 'something else' })).toThrow(
      /differs from .*alert-message\.sev3-firing\.json/,
    );
  });
});
