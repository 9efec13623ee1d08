import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { configuredChecklists } from '../../../src/core/phases/checklists.js';
import { SEED_PHASES } from '../../../src/core/phases/plan.js';
import { tempDir } from '../../support/bot.js';

function configFile(text: string): string {
  const path = join(tempDir(), 'switchyard.yml');
  writeFileSync(path, text);
  return path;
}

describe('phases.checklists', () => {
  it('replaces the checklists it names; the others stay as in the seed', () => {
    const config = loadConfig({
      SWITCHYARD_CONFIG: configFile(
        "phases:\n  checklists:\n    phase-1: ['Canary at 5% for a day', 'On-call briefed']\n    post-deployment: []\n",
      ),
    });
    const lists = configuredChecklists(SEED_PHASES, config.file.phases.checklists);
    expect(lists.find((list) => list.id === 'phase-1')!.items.map((item) => item.text)).toEqual([
      'Canary at 5% for a day',
      'On-call briefed',
    ]);
    expect(lists.find((list) => list.id === 'post-deployment')!.items).toEqual([]);
    expect(lists.find((list) => list.id === 'pre-deployment')!.items).toHaveLength(5);
    expect(configuredChecklists(SEED_PHASES, loadConfig({}).file.phases.checklists)).toEqual(
      configuredChecklists(SEED_PHASES),
    );
  });

  it('names the key path of a bad checklist', () => {
    const bad = (yaml: string) => () => loadConfig({ SWITCHYARD_CONFIG: configFile(yaml) });
    expect(bad('phases:\n  checklists:\n    phase-9: [x]\n')).toThrow(
      /key phases\.checklists: Unrecognized key: "phase-9"/,
    );
    expect(bad(`phases:\n  checklists:\n    phase-2: ['${'x'.repeat(76)}']\n`)).toThrow(
      /key phases\.checklists\.phase-2\.0: keep a checklist item within 75 characters/,
    );
    expect(
      bad(
        `phases:\n  checklists:\n    phase-3: [${Array.from({ length: 11 }, (_, i) => `i${i}`).join(', ')}]\n`,
      ),
    ).toThrow(/key phases\.checklists\.phase-3: at most 10 items per checklist/);
    expect(bad('phases:\n  checklists:\n    pre-deployment: [a, a]\n')).toThrow(
      /key phases\.checklists\.pre-deployment: checklist items must be unique/,
    );
    expect(bad("phases:\n  checklists:\n    phase-1: ['  ']\n")).toThrow(
      /key phases\.checklists\.phase-1\.0: a checklist item cannot be empty/,
    );
  });
});
