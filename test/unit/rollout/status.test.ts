import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { progressBar, rolloutStatus } from '../../../src/core/rollout/status.js';
import { progressMessage } from '../../../src/messages/rollback.js';
import { deployment } from './arbitraries.js';

describe('rolloutStatus (kubectl rollout status)', () => {
  it('says what kubectl says at each step', () => {
    const at = (status: object, extra: object = {}) =>
      rolloutStatus(deployment({ generation: 4, ...extra, status: { observedGeneration: 4, ...status } }));
    expect(at({ observedGeneration: 3 })).toMatchObject({
      state: 'waiting',
      message: 'Waiting for deployment spec update to be observed...',
    });
    expect(at({ replicas: 3, updatedReplicas: 1 }).message).toBe(
      'Waiting for deployment "messaging-core" rollout to finish: 1 out of 2 new replicas have been updated...',
    );
    expect(at({ replicas: 3, updatedReplicas: 2 }).message).toBe(
      'Waiting for deployment "messaging-core" rollout to finish: 1 old replicas are pending termination...',
    );
    expect(at({ replicas: 2, updatedReplicas: 2, availableReplicas: 1 }).message).toBe(
      'Waiting for deployment "messaging-core" rollout to finish: 1 of 2 updated replicas are available...',
    );
    expect(at({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 })).toMatchObject({
      state: 'done',
      message: 'deployment "messaging-core" successfully rolled out',
      progress: { desired: 2, total: 2, updated: 2, available: 2 },
    });
    const failed = at({
      replicas: 3,
      updatedReplicas: 1,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    });
    expect(failed).toMatchObject({
      state: 'failed',
      message: 'deployment "messaging-core" exceeded its progress deadline',
    });
  });

  it('property: matches kubectl for random status values', () => {
    const count = fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined });
    fc.assert(
      fc.property(
        fc.record({
          generation: fc.integer({ min: 1, max: 5 }),
          observed: count,
          desired: count,
          replicas: count,
          updated: count,
          available: count,
          reason: fc.constantFrom(
            undefined,
            'ProgressDeadlineExceeded',
            'ReplicaSetUpdated',
            'NewReplicaSetAvailable',
          ),
        }),
        (s) => {
          const d = deployment({
            generation: s.generation,
            replicas: s.desired,
            status: {
              observedGeneration: s.observed,
              replicas: s.replicas,
              updatedReplicas: s.updated,
              availableReplicas: s.available,
              conditions: s.reason ? [{ type: 'Progressing', status: 'True', reason: s.reason }] : [],
            },
          });
          // kubectl's DeploymentStatusViewer, transcribed.
          const observed = s.generation <= (s.observed ?? 0);
          const updated = s.updated ?? 0;
          let expected: string;
          if (!observed) expected = 'waiting';
          else if (s.reason === 'ProgressDeadlineExceeded') expected = 'failed';
          else if (s.desired !== undefined && updated < s.desired) expected = 'waiting';
          else if ((s.replicas ?? 0) > updated) expected = 'waiting';
          else if ((s.available ?? 0) < updated) expected = 'waiting';
          else expected = 'done';
          expect(rolloutStatus(d).state).toBe(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('draws a bar', () => {
    expect(progressBar(0, 2)).toBe('░░░░░░░░░░');
    expect(progressBar(1, 2)).toBe('▓▓▓▓▓░░░░░');
    expect(progressBar(3, 2)).toBe('▓▓▓▓▓▓▓▓▓▓');
    expect(progressBar(0, 0)).toBe('▓▓▓▓▓▓▓▓▓▓');
  });
});

describe('the progress bar', () => {
  it('never counts old pods as new ones', () => {
    const waiting = (updated: number, available: number, total: number) =>
      progressMessage(
        'messaging-core',
        {
          state: 'waiting',
          message: 'x',
          progress: { desired: 2, updated, ready: available, available, total },
        },
        1_000,
      ).text;
    // Two new pods created, none ready yet; the two old ones still serve.
    expect(waiting(2, 2, 4)).toContain('░░░░░░░░░░ 0/2 new pods available');
    expect(waiting(2, 3, 4)).toContain('1/2 new pods available');
    expect(waiting(2, 2, 2)).toContain('▓▓▓▓▓▓▓▓▓▓ 2/2 new pods available');
  });
});
