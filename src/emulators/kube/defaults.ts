/**
 * What the API server does to an object between decoding a write and storing it, for the kinds the
 * emulator serves: Go's decoding (a JSON `null` is the zero value, an empty `resources: {}` or
 * `creationTimestamp: null` is the same as none) and the defaulting functions of
 * `pkg/apis/core/v1/defaults.go` and `pkg/apis/apps/v1/defaults.go`.
 *
 * Stored objects are in this one form, so that comparisons the controllers make on plain JSON follow
 * the API server's semantic equality: the template `kubectl rollout undo` sends (with its Go zero
 * values) equals the ReplicaSet template it came from, and the old ReplicaSet is reused.
 */
import { isRecord, type JsonRecord } from './json.js';
import type { Kind, KubeObject } from './types.js';

/** Defaults and normalises `object` in place, as the API server does on a create or an update. */
export function applyDefaults(kind: Kind, object: KubeObject): void {
  dropNullFields(object.metadata);
  switch (kind) {
    case 'Deployment':
      defaultDeploymentSpec(object);
      if (isRecord(object.spec)) normalizeTemplate(object.spec.template);
      break;
    case 'ReplicaSet':
      if (isRecord(object.spec)) {
        object.spec.replicas ??= 1;
        normalizeTemplate(object.spec.template);
      }
      break;
    case 'Pod':
      if (isRecord(object.spec)) {
        normalizePodSpec(object.spec);
        object.spec.enableServiceLinks ??= true; // SetDefaults_Pod
      }
      break;
    default:
      break;
  }
}

/** apps/v1 `SetDefaults_Deployment`. */
export function defaultDeploymentSpec(object: KubeObject): void {
  if (!isRecord(object.spec)) return;
  const spec = object.spec;
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  if (!isRecord(spec.strategy)) spec.strategy = { type: 'RollingUpdate' };
  const strategy = spec.strategy as JsonRecord;
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rolling = isRecord(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
    rolling.maxUnavailable ??= '25%';
    rolling.maxSurge ??= '25%';
    strategy.rollingUpdate = rolling;
  }
}

function normalizeTemplate(template: unknown): void {
  if (!isRecord(template)) return;
  if (isRecord(template.metadata)) {
    // `creationTimestamp: null` is what Go writes for a template's zero time: the same as none.
    dropNullFields(template.metadata);
    dropEmptyMaps(template.metadata, ['labels', 'annotations']);
    if (Object.keys(template.metadata).length === 0) delete template.metadata;
  }
  if (isRecord(template.spec)) normalizePodSpec(template.spec);
}

/** `SetDefaults_PodSpec` and the container defaults, after dropping Go zero values. */
function normalizePodSpec(spec: JsonRecord): void {
  dropNullsDeep(spec);
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const field of ['initContainers', 'containers']) {
    const containers = spec[field];
    if (Array.isArray(containers)) for (const container of containers) normalizeContainer(container);
  }
  if (Array.isArray(spec.volumes)) for (const volume of spec.volumes) defaultVolume(volume);
  dropEmptyLists(spec);
}

function normalizeContainer(container: unknown): void {
  if (!isRecord(container)) return;
  if (isRecord(container.resources)) {
    dropEmptyMaps(container.resources, ['limits', 'requests']);
    dropEmptyLists(container.resources);
    if (Object.keys(container.resources).length === 0) delete container.resources;
  }
  if (typeof container.image === 'string') container.imagePullPolicy ??= defaultPullPolicy(container.image);
  container.terminationMessagePath ??= '/dev/termination-log';
  container.terminationMessagePolicy ??= 'File';
  if (Array.isArray(container.ports)) {
    for (const port of container.ports) if (isRecord(port)) port.protocol ??= 'TCP';
  }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(container[probe]);
  if (Array.isArray(container.env)) {
    for (const variable of container.env) {
      const fieldRef =
        isRecord(variable) && isRecord(variable.valueFrom) ? variable.valueFrom.fieldRef : undefined;
      if (isRecord(fieldRef)) fieldRef.apiVersion ??= 'v1';
    }
  }
  dropEmptyLists(container);
}

/**
 * `SetDefaults_Container`: `Always` for the `latest` tag, which an image without tag or digest means;
 * otherwise `IfNotPresent`.
 */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  const tag = colon === -1 ? 'latest' : image.slice(colon + 1);
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** `SetDefaults_Probe` and `SetDefaults_HTTPGetAction`. */
function defaultProbe(probe: unknown): void {
  if (!isRecord(probe)) return;
  probe.timeoutSeconds ??= 1;
  probe.periodSeconds ??= 10;
  probe.successThreshold ??= 1;
  probe.failureThreshold ??= 3;
  if (isRecord(probe.httpGet)) probe.httpGet.scheme ??= 'HTTP';
}

/** `SetDefaults_ConfigMapVolumeSource`, `SetDefaults_SecretVolumeSource`: mode 0644. */
function defaultVolume(volume: unknown): void {
  if (!isRecord(volume)) return;
  for (const source of ['configMap', 'secret']) {
    const value = volume[source];
    if (isRecord(value)) value.defaultMode ??= 0o644;
  }
}

function dropNullFields(record: JsonRecord): void {
  for (const [key, value] of Object.entries(record)) if (value === null) delete record[key];
}

/** Go decodes `null` into a zero value, which it then leaves out (`omitempty`). */
function dropNullsDeep(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) dropNullsDeep(item);
  } else if (isRecord(value)) {
    dropNullFields(value);
    for (const item of Object.values(value)) dropNullsDeep(item);
  }
}

/** Empty maps of `omitempty` map fields are the same as none. */
function dropEmptyMaps(record: JsonRecord, keys: readonly string[]): void {
  for (const key of keys) {
    const value = record[key];
    if (isRecord(value) && Object.keys(value).length === 0) delete record[key];
  }
}

/** Every list of a pod spec or a container is `omitempty`: an empty one is the same as none. */
function dropEmptyLists(record: JsonRecord): void {
  for (const [key, value] of Object.entries(record)) {
    if (Array.isArray(value) && value.length === 0 && key !== 'containers') delete record[key];
  }
}
