import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileFlagStore } from '../../../src/adapters/storage/file-flag-store.js';
import { FlagCatalog } from '../../../src/core/flags/catalog.js';
import type { AuditEntry } from '../../../src/core/flags/state.js';
import { FlagService } from '../../../src/services/flag-service.js';
import { tempDir } from '../../support/bot.js';

const catalog = new FlagCatalog();
const meta = { actor: { id: 'U0TEST' }, via: 'api' as const, reason: 'test' };

describe('FileFlagStore', () => {
  it('recovers audit entries written before a crash hid the state write, and repairs the file', async () => {
    const dir = tempDir();
    const store = new FileFlagStore(dir, catalog);
    const service = new FlagService(catalog, store);
    await service.set('retry_logic', true, meta);
    // Simulate a crash after the audit append and before the state write.
    const lost: AuditEntry = {
      seq: 2,
      at: new Date().toISOString(),
      actor: { id: 'U0X' },
      via: 'slack',
      action: 'enable',
      flag: 'adaptive_timing',
      before: false,
      after: true,
    };
    appendFileSync(join(dir, 'audit.jsonl'), `${JSON.stringify(lost)}\n{"seq":3,"fla`);
    const reopened = await new FileFlagStore(dir, catalog).load();
    expect(reopened.values.adaptive_timing).toBe(true);
    expect(reopened.seq).toBe(2);
    expect(JSON.parse(readFileSync(join(dir, 'flags.json'), 'utf8')).values.adaptive_timing).toBe(true);
    // The torn line is cut before the next append, so the log stays parseable.
    const again = new FlagService(catalog, new FileFlagStore(dir, catalog));
    await again.set('flag_validation', true, meta);
    const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((line) => JSON.parse(line).seq)).toEqual([1, 2, 3]);
  });

  it('fills flags added to the catalog with their defaults', async () => {
    const dir = tempDir();
    const entry: AuditEntry = {
      seq: 1,
      at: new Date().toISOString(),
      actor: { id: 'U0X' },
      via: 'slack',
      action: 'enable',
      flag: 'retry_logic',
      before: false,
      after: true,
    };
    writeFileSync(join(dir, 'audit.jsonl'), `${JSON.stringify(entry)}\n`);
    writeFileSync(
      join(dir, 'flags.json'),
      JSON.stringify({ values: { retry_logic: true, removed_flag: true }, lastChange: {}, seq: 1 }),
    );
    const state = await new FileFlagStore(dir, catalog).load();
    expect(state.values.retry_logic).toBe(true);
    expect(state.values.circuit_breaker).toBe(true);
    expect('removed_flag' in state.values).toBe(false);
  });
});

describe('FlagService', () => {
  it('never loses an update under concurrent changes', async () => {
    const dir = tempDir();
    const service = new FlagService(catalog, new FileFlagStore(dir, catalog));
    const free = [
      'adaptive_timing',
      'retry_logic',
      'flag_validation',
      'intelligent_ordering',
      'dashboard',
      'alerting',
    ];
    await Promise.all(free.map((key) => service.set(key, key !== 'dashboard' && key !== 'alerting', meta)));
    const state = await new FileFlagStore(dir, catalog).load();
    expect(state.values).toMatchObject({
      adaptive_timing: true,
      retry_logic: true,
      flag_validation: true,
      intelligent_ordering: true,
      dashboard: false,
      alerting: false,
    });
    expect(state.seq).toBe(6);
    const history = await service.history(undefined, 100);
    expect(history.map((entry) => entry.seq)).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it('applies sinks before committing, and commits nothing when a sink fails', async () => {
    const dir = tempDir();
    const service = new FlagService(catalog, new FileFlagStore(dir, catalog));
    service.addSink({ apply: async () => Promise.reject(new Error('cluster said no')) });
    await expect(service.set('retry_logic', true, meta)).rejects.toThrow('cluster said no');
    expect((await new FileFlagStore(dir, catalog).load()).values.retry_logic).toBe(false);
    expect(await service.history(undefined, 10)).toEqual([]);
  });
});

describe('FileFlagStore start-up', () => {
  it('refuses to start only when the audit log exists but cannot be read, naming the file and the fix', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'audit.jsonl'));
    await expect(new FileFlagStore(dir, catalog).load()).rejects.toThrow(
      /cannot read the flag audit log .*audit\.jsonl \(.*\): it cannot be rebuilt.*move the file away/,
    );
  });

  it('never reuses the numbers of audit entries that were lost from the end of the log', async () => {
    const dir = tempDir();
    const service = new FlagService(catalog, new FileFlagStore(dir, catalog));
    await service.set('retry_logic', true, meta);
    await service.set('adaptive_timing', true, meta);
    const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8').split('\n');
    writeFileSync(join(dir, 'audit.jsonl'), `${lines[0]}\n`);
    const again = new FlagService(catalog, new FileFlagStore(dir, catalog));
    expect((await again.snapshot()).values.adaptive_timing).toBe(true);
    await again.set('dashboard', false, meta);
    const seqs = readFileSync(join(dir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).seq);
    expect(seqs).toEqual([1, 3, 4]);
  });
});
