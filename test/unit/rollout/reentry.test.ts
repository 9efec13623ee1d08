import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chooseSafeTarget,
  findRollaways,
  type RollbackRecord,
  revisionsOf,
  withinWindow,
} from '../../../src/core/rollout/reentry.js';
import { imagesOf, revisionOf, templatesEqualIgnoringHash } from '../../../src/core/rollout/revisions.js';
import { chooseRollbackTarget } from '../../../src/core/rollout/target.js';
import type { DeploymentView, ReplicaSetView } from '../../../src/core/rollout/types.js';
import { DEPLOYMENT_UID, deployment, history, replicaSet, template } from './arbitraries.js';

const HOUR = 3_600_000;
const WINDOW = 24 * HOUR;
const T0 = Date.parse('2026-12-04T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A ReplicaSet re-used by a rollback: its old revisions in `revision-history`. */
function reused(revision: number, image: string, env: string, old: number[], createdAt?: string) {
  const rs = replicaSet(revision, image, env, createdAt ? { createdAt } : {});
  rs.annotations['deployment.kubernetes.io/revision-history'] = old.join(',');
  return rs;
}

describe('findRollaways', () => {
  it('reads a kubectl undo from the revision history: re-use at 4 left revision 3', () => {
    const rs1 = replicaSet(1, 'core:0.9', 'a', { createdAt: iso(T0 - 5 * HOUR) });
    const rs3 = replicaSet(3, 'core:1.1', 'c', { createdAt: iso(T0 - 2 * HOUR) });
    const rs4 = reused(4, 'core:1.0', 'b', [2], iso(T0 - 4 * HOUR));
    const d = deployment({ template: template('core:1.0', 'b') });
    expect(revisionsOf(rs4)).toEqual([2, 4]);
    expect(findRollaways(d, [rs1, rs3, rs4], [])).toEqual([
      { revision: 3, replicaSet: rs3.name, toRevision: 4, source: 'cluster' },
    ]);
  });

  it('adds who and when from the bot audit', () => {
    const rs3 = replicaSet(3, 'core:1.1', 'c');
    const rs4 = reused(4, 'core:1.0', 'b', [2]);
    const d = deployment({ template: template('core:1.0', 'b') });
    const audit: RollbackRecord[] = [
      {
        deployment: 'messaging-core',
        fromRevision: 3,
        fromReplicaSet: rs3.name,
        fromImages: ['core:1.1'],
        toRevision: 2,
        at: iso(T0 - HOUR),
        by: 'U0OPERATOR',
      },
      // Another Deployment's, and one whose ReplicaSet moved on since: ignored.
      { ...recordFor('other'), fromRevision: 3, fromReplicaSet: rs3.name },
      { ...recordFor('messaging-core'), fromRevision: 2, fromReplicaSet: rs4.name },
    ];
    expect(findRollaways(d, [rs3, rs4], audit)).toEqual([
      {
        revision: 3,
        replicaSet: rs3.name,
        toRevision: 4,
        source: 'bot',
        by: 'U0OPERATOR',
        at: iso(T0 - HOUR),
      },
    ]);
  });

  it('forgets a rollaway once the ReplicaSet was brought back (it has a newer revision)', () => {
    // 3 was left at 4, then brought back at 5 (history "3").
    const rs5 = reused(5, 'core:1.1', 'c', [3]);
    const rs4 = reused(4, 'core:1.0', 'b', [2]);
    const d = deployment({ template: template('core:1.1', 'c') });
    expect(findRollaways(d, [rs4, rs5], [])).toEqual([
      { revision: 4, replicaSet: rs4.name, toRevision: 5, source: 'cluster' },
    ]);
  });

  it('bounds an unrecorded time by a ReplicaSet created after it', () => {
    const rs3 = replicaSet(3, 'core:1.1', 'c');
    const rs4 = reused(4, 'core:1.0', 'b', [2]);
    const rs5 = replicaSet(5, 'core:1.2', 'd', { createdAt: iso(T0 - 30 * HOUR) });
    const d = deployment({ template: template('core:1.2', 'd') });
    const [away] = findRollaways(d, [rs3, rs4, rs5], []);
    expect(away).toMatchObject({ revision: 3, notAfter: iso(T0 - 30 * HOUR) });
    expect(withinWindow(away!, T0, WINDOW)).toBe(false);
    expect(withinWindow({ ...away!, notAfter: undefined }, T0, WINDOW)).toBe(true);
  });
});

describe('chooseSafeTarget', () => {
  const rs1 = replicaSet(1, 'core:0.9', 'a');
  const rs3 = replicaSet(3, 'core:1.1', 'c');
  const rs4 = reused(4, 'core:1.0', 'b', [2]);
  const d = deployment({ template: template('core:1.0', 'b') });

  it('skips the revision an undo moved away from, to the newest before it', () => {
    const rollaways = findRollaways(d, [rs1, rs3, rs4], []);
    const safe = chooseSafeTarget(d, [rs1, rs3, rs4], rollaways, T0, WINDOW);
    expect(safe).toMatchObject({ kind: 'target', revision: 1, replicaSet: { name: rs1.name } });
    expect(safe.kind === 'target' && safe.skipped.map((s) => [s.revision, s.images])).toEqual([
      [3, ['core:1.1']],
    ]);
    // kubectl would take it back.
    expect(chooseRollbackTarget(d, [rs1, rs3, rs4])).toMatchObject({ kind: 'target', revision: 3 });
  });

  it('has nothing safe when the only earlier revision was rolled away from', () => {
    const safe = chooseSafeTarget(d, [rs3, rs4], findRollaways(d, [rs3, rs4], []), T0, WINDOW);
    expect(safe).toMatchObject({ kind: 'nothing-safe', skipped: [{ revision: 3 }] });
  });

  it('takes it again once the window has passed (by the audit time)', () => {
    const audit = [{ ...recordFor('messaging-core'), fromReplicaSet: rs3.name, at: iso(T0 - 25 * HOUR) }];
    const rollaways = findRollaways(d, [rs3, rs4], audit);
    expect(chooseSafeTarget(d, [rs3, rs4], rollaways, T0, WINDOW)).toMatchObject({
      kind: 'target',
      revision: 3,
      skipped: [],
    });
    expect(chooseSafeTarget(d, [rs3, rs4], rollaways, T0, 26 * HOUR)).toMatchObject({ kind: 'nothing-safe' });
  });

  it('refuses a paused Deployment and says when there is no other revision', () => {
    expect(chooseSafeTarget({ ...d, paused: true }, [rs1, rs3, rs4], [], T0, WINDOW)).toEqual({
      kind: 'paused',
    });
    expect(chooseSafeTarget(d, [rs4], [], T0, WINDOW)).toEqual({ kind: 'no-history' });
  });

  it('property: without rollaways, the newest owned revision whose template is not the current one', () => {
    fc.assert(
      fc.property(history, ({ deployment: dep, replicaSets }) => {
        const safe = chooseSafeTarget(dep, replicaSets, [], T0, WINDOW);
        if (dep.paused) {
          expect(safe).toEqual({ kind: 'paused' });
          return;
        }
        const others = replicaSets.filter(
          (rs) =>
            rs.controllerUid === DEPLOYMENT_UID &&
            revisionOf(rs) !== undefined &&
            !templatesEqualIgnoringHash(rs.template, dep.template),
        );
        if (others.length === 0) {
          expect(safe).toEqual({ kind: 'no-history' });
          return;
        }
        expect(safe.kind).toBe('target');
        if (safe.kind !== 'target') return;
        expect(safe.skipped).toEqual([]);
        expect(safe.revision).toBe(Math.max(...others.map((rs) => revisionOf(rs)!)));
        expect(templatesEqualIgnoringHash(safe.replicaSet.template, dep.template)).toBe(false);
      }),
    );
  });
});

/**
 * A model of the Deployment controller (what the kube emulator and Kubernetes do with revisions):
 * a template change re-uses the ReplicaSet with that template at the next revision, recording its old
 * revision in `revision-history`, or creates one. Releases, kubectl undos and the bot's default
 * rollbacks in any order, with time passing: the bot never takes the Deployment back to a build that a
 * rollback moved away from within the window, unless something brought that build back since.
 */
describe('property: the bot never re-enters a build a rollback just removed', () => {
  type Op =
    | { kind: 'release'; image: string }
    | { kind: 'undo' }
    | { kind: 'bot' }
    | { kind: 'wait'; hours: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('release' as const), image: fc.constantFrom('1', '2', '3', '4', '5') }),
    fc.constant({ kind: 'undo' as const }),
    fc.constant({ kind: 'bot' as const }),
    fc.record({ kind: fc.constant('wait' as const), hours: fc.integer({ min: 1, max: 30 }) }),
  );

  it('holds for any sequence', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 14 }), (ops) => {
        let now = T0;
        const sets: ReplicaSetView[] = [];
        const audit: RollbackRecord[] = [];
        /** Ground truth: when the Deployment last left each ReplicaSet, and whether by a rollback. */
        const left = new Map<string, { at: number; byRollback: boolean }>();
        let dep: DeploymentView = deployment({ template: template('core:0', 'x') });
        const maxRevision = () => Math.max(0, ...sets.map((rs) => revisionOf(rs) ?? 0));
        const current = () => sets.find((rs) => templatesEqualIgnoringHash(rs.template, dep.template));
        const moveTo = (image: string) => {
          const before = current();
          const next = maxRevision() + 1;
          const found = sets.find((rs) => imagesOf(rs.template)[0] === `core:${image}`);
          if (found === before && before) return;
          if (found) {
            const old = revisionOf(found)!;
            const history = found.annotations['deployment.kubernetes.io/revision-history'];
            found.annotations = {
              'deployment.kubernetes.io/revision': String(next),
              'deployment.kubernetes.io/revision-history': history ? `${history},${old}` : String(old),
            };
          } else {
            sets.push(replicaSet(next, `core:${image}`, 'x', { uid: `uid-${image}`, createdAt: iso(now) }));
          }
          if (before) left.set(before.name, { at: now, byRollback: found !== undefined });
          dep = { ...dep, template: template(`core:${image}`, 'x') };
        };
        moveTo('0');
        for (const step of ops) {
          if (step.kind === 'wait') now += step.hours * HOUR;
          else if (step.kind === 'release') moveTo(step.image);
          else if (step.kind === 'undo') {
            const target = chooseRollbackTarget(dep, sets);
            if (target.kind === 'target') moveTo(imagesOf(target.replicaSet.template)[0]!.slice(5));
          } else {
            const rollaways = findRollaways(dep, sets, audit);
            const safe = chooseSafeTarget(dep, sets, rollaways, now, WINDOW);
            if (safe.kind !== 'target') continue;
            const truth = left.get(safe.replicaSet.name);
            // The safety rule: not a build a rollback left within the window.
            expect(truth?.byRollback === true && now - truth.at <= WINDOW).toBe(false);
            const from = current()!;
            audit.push({
              deployment: dep.name,
              fromRevision: revisionOf(from)!,
              fromReplicaSet: from.name,
              fromImages: imagesOf(from.template),
              toRevision: safe.revision,
              at: iso(now),
              by: 'U0OPERATOR',
            });
            moveTo(imagesOf(safe.replicaSet.template)[0]!.slice(5));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

function recordFor(deploymentName: string): RollbackRecord {
  return {
    deployment: deploymentName,
    fromRevision: 3,
    fromReplicaSet: 'x',
    fromImages: [],
    toRevision: 2,
    at: iso(T0),
    by: 'U0OPERATOR',
  };
}
