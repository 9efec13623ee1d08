import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { revisionOf, templatesEqualIgnoringHash } from '../../../src/core/rollout/revisions.js';
import { chooseRollbackTarget } from '../../../src/core/rollout/target.js';
import { deployment, history, replicaSet, template } from './arbitraries.js';

const rs1 = replicaSet(1, 'core:1', 'a');
const rs2 = replicaSet(2, 'core:2', 'b');
const rs3 = replicaSet(3, 'core:3', 'c');

describe('chooseRollbackTarget (kubectl rollout undo)', () => {
  it('takes the second-highest revision with no --to-revision', () => {
    const target = chooseRollbackTarget(deployment(), [rs3, rs1, rs2]);
    expect(target).toMatchObject({ kind: 'target', revision: 2, replicaSet: { name: rs2.name } });
  });

  it('takes the given revision', () => {
    expect(chooseRollbackTarget(deployment(), [rs1, rs2, rs3], 1)).toMatchObject({
      kind: 'target',
      revision: 1,
    });
  });

  it('names the revisions there are when the given one is not among them', () => {
    expect(chooseRollbackTarget(deployment(), [rs3, rs1, rs2], 7)).toEqual({
      kind: 'revision-not-found',
      revision: 7,
      available: [1, 2, 3],
    });
  });

  it('refuses a paused Deployment before looking at its history', () => {
    expect(chooseRollbackTarget(deployment({ paused: true }), [rs1, rs2, rs3])).toEqual({ kind: 'paused' });
    expect(chooseRollbackTarget(deployment({ paused: true }), [], 9)).toEqual({ kind: 'paused' });
  });

  it('has no history with a single revision', () => {
    expect(chooseRollbackTarget(deployment(), [rs3])).toEqual({ kind: 'no-history' });
  });

  it('skips when the revision already matches the template (ignoring pod-template-hash)', () => {
    expect(chooseRollbackTarget(deployment(), [rs1, rs2, rs3], 3)).toEqual({
      kind: 'already-current',
      revision: 3,
    });
    const same = deployment({ template: template('core:2', 'b') });
    expect(chooseRollbackTarget(same, [rs1, rs2, rs3])).toEqual({ kind: 'already-current', revision: 2 });
  });

  it('ignores ReplicaSets another controller owns, and those with a malformed revision', () => {
    const foreign = replicaSet(2, 'core:9', 'z', { controllerUid: 'other' });
    const odd = replicaSet('x', 'core:8');
    expect(chooseRollbackTarget(deployment(), [rs3, foreign, odd, rs1])).toMatchObject({
      kind: 'target',
      revision: 1,
    });
  });

  it('property: the target is never the current template, always owned, and the second-highest revision', () => {
    fc.assert(
      fc.property(history, ({ deployment: d, replicaSets }) => {
        const target = chooseRollbackTarget(d, replicaSets);
        if (d.paused) {
          expect(target.kind).toBe('paused');
          return;
        }
        const owned = replicaSets.filter((rs) => rs.controllerUid === d.uid && revisionOf(rs) !== undefined);
        const revisions = owned.map((rs) => revisionOf(rs)!).sort((a, b) => b - a);
        if (owned.length < 2) {
          expect(target.kind).toBe('no-history');
          return;
        }
        if (target.kind === 'target') {
          expect(target.replicaSet.controllerUid).toBe(d.uid);
          expect(templatesEqualIgnoringHash(target.replicaSet.template, d.template)).toBe(false);
          expect(target.revision).toBe(revisions[1]);
        } else {
          expect(target).toEqual({ kind: 'already-current', revision: revisions[1] });
        }
      }),
      { numRuns: 500 },
    );
  });

  it('property: --to-revision N picks revision N or says it is missing', () => {
    fc.assert(
      fc.property(history, fc.integer({ min: 1, max: 14 }), ({ deployment: d, replicaSets }, wanted) => {
        const target = chooseRollbackTarget({ ...d, paused: false }, replicaSets, wanted);
        const exists = replicaSets.some((rs) => rs.controllerUid === d.uid && revisionOf(rs) === wanted);
        if (!exists) {
          expect(target.kind).toBe('revision-not-found');
          return;
        }
        expect(['target', 'already-current']).toContain(target.kind);
        if (target.kind === 'target') expect(target.revision).toBe(wanted);
      }),
      { numRuns: 500 },
    );
  });
});
