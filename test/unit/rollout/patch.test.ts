import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANNOTATIONS_TO_SKIP, rollbackPatch } from '../../../src/core/rollout/patch.js';
import { restartPatch } from '../../../src/core/rollout/restart.js';
import { chooseRollbackTarget } from '../../../src/core/rollout/target.js';
import { deployment, history, replicaSet, template } from './arbitraries.js';

describe('rollbackPatch (kubectl getDeploymentPatch)', () => {
  it('replaces the template without pod-template-hash and merges the annotations as kubectl does', () => {
    const d = deployment({
      annotations: {
        'deployment.kubernetes.io/revision': '3',
        'deployment.kubernetes.io/revision-history': '1',
        'kubectl.kubernetes.io/last-applied-configuration': '{"mine":true}',
        'kubernetes.io/change-cause': 'release 3',
        'only.on/deployment': 'dropped',
      },
    });
    const target = replicaSet(2, 'core:2', 'b', {
      annotations: {
        'deployment.kubernetes.io/revision': '2',
        'deployment.kubernetes.io/desired-replicas': '2',
        'deployment.kubernetes.io/max-replicas': '3',
        'kubectl.kubernetes.io/last-applied-configuration': '{"rs":true}',
        'kubernetes.io/change-cause': 'release 2',
      },
    });
    expect(rollbackPatch(d, target)).toEqual([
      { op: 'replace', path: '/spec/template', value: template('core:2', 'b') },
      {
        op: 'replace',
        path: '/metadata/annotations',
        value: {
          'deployment.kubernetes.io/revision': '3',
          'deployment.kubernetes.io/revision-history': '1',
          'kubectl.kubernetes.io/last-applied-configuration': '{"mine":true}',
          'kubernetes.io/change-cause': 'release 2',
        },
      },
    ]);
    expect(target.template.metadata?.labels?.['pod-template-hash']).toBe('h2');
  });

  it('adds the annotations when the Deployment has none', () => {
    expect(rollbackPatch(deployment({ annotations: {} }), replicaSet(1, 'core:1'))[1]).toMatchObject({
      op: 'add',
      path: '/metadata/annotations',
    });
  });

  it("property: never carries pod-template-hash, keeps the Deployment's skipped annotations, copies the rest from the ReplicaSet", () => {
    fc.assert(
      fc.property(history, ({ deployment: d, replicaSets }) => {
        const target = chooseRollbackTarget({ ...d, paused: false }, replicaSets);
        if (target.kind !== 'target') return;
        const [templateOp, annotationsOp] = rollbackPatch(d, target.replicaSet);
        expect(templateOp!.path).toBe('/spec/template');
        expect(JSON.stringify(templateOp!.value)).not.toContain('pod-template-hash');
        const annotations = annotationsOp!.value as Record<string, string>;
        for (const key of ANNOTATIONS_TO_SKIP) expect(annotations[key]).toBe(d.annotations[key]);
        for (const [key, value] of Object.entries(target.replicaSet.annotations)) {
          if (!ANNOTATIONS_TO_SKIP.includes(key)) expect(annotations[key]).toBe(value);
        }
        for (const key of Object.keys(annotations)) {
          expect(ANNOTATIONS_TO_SKIP.includes(key) || key in target.replicaSet.annotations).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('restarts as kubectl rollout restart: the restartedAt template annotation', () => {
    expect(restartPatch('2026-01-02T03:04:05.000Z')).toEqual({
      spec: {
        template: {
          metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-02T03:04:05.000Z' } },
        },
      },
    });
  });
});
