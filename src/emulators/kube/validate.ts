import { deepEqual, isRecord } from './json.js';
import { matchesLabels, requirementsOf } from './selector.js';
import { badRequest, invalid } from './status.js';
import type { KubeObject, ResourceType } from './types.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

interface Cause {
  field: string;
  message: string;
}

/**
 * The validation the API server would refuse a write with, for the fields the emulator's controllers
 * rely on: names, ConfigMap data, Deployment selector and template. `previous` is the stored object
 * on an update (immutable fields).
 */
export function validate(type: ResourceType, object: KubeObject, previous?: KubeObject): void {
  const name = object.metadata.name ?? '';
  const causes: Cause[] = [];
  const generated = name === '' && typeof object.metadata.generateName === 'string';
  if (!generated && (name.length > 253 || !DNS_SUBDOMAIN.test(name))) {
    causes.push({
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    });
  }
  if (type.kind === 'ConfigMap') validateConfigMap(object, causes);
  if (type.kind === 'Deployment') validateDeployment(object, previous, causes);
  if (type.kind === 'Pod') validateContainers(object.spec, 'spec', causes);
  if (causes.length > 0) throw invalid(type, name, causes);
}

function validateConfigMap(object: KubeObject, causes: Cause[]): void {
  const data = object.data;
  if (data === undefined || data === null) return;
  if (!isRecord(data))
    throw badRequest('ConfigMap in version "v1" cannot be handled as a ConfigMap: data must be a map');
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'string') {
      throw badRequest(
        `ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal ${typeof value} into Go struct field ConfigMap.data of type string`,
      );
    }
    if (!CONFIG_KEY.test(key)) {
      causes.push({
        field: `data[${key}]`,
        message: `Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
      });
    }
  }
}

function validateDeployment(object: KubeObject, previous: KubeObject | undefined, causes: Cause[]): void {
  const spec = object.spec;
  if (!isRecord(spec)) {
    causes.push({ field: 'spec', message: 'Required value' });
    return;
  }
  const replicas = spec.replicas;
  if (replicas !== undefined && (!Number.isInteger(replicas) || (replicas as number) < 0)) {
    causes.push({
      field: 'spec.replicas',
      message: `Invalid value: ${String(replicas)}: must be a non-negative integer`,
    });
  }
  const selector = spec.selector;
  const requirements = isRecord(selector) ? requirementsOf(selector) : [];
  if (requirements.length === 0) {
    causes.push({ field: 'spec.selector', message: 'Required value' });
  } else if (previous && isRecord(previous.spec) && !deepEqual(previous.spec.selector, selector)) {
    causes.push({
      field: 'spec.selector',
      message: `Invalid value: ${JSON.stringify(selector)}: field is immutable`,
    });
  }
  const template = spec.template;
  const labels = isRecord(template) && isRecord(template.metadata) ? template.metadata.labels : undefined;
  if (requirements.length > 0 && !matchesLabels(labels as Record<string, string> | undefined, requirements)) {
    causes.push({
      field: 'spec.template.metadata.labels',
      message: `Invalid value: ${JSON.stringify(labels ?? {})}: \`selector\` does not match template \`labels\``,
    });
  }
  validateContainers(isRecord(template) ? template.spec : undefined, 'spec.template.spec', causes);
}

function validateContainers(podSpec: unknown, path: string, causes: Cause[]): void {
  const containers = isRecord(podSpec) ? podSpec.containers : undefined;
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push({ field: `${path}.containers`, message: 'Required value' });
    return;
  }
  containers.forEach((container, i) => {
    if (!isRecord(container) || typeof container.name !== 'string' || container.name === '') {
      causes.push({ field: `${path}.containers[${i}].name`, message: 'Required value' });
    }
    if (!isRecord(container) || typeof container.image !== 'string' || container.image === '') {
      causes.push({ field: `${path}.containers[${i}].image`, message: 'Required value' });
    }
  });
}
