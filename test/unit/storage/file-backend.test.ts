import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DOCUMENT_PATHS, type DocumentName, fileBackend } from '../../../src/adapters/storage/backend.js';
import { Quarantine } from '../../../src/adapters/storage/quarantine.js';
import { FlagCatalog } from '../../../src/core/flags/catalog.js';
import { initialFlagState } from '../../../src/core/flags/state.js';
import { ReplayGuard } from '../../../src/interactions/replay-guard.js';
import { createLogger } from '../../../src/logger.js';
import { notificationFor, recordAfter } from '../../support/alert-groups.js';

function backendIn(stateDir = mkdtempSync(join(tmpdir(), 'file-backend-'))) {
  const log = createLogger('silent');
  return {
    stateDir,
    backend: fileBackend({ stateDir, quarantine: new Quarantine(stateDir, log), log, now: () => 1000 }),
  };
}

describe("fileBackend: today's files, behind the StateBackend factory", () => {
  it('keeps each named document at the path it always had', async () => {
    expect(DOCUMENT_PATHS).toEqual({
      confirmations: 'confirmations.json',
      'phase-requests': 'phases/requests.json',
      'runbook-runs': 'runbooks/runs.json',
      checklists: 'phases/checklists.json',
      'home-users': 'home-users.json',
      'timed-flags': 'flags/timed.json',
      'startup-warnings': 'startup-warnings.json',
      'rollback-audit': 'rollbacks/audit.json',
    });
    const { stateDir, backend } = backendIn();
    expect(backend.kind).toBe('file');
    for (const name of Object.keys(DOCUMENT_PATHS) as DocumentName[]) {
      const store = backend.document(name, () => ({ n: 0 }), {
        schema: z.object({ n: z.number() }),
        what: name,
      });
      const told: unknown[] = [];
      store.onChange((document) => told.push(document));
      await store.update(() => ({ next: { n: 1 }, result: undefined }));
      expect(JSON.parse(readFileSync(join(stateDir, DOCUMENT_PATHS[name]), 'utf8'))).toEqual({ n: 1 });
      expect(told).toEqual([{ n: 1 }]);
    }
  });

  it('loads the groups from alerts/groups, once', async () => {
    const { stateDir } = backendIn();
    const record = recordAfter(undefined, notificationFor('Kept', 2, 'firing'), 5);
    mkdirSync(join(stateDir, 'alerts', 'groups'), { recursive: true });
    writeFileSync(join(stateDir, 'alerts', 'groups', `${record.id}.json`), JSON.stringify(record));
    const { backend } = backendIn(stateDir);
    const groups = await backend.groups();
    expect(groups.get(record.id)).toEqual(record);
    expect(groups.firingCount).toBe(1);
    expect(await backend.groups()).toBe(groups);
  });

  it('keeps the flags in flags/ (not shared) and the replay records in slack-replays.json', async () => {
    const { stateDir, backend } = backendIn();
    const catalog = new FlagCatalog();
    const flags = backend.flags(catalog);
    expect(flags.shared).toBeFalsy();
    const state = await flags.load();
    expect(state).toEqual(initialFlagState(catalog));
    await flags.commit({ ...state, seq: 1 }, [
      {
        seq: 1,
        at: 'now',
        actor: { id: 'U1' },
        via: 'api',
        action: 'enable',
        flag: 'retry_logic',
        before: false,
        after: true,
      },
    ]);
    expect(existsSync(join(stateDir, 'flags', 'audit.jsonl'))).toBe(true);

    const replay = backend.replay();
    expect(replay).toBeInstanceOf(ReplayGuard);
    expect(await replay.accept(['signature:x'])).toEqual({ first: true });
    expect(await replay.accept(['signature:x'])).toEqual({ first: false, key: 'signature:x' });
    expect(JSON.parse(readFileSync(join(stateDir, 'slack-replays.json'), 'utf8'))).toEqual({
      seen: [['signature:x', 1000]],
    });
    await backend.stop();
  });

  it('loads nothing of the Kubernetes client: no static import path from backend.ts reaches it', () => {
    const seen = new Set<string>();
    const reached: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      // Value imports only (`import type` is erased); dynamic `import()` is what the wiring uses.
      for (const match of source.matchAll(/^import (?!type )[^;]*? from '([^']+)';/gms)) {
        const specifier = match[1]!;
        if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
        else reached.push(specifier);
      }
    };
    visit(resolve('src/adapters/storage/backend.ts'));
    expect(seen.size).toBeGreaterThan(5);
    expect(reached.filter((specifier) => specifier.startsWith('@kubernetes/'))).toEqual([]);
    // The kube backend, by contrast, does import it (so the walk does find such imports).
    seen.clear();
    reached.length = 0;
    visit(resolve('src/adapters/storage/kube/kube-backend.ts'));
    expect(reached).toContain('@kubernetes/client-node');
  });
});
