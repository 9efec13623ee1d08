import fc from 'fast-check';
import type { DeploymentView, PodTemplate, ReplicaSetView } from '../../../src/core/rollout/types.js';

export const DEPLOYMENT_UID = 'uid-deploy';

export function template(image: string, env: string, hash?: string): PodTemplate {
  return {
    metadata: { labels: { app: 'messaging-core', ...(hash ? { 'pod-template-hash': hash } : {}) } },
    spec: { containers: [{ name: 'messaging-core', image, env: [{ name: 'MODE', value: env }] }] },
  };
}

export function deployment(overrides: Partial<DeploymentView> = {}): DeploymentView {
  return {
    name: 'messaging-core',
    uid: DEPLOYMENT_UID,
    generation: 3,
    annotations: { 'deployment.kubernetes.io/revision': '3' },
    selector: 'app=messaging-core',
    paused: false,
    replicas: 2,
    template: template('core:3', 'c'),
    status: {
      observedGeneration: 3,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    },
    ...overrides,
  };
}

export function replicaSet(
  revision: number | string,
  image: string,
  env = 'x',
  extra: Partial<ReplicaSetView> = {},
): ReplicaSetView {
  return {
    name: `messaging-core-${image.replace(/\W/g, '')}-${revision}`,
    uid: `uid-rs-${revision}-${image}`,
    controllerUid: DEPLOYMENT_UID,
    annotations: { 'deployment.kubernetes.io/revision': String(revision) },
    template: template(image, env, `h${revision}`),
    ...extra,
  };
}

const image = fc.constantFrom('core:1', 'core:2', 'core:3', 'core:4');
const env = fc.constantFrom('a', 'b', 'c');

/** A Deployment and a history of ReplicaSets: some foreign, some without or with odd revisions. */
export const history = fc
  .record({
    current: fc.record({ image, env }),
    paused: fc.boolean(),
    sets: fc.array(
      fc.record({
        revision: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom('x', '')),
        image,
        env,
        owned: fc.boolean(),
        withAnnotation: fc.boolean(),
        extra: fc.dictionary(
          fc.constantFrom('a.io/x', 'kubernetes.io/change-cause', 'deployment.kubernetes.io/max-replicas'),
          fc.string(),
        ),
      }),
      { maxLength: 8 },
    ),
  })
  .map(({ current, paused, sets }) => {
    const d = deployment({ paused, template: template(current.image, current.env) });
    const replicaSets = sets.map((set, index) => {
      const rs = replicaSet(set.revision, set.image, set.env, {
        uid: `uid-${index}`,
        controllerUid: set.owned ? DEPLOYMENT_UID : 'someone-else',
      });
      rs.annotations = {
        ...set.extra,
        ...(set.withAnnotation ? { 'deployment.kubernetes.io/revision': String(set.revision) } : {}),
      };
      return rs;
    });
    return { deployment: d, replicaSets };
  });
