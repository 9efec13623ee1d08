import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flagDrift, readFlagData, writeFlagData } from '../../../src/core/rollout/flags.js';
import { codeSections } from '../../../src/messages/rollback.js';

const KEYS = [
  { key: 'adaptive_timing', envVar: 'MESSAGING_ADAPTIVE_TIMING' },
  { key: 'dashboard', envVar: 'MESSAGING_DASHBOARD' },
];

describe('the flag ConfigMap data', () => {
  it('reads owned keys, missing and malformed ones apart, and writes only owned keys', () => {
    const data = { MESSAGING_ADAPTIVE_TIMING: 'True', OTHER: 'keep', MESSAGING_X: 'yes' };
    expect(readFlagData(KEYS, data)).toEqual({
      values: { adaptive_timing: true },
      missing: ['dashboard'],
      invalid: [],
    });
    expect(readFlagData(KEYS, { MESSAGING_DASHBOARD: 'on' }).invalid).toEqual([
      { key: 'dashboard', envVar: 'MESSAGING_DASHBOARD', value: 'on' },
    ]);
    expect(writeFlagData(KEYS, data, { dashboard: false, unknown: true })).toEqual({
      ...data,
      MESSAGING_DASHBOARD: 'false',
    });
  });

  it('property: drift is exactly the owned keys whose values differ', () => {
    const values = fc.record({ adaptive_timing: fc.boolean(), dashboard: fc.boolean() });
    fc.assert(
      fc.property(values, values, (bot, cluster) => {
        const data = writeFlagData(KEYS, { OTHER: 'x' }, cluster);
        const drift = flagDrift(bot, readFlagData(KEYS, data).values);
        expect(drift.map((d) => d.key)).toEqual(
          KEYS.map((k) => k.key).filter((k) => bot[k as 'dashboard'] !== cluster[k as 'dashboard']),
        );
        for (const d of drift) expect(d.to).toBe(cluster[d.key as 'dashboard']);
      }),
    );
  });
});

describe('codeSections', () => {
  it('property: every section fits in 3000 characters and the lines survive in order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ maxLength: 400, unit: 'grapheme-ascii' }).map((s) => s.replace(/[\n&<>`]/g, '.')),
          { maxLength: 60 },
        ),
        (lines) => {
          const text = lines.join('\n');
          const sections = codeSections(text, 3000);
          for (const section of sections) {
            expect(section.length).toBeLessThanOrEqual(3000);
            expect(section.startsWith('```\n') && section.endsWith('\n```')).toBe(true);
          }
          const back = sections.map((s) => s.slice(4, -4)).join('\n');
          expect(back).toBe(text.replace(/\n$/, ''));
        },
      ),
    );
  });

  it('escapes what Slack would read as markup', () => {
    expect(codeSections('a <b> & ```c```\n', 3000)).toEqual([
      '```\na &lt;b&gt; &amp; `\u200b``c`\u200b``\n```',
    ]);
  });
});
