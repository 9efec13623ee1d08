import type { Logger } from '../../logger.js';
import { applyDefaults } from './defaults.js';
import { clone, deepEqual } from './json.js';
import { isPodReady, type Kubelet, NODE_NAME } from './kubelet.js';
import {
  controllerOf,
  copiedAnnotations,
  getCondition,
  isComplete,
  isFullyAvailable,
  madeProgress,
  maxSurge,
  maxUnavailable,
  newCondition,
  omitZeroCounts,
  ownerReference,
  podTemplateHash,
  revisionOf,
  setCondition,
  templatesEqual,
  timedOut,
} from './rollout.js';
import { matchesLabels, requirementsOf } from './selector.js';
import type { ObjectStore } from './store.js';
import {
  type Condition,
  DESIRED_REPLICAS_ANNOTATION,
  type Deployment,
  type DeploymentStatus,
  type KubeObject,
  MAX_REPLICAS_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  type Pod,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  type ReplicaSet,
  type ReplicaSetStatus,
} from './types.js';

/**
 * The Deployment and ReplicaSet controllers and the garbage collector, in one synchronous pass over
 * the store. A pass writes only what differs, so repeating it until it writes nothing settles.
 *
 * Rollouts surge: the new ReplicaSet gets all replicas at once, and the old ones are scaled to 0 (their
 * pods deleted) once the new one is fully available.
 */
export class Controllers {
  constructor(
    private readonly store: ObjectStore,
    private readonly kubelet: Kubelet,
    private readonly logger: Logger,
  ) {}

  /** One pass of every controller; returns whether it wrote anything. */
  syncAll(now: number, podsReadyNow = false): boolean {
    const before = this.store.resourceVersion;
    this.collectGarbage();
    for (const d of this.deployments()) this.guard(d, () => this.syncDeployment(d, now));
    for (const rs of this.replicaSets()) this.guard(rs, () => this.syncReplicaSet(rs, now));
    this.kubelet.syncPods(now, podsReadyNow);
    for (const rs of this.replicaSets()) this.guard(rs, () => this.syncReplicaSetStatus(rs));
    for (const d of this.deployments()) this.guard(d, () => this.syncDeploymentStatus(d, now));
    return this.store.resourceVersion !== before;
  }

  private guard(object: KubeObject, sync: () => void): void {
    try {
      sync();
    } catch (error) {
      const { kind, metadata } = object;
      this.logger.warn({ err: error, kind, name: metadata.name }, 'kube emulator: controller sync failed');
    }
  }

  private deployments(): Deployment[] {
    return this.store.list('Deployment') as Deployment[];
  }

  private replicaSets(namespace?: string): ReplicaSet[] {
    return this.store.list('ReplicaSet', namespace) as ReplicaSet[];
  }

  private ownedReplicaSets(d: Deployment): ReplicaSet[] {
    return this.replicaSets(d.metadata.namespace).filter((rs) => controllerOf(rs)?.uid === d.metadata.uid);
  }

  private ownedPods(rs: ReplicaSet): Pod[] {
    const pods = this.store.list('Pod', rs.metadata.namespace) as Pod[];
    return pods.filter((pod) => controllerOf(pod)?.uid === rs.metadata.uid);
  }

  // ---- Deployment ------------------------------------------------------------------------------

  private syncDeployment(d: Deployment, now: number): void {
    const owned = this.ownedReplicaSets(d);
    const desired = d.spec.replicas ?? 1;
    let newRs = owned.find((rs) => templatesEqual(rs.spec.template, d.spec.template));
    if (d.spec.paused) {
      // A paused Deployment is scaled but not rolled.
      if (newRs) this.scale(newRs, desired, d);
      return;
    }
    const oldRevisions = owned.filter((rs) => rs !== newRs).map(revisionOf);
    const nextRevision = Math.max(0, ...oldRevisions) + 1;
    if (!newRs) {
      newRs = this.createReplicaSet(d, nextRevision);
      const message = `Created new replica set "${newRs.metadata.name}"`;
      this.writeStatus(d, (status) =>
        setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetCreated', message, now)),
      );
    } else {
      newRs = this.adoptAsNewReplicaSet(d, newRs, nextRevision);
      if (!getCondition(d.status, 'Progressing')) {
        const message = `Found new replica set "${newRs.metadata.name}"`;
        this.writeStatus(d, (status) =>
          setCondition(status, newCondition('Progressing', 'True', 'FoundNewReplicaSet', message, now)),
        );
      }
      newRs = this.scale(newRs, desired, d);
    }
    // The Deployment shows the revision of its new ReplicaSet (written like status: no new generation).
    const revision = newRs.metadata.annotations?.[REVISION_ANNOTATION];
    const fresh = this.current(d);
    if (revision && fresh.metadata.annotations?.[REVISION_ANNOTATION] !== revision) {
      fresh.metadata.annotations = { ...fresh.metadata.annotations, [REVISION_ANNOTATION]: revision };
      this.store.update(fresh, 'status');
    }
    if (isFullyAvailable(newRs, desired)) {
      for (const old of owned) if (old.metadata.uid !== newRs.metadata.uid) this.scale(old, 0);
      if (isComplete(this.current(d))) this.cleanupHistory(d, newRs);
    }
  }

  private current(d: Deployment): Deployment {
    const fresh = this.store.get('Deployment', d.metadata.namespace!, d.metadata.name!) as
      | Deployment
      | undefined;
    if (!fresh || fresh.metadata.uid !== d.metadata.uid) throw new Error('deployment vanished during sync');
    return fresh;
  }

  private writeStatus(d: Deployment, change: (status: DeploymentStatus) => void): void {
    const fresh = this.current(d);
    const status = clone(fresh.status ?? {});
    change(status);
    this.store.update({ ...fresh, status }, 'status');
  }

  private createReplicaSet(d: Deployment, revision: number): ReplicaSet {
    const hash = podTemplateHash(d.spec.template);
    const template = clone(d.spec.template);
    const labels = { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash };
    template.metadata = { ...template.metadata, labels };
    const desired = d.spec.replicas ?? 1;
    const selector = clone(d.spec.selector);
    selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash };
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: clone(labels),
        annotations: {
          ...copiedAnnotations(d),
          [DESIRED_REPLICAS_ANNOTATION]: String(desired),
          [MAX_REPLICAS_ANNOTATION]: String(desired + maxSurge(d)),
          [REVISION_ANNOTATION]: String(revision),
        },
        ownerReferences: [ownerReference(d, 'apps/v1')],
      },
      spec: { replicas: desired, minReadySeconds: d.spec.minReadySeconds ?? 0, selector, template },
    };
    this.logger.debug({ name: rs.metadata.name, revision }, 'kube emulator: new replica set');
    return this.store.create(rs) as ReplicaSet;
  }

  /** The ReplicaSet whose template matches becomes the newest revision again (a rollback, an undo). */
  private adoptAsNewReplicaSet(d: Deployment, rs: ReplicaSet, nextRevision: number): ReplicaSet {
    const annotations = { ...rs.metadata.annotations, ...copiedAnnotations(d) };
    const current = revisionOf(rs);
    if (current < nextRevision) {
      annotations[REVISION_ANNOTATION] = String(nextRevision);
      if (current > 0) {
        const history = annotations[REVISION_HISTORY_ANNOTATION];
        annotations[REVISION_HISTORY_ANNOTATION] = history ? `${history},${current}` : String(current);
      }
    }
    if (deepEqual(annotations, rs.metadata.annotations)) return rs;
    return this.store.update({ ...rs, metadata: { ...rs.metadata, annotations } }) as ReplicaSet;
  }

  private scale(rs: ReplicaSet, replicas: number, d?: Deployment): ReplicaSet {
    const annotations = { ...rs.metadata.annotations };
    if (d) {
      annotations[DESIRED_REPLICAS_ANNOTATION] = String(replicas);
      annotations[MAX_REPLICAS_ANNOTATION] = String(replicas + maxSurge(d));
    }
    if ((rs.spec.replicas ?? 1) === replicas && deepEqual(annotations, rs.metadata.annotations)) return rs;
    const next = { ...rs, metadata: { ...rs.metadata, annotations }, spec: { ...rs.spec, replicas } };
    return this.store.update(next) as ReplicaSet;
  }

  /** Deletes the oldest scaled-down ReplicaSets beyond `revisionHistoryLimit`. */
  private cleanupHistory(d: Deployment, newRs: ReplicaSet): void {
    const limit = d.spec.revisionHistoryLimit ?? 10;
    const old = this.ownedReplicaSets(d)
      .filter((rs) => rs.metadata.uid !== newRs.metadata.uid)
      .filter((rs) => rs.spec.replicas === 0 && (rs.status?.replicas ?? 0) === 0)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of old.slice(0, Math.max(0, old.length - limit))) {
      this.store.delete('ReplicaSet', rs.metadata.namespace!, rs.metadata.name!);
    }
  }

  /** `syncRolloutStatus` of the real controller: replica counts, then Available and Progressing. */
  private syncDeploymentStatus(d: Deployment, now: number): void {
    const owned = this.ownedReplicaSets(d);
    const newRs = owned.find((rs) => templatesEqual(rs.spec.template, d.spec.template));
    const sum = (count: (rs: ReplicaSet) => number | undefined) =>
      owned.reduce((total, rs) => total + (count(rs) ?? 0), 0);
    const available = sum((rs) => rs.status?.availableReplicas);
    const desired = d.spec.replicas ?? 1;
    const previous = d.status ?? {};
    const status: DeploymentStatus = {
      ...clone(previous),
      observedGeneration: d.metadata.generation,
      replicas: sum((rs) => rs.status?.replicas),
      updatedReplicas: newRs?.status?.replicas ?? 0,
      readyReplicas: sum((rs) => rs.status?.readyReplicas),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, sum((rs) => rs.spec.replicas) - available),
    };
    const set = (type: string, value: Condition['status'], reason: string, message: string) =>
      setCondition(status, newCondition(type, value, reason, message, now));
    if (available >= desired - maxUnavailable(d)) {
      set('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.');
    } else {
      set(
        'Available',
        'False',
        'MinimumReplicasUnavailable',
        'Deployment does not have minimum availability.',
      );
    }
    const progressing = getCondition(status, 'Progressing');
    if (d.spec.paused) {
      // A paused rollout has no deadline; resuming restarts the clock.
      if (progressing?.reason !== 'DeploymentPaused') {
        set('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused');
      }
    } else if (progressing?.reason === 'DeploymentPaused') {
      set('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed');
    } else if (newRs) {
      // The real controller writes the status between scaling the new ReplicaSet up and its pods
      // appearing, so a rollout to an existing (old) ReplicaSet first shows 0 updated replicas and
      // then progress. One pass here does both: compare with that intermediate status, or the stale
      // NewReplicaSetAvailable of the previous rollout never changes and the deadline never fires.
      const firstLook =
        (previous.observedGeneration ?? 0) < (d.metadata.generation ?? 1) &&
        getCondition(previous, 'Progressing')?.reason === 'NewReplicaSetAvailable';
      this.updateProgressing(
        d,
        firstLook ? { ...previous, updatedReplicas: 0 } : previous,
        status,
        newRs,
        now,
      );
    }
    const compacted = omitZeroCounts(status);
    if (!deepEqual(compacted, d.status))
      this.store.update({ ...this.current(d), status: compacted }, 'status');
  }

  private updateProgressing(
    d: Deployment,
    previous: DeploymentStatus,
    status: DeploymentStatus,
    newRs: ReplicaSet,
    now: number,
  ): void {
    const name = newRs.metadata.name;
    const current = getCondition(status, 'Progressing');
    const alreadyComplete =
      status.replicas === status.updatedReplicas && current?.reason === 'NewReplicaSetAvailable';
    if (alreadyComplete) return;
    if (isComplete({ ...d, status })) {
      const message = `ReplicaSet "${name}" has successfully progressed.`;
      setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetAvailable', message, now));
    } else if (madeProgress(previous, status)) {
      const condition = newCondition(
        'Progressing',
        'True',
        'ReplicaSetUpdated',
        `ReplicaSet "${name}" is progressing.`,
        now,
      );
      // Progress refreshes lastUpdateTime even when the reason stays the same.
      if (current?.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
      status.conditions = (status.conditions ?? []).filter((c) => c.type !== 'Progressing');
      setCondition(status, condition);
    } else if (timedOut(d, current, now)) {
      const message = `ReplicaSet "${name}" has timed out progressing.`;
      setCondition(status, newCondition('Progressing', 'False', 'ProgressDeadlineExceeded', message, now));
    }
  }

  // ---- ReplicaSet ------------------------------------------------------------------------------

  private syncReplicaSet(rs: ReplicaSet, now: number): void {
    const pods = this.ownedPods(rs);
    const desired = rs.spec.replicas ?? 1;
    for (let i = pods.length; i < desired; i++) this.createPod(rs, now);
    if (pods.length > desired) {
      // Like the real controller: the pods least far along go first, then the newest.
      const ranked = [...pods].sort(
        (a, b) =>
          Number(isPodReady(a)) - Number(isPodReady(b)) ||
          (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
      );
      for (const pod of ranked.slice(0, pods.length - desired)) {
        this.store.delete('Pod', pod.metadata.namespace!, pod.metadata.name!);
      }
    }
  }

  private createPod(rs: ReplicaSet, now: number): void {
    const template = rs.spec.template;
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${rs.metadata.name}-`,
        namespace: rs.metadata.namespace,
        labels: clone(template.metadata?.labels ?? {}),
        ...(template.metadata?.annotations ? { annotations: clone(template.metadata.annotations) } : {}),
        ownerReferences: [ownerReference(rs, 'apps/v1')],
      },
      spec: { restartPolicy: 'Always', ...clone(template.spec), nodeName: NODE_NAME },
    };
    applyDefaults('Pod', pod);
    pod.status = this.kubelet.pendingStatus(pod, now);
    this.store.create(pod);
  }

  private syncReplicaSetStatus(rs: ReplicaSet): void {
    const pods = this.ownedPods(rs);
    const labelled = requirementsOf({ matchLabels: rs.spec.template.metadata?.labels ?? {} });
    const ready = pods.filter(isPodReady).length;
    const status: ReplicaSetStatus = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.filter((p) => matchesLabels(p.metadata.labels, labelled)).length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation,
    };
    const compacted = { ...omitZeroCounts(status), replicas: pods.length } as ReplicaSetStatus;
    if (!deepEqual(compacted, rs.status)) this.store.update({ ...rs, status: compacted }, 'status');
  }

  // ---- Garbage collector -----------------------------------------------------------------------

  /** Deletes ReplicaSets and Pods whose controlling owner is gone (background propagation). */
  private collectGarbage(): void {
    const ownerKinds = ['Deployment', 'ReplicaSet'];
    for (const kind of ['ReplicaSet', 'Pod'] as const) {
      for (const object of this.store.list(kind)) {
        const owner = controllerOf(object);
        if (!owner || !ownerKinds.includes(owner.kind)) continue;
        const alive = this.store.get(owner.kind, object.metadata.namespace!, owner.name);
        if (alive?.metadata.uid !== owner.uid) {
          this.store.delete(kind, object.metadata.namespace!, object.metadata.name!);
        }
      }
    }
  }
}
