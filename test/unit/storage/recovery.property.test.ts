import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxJournal } from '../../../src/adapters/slack/outbox-journal.js';
import { FileDocumentStore } from '../../../src/adapters/storage/file-document-store.js';
import { FileFlagStore } from '../../../src/adapters/storage/file-flag-store.js';
import { FileGroupStore } from '../../../src/adapters/storage/file-group-store.js';
import { Quarantine } from '../../../src/adapters/storage/quarantine.js';
import {
  checklistStateSchema,
  pendingActionsSchema,
  phaseRequestsSchema,
  runbookRunsSchema,
} from '../../../src/adapters/storage/state-schemas.js';
import { applyNotification } from '../../../src/core/alerts/group.js';
import { FlagCatalog } from '../../../src/core/flags/catalog.js';
import {
  type AuditEntry,
  initialFlagState,
  reconcileWithCatalog,
  replayAudit,
} from '../../../src/core/flags/state.js';
import { emptyChecklistState } from '../../../src/core/phases/checklists.js';
import { createLogger } from '../../../src/logger.js';
import { groupIdOf } from '../../../src/ports/alert-groups.js';
import { Confirmations } from '../../../src/services/confirmations.js';
import { FlagService } from '../../../src/services/flag-service.js';

/**
 * Start-up recovery against random damage: 500 runs, each damaging 1–3 random state files in one of
 * the ways a crash, a full disk or a person can (truncation, garbage, bit flips, lost or repeated
 * lines, `{}`, an empty or missing file). The loaders the bot runs at start must never throw, and every
 * flag value they report must be explained by the audit log as it stands after recovery, and be a
 * value the flag really had (its default or the outcome of a real change).
 */
/** On tmpfs when there is one: 500 runs of fsyncs on a busy disk would make this slow, not stricter. */
const SCRATCH = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const tempDir = (prefix: string) => mkdtempSync(join(SCRATCH, prefix));

const SEED = Number(process.env.FC_SEED ?? Date.now() % 2_147_483_647);
const RUNS = 500;
const catalog = new FlagCatalog();
const silent = createLogger('silent');

const FILES = [
  'flags/flags.json',
  'flags/audit.jsonl',
  'confirmations.json',
  'phases/requests.json',
  'phases/checklists.json',
  'runbooks/runs.json',
  'alerts/groups/GROUP0',
  'alerts/groups/GROUP1',
  'alerts/outbox.jsonl',
] as const;

let template: string;
let original: AuditEntry[];
const groupIds = [0, 1, 2].map((i) => groupIdOf(`{}:{alertname="A${i}"}`));

beforeAll(async () => {
  template = tempDir('switchyard-recovery-');
  const service = new FlagService(catalog, new FileFlagStore(join(template, 'flags'), catalog));
  const free = ['adaptive_timing', 'retry_logic', 'flag_validation', 'intelligent_ordering', 'dashboard'];
  const random = fc.sample(fc.tuple(fc.constantFrom(...free), fc.boolean()), { numRuns: 30, seed: SEED });
  for (const [key, on] of random)
    await service.set(key, on, { actor: { id: 'U0T' }, via: 'api', reason: 'r' });
  original = await service.history(undefined, 1000);

  const confirmations = new Confirmations(
    new FileDocumentStore(join(template, 'confirmations.json'), () => ({})),
  );
  await confirmations.create('flags', 'disable-all', { reason: 'x' }, 'U0T');
  mkdirSync(join(template, 'phases'));
  mkdirSync(join(template, 'runbooks'));
  const groups = new FileGroupStore(join(template, 'alerts', 'groups'));
  await groups.load();
  for (const [i, id] of groupIds.entries()) {
    const { state } = applyNotification(undefined, notification(i), 1_700_000_000_000, {});
    await groups.update(id, () => ({ next: { id, state, sentEscalations: [] }, result: undefined }));
  }
  const journal = new OutboxJournal<{ kind: string }>(join(template, 'alerts', 'outbox.jsonl'));
  await journal.enqueued([
    { id: 'j1', key: groupIds[0]!, priority: 1, payload: { kind: 'group-message' } },
    { id: 'j2', key: groupIds[1]!, priority: 1, payload: { kind: 'group-message' } },
  ]);
  await journal.done('j1');
  writeFileSync(
    join(template, 'phases', 'requests.json'),
    JSON.stringify({
      p1: {
        id: 'p1',
        from: { number: 1, name: 'Canary' },
        to: { number: 2, name: 'Beta' },
        toEnable: ['retry_logic'],
        gateSummary: [],
        requester: 'U0T',
        required: 2,
        requestedAt: '2026-01-01T00:00:00Z',
        expiresAt: '2026-01-01T01:00:00Z',
        approvals: [],
        status: 'open',
        channel: 'C0',
        ts: '1.2',
      },
    }),
  );
  writeFileSync(
    join(template, 'phases', 'checklists.json'),
    JSON.stringify({
      ticks: { 'phase-1/0a1b2c3d': { by: 'U0T', at: '2026-01-01T00:00:00Z' } },
      events: [
        {
          seq: 1,
          at: '2026-01-01T00:00:00Z',
          by: 'U0T',
          action: 'tick',
          checklist: 'phase-1',
          item: '0a1b2c3d',
          text: 'Health checks passing',
        },
      ],
      seq: 1,
    }),
  );
  writeFileSync(
    join(template, 'runbooks', 'runs.json'),
    JSON.stringify({
      r1: {
        run: {
          id: 'r1',
          runbook: 'high-latency',
          startedBy: 'U0T',
          startedAt: 'x',
          steps: [{ status: 'current' }],
        },
        channel: 'C0',
        ts: '1.3',
        stepTs: [],
      },
    }),
  );
});
afterAll(() => rmSync(template, { recursive: true, force: true }));

function notification(i: number) {
  return {
    receiver: 'slack',
    status: 'firing' as const,
    alerts: [
      {
        fingerprint: `f${i}`,
        status: 'firing' as const,
        labels: { alertname: `A${i}`, severity: 'critical' },
        annotations: {},
        startsAt: '2026-01-01T00:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
      },
    ],
    groupLabels: { alertname: `A${i}` },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: '',
    version: '4',
    groupKey: `{}:{alertname="A${i}"}`,
    truncatedAlerts: 0,
  };
}

type Damage =
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; bytes: number[] }
  | { kind: 'overwrite'; at: number; bytes: number[] }
  | { kind: 'garbage-line'; at: number; text: string }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'repeat-line'; at: number }
  | { kind: 'drop-line'; at: number }
  | { kind: 'replace'; text: string }
  | { kind: 'delete' };

const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.array(fc.nat(255), { maxLength: 40 }) }),
  fc.record({
    kind: fc.constant('overwrite' as const),
    at: fc.nat(),
    bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('garbage-line' as const), at: fc.nat(), text: fc.string({ maxLength: 30 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('repeat-line' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('drop-line' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('replace' as const),
    text: fc.constantFrom('', '{}', '[]', 'null', '\0\0\0', '{"values":1}'),
  }),
  fc.record({ kind: fc.constant('delete' as const) }),
);

function apply(path: string, hit: Damage): void {
  if (!existsSync(path)) return;
  if (hit.kind === 'delete') unlinkSync(path);
  else writeFileSync(path, damaged(readFileSync(path), hit));
}

function damaged(bytes: Buffer, hit: Exclude<Damage, { kind: 'delete' }>): Buffer | string {
  const at = (n: number) => (bytes.length === 0 ? 0 : n % bytes.length);
  const lines = bytes.toString('utf8').split('\n');
  const line = (n: number) => n % Math.max(lines.length, 1);
  switch (hit.kind) {
    case 'truncate':
      return bytes.subarray(0, at(hit.at));
    case 'append':
      return Buffer.concat([bytes, Buffer.from(hit.bytes)]);
    case 'overwrite': {
      const copy = Buffer.from(bytes);
      Buffer.from(hit.bytes).copy(copy, at(hit.at));
      return copy.subarray(0, bytes.length);
    }
    case 'garbage-line':
      lines.splice(line(hit.at), 0, hit.text);
      return lines.join('\n');
    case 'flip': {
      const copy = Buffer.from(bytes);
      if (copy.length > 0) copy[at(hit.at)]! ^= 1 << hit.bit;
      return copy;
    }
    case 'repeat-line':
      lines.splice(line(hit.at), 0, lines[line(hit.at)] ?? '');
      return lines.join('\n');
    case 'drop-line':
      lines.splice(line(hit.at), 1);
      return lines.join('\n');
    case 'replace':
      return hit.text;
  }
}

function resolveFile(dir: string, name: (typeof FILES)[number]): string {
  const group = /^alerts\/groups\/GROUP(\d)$/.exec(name);
  return join(dir, group ? `alerts/groups/${groupIds[Number(group[1])]}.json` : name);
}

/** What the bot runs at start, file by file, wired as in `src/bot.ts`. */
async function startUp(dir: string) {
  const quarantine = new Quarantine(dir, silent);
  const flags = new FlagService(catalog, new FileFlagStore(join(dir, 'flags'), catalog, { quarantine }));
  const values = (await flags.snapshot()).values;
  const document = (file: string, schema: typeof pendingActionsSchema) =>
    new FileDocumentStore(join(dir, file), () => ({}), { schema, quarantine, what: file }).read();
  await document('confirmations.json', pendingActionsSchema);
  await document('phases/requests.json', phaseRequestsSchema);
  await new FileDocumentStore(join(dir, 'phases', 'checklists.json'), emptyChecklistState, {
    schema: checklistStateSchema,
    quarantine,
    what: 'phase checklist ticks',
  }).read();
  await document('runbooks/runs.json', runbookRunsSchema);
  await new FileGroupStore(join(dir, 'alerts', 'groups'), quarantine).load();
  await new OutboxJournal(join(dir, 'alerts', 'outbox.jsonl'), quarantine).replay();
  return { values, flags };
}

function auditOnDisk(dir: string): AuditEntry[] {
  const path = join(dir, 'flags', 'audit.jsonl');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  return (
    text
      .slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      // As the log reads it (json-lines-log.ts): a line of only whitespace is no entry.
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as AuditEntry)
  );
}

describe('start-up recovery under random damage', () => {
  it(`never throws and never reports a flag value no audit entry explains (${RUNS} runs, seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...FILES), damage), { minLength: 1, maxLength: 3 }),
        async (hits) => {
          const dir = tempDir('switchyard-damaged-');
          try {
            cpSync(template, dir, { recursive: true });
            for (const [file, hit] of hits) apply(resolveFile(dir, file), hit);
            const { values, flags } = await startUp(dir);
            // Explained: the audit as it stands after recovery replays to exactly these values.
            const audit = auditOnDisk(dir);
            const seqs = audit.map((entry) => entry.seq);
            expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
            expect(new Set(seqs).size).toBe(seqs.length);
            const replayed = reconcileWithCatalog(catalog, replayAudit(initialFlagState(catalog), audit));
            expect(values).toEqual(replayed.values);
            // Not invented: each value is the default or the outcome of a change that really happened.
            for (const flag of catalog.flags) {
              const real = [
                flag.defaultEnabled,
                ...original.filter((e) => e.flag === flag.key).map((e) => e.after),
              ];
              expect(real).toContain(values[flag.key]);
            }
            // And the store still takes a change, with a fresh sequence number.
            const before = Math.max(0, ...seqs);
            await flags.set('dashboard', !values.dashboard, {
              actor: { id: 'U0T' },
              via: 'api',
              reason: 'after',
            });
            const after = auditOnDisk(dir);
            expect(after.at(-1)).toMatchObject({ flag: 'dashboard', reason: 'after' });
            expect(after.at(-1)!.seq).toBeGreaterThan(before);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  }, 120_000);

  it('keeps what is damaged under quarantine/ and leaves nothing damaged in place', async () => {
    const dir = tempDir('switchyard-damaged-');
    cpSync(template, dir, { recursive: true });
    writeFileSync(join(dir, 'flags', 'flags.json'), 'garbage');
    writeFileSync(join(dir, 'confirmations.json'), '{"x":{}}');
    const quarantined = () =>
      existsSync(join(dir, 'quarantine')) ? readdirSync(join(dir, 'quarantine')) : [];
    await startUp(dir);
    expect(quarantined().some((name) => name.endsWith('flags__flags.json'))).toBe(true);
    expect(quarantined().some((name) => name.endsWith('confirmations.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'flags', 'flags.json'), 'utf8')).seq).toBe(original[0]!.seq);
  });
});
