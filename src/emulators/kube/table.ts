/**
 * Server-side printing: the `meta.k8s.io/v1` Table the API server answers when a client asks for
 * `application/json;as=Table;v=v1;g=meta.k8s.io` (what `kubectl get` does), with the columns of
 * `pkg/printers/internalversion/printers.go` for the kinds served. kubectl prints the cells as given.
 */
import { isRecord } from './json.js';
import { labelSelectorText } from './selector.js';
import type {
  ConfigMap,
  Deployment,
  Kind,
  KubeObject,
  LabelSelector,
  Lease,
  Pod,
  PodSpec,
  ReplicaSet,
} from './types.js';

interface Column {
  name: string;
  type: 'string' | 'integer';
  format?: string;
  description: string;
  /** 0: always shown; 1: only with `-o wide`. */
  priority: 0 | 1;
}

type Cell = string | number;

const NAME: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
  priority: 0,
};
const AGE: Column = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
};
const wide = (name: string, description: string): Column => ({
  name,
  type: 'string',
  description,
  priority: 1,
});
const CONTAINERS = wide('Containers', 'Names of each container in the template.');
const IMAGES = wide('Images', 'Images referenced by each container in the template.');
const SELECTOR = wide('Selector', 'Label selector for pods.');

interface Printer {
  columns: Column[];
  cells(object: KubeObject, now: number): Cell[];
}

const PRINTERS: Record<Kind, Printer> = {
  Pod: {
    columns: [
      NAME,
      {
        name: 'Ready',
        type: 'string',
        description: 'The aggregate readiness state of this pod for accepting traffic.',
        priority: 0,
      },
      {
        name: 'Status',
        type: 'string',
        description: 'The aggregate status of the containers in this pod.',
        priority: 0,
      },
      {
        name: 'Restarts',
        type: 'string',
        description:
          'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
        priority: 0,
      },
      AGE,
      wide('IP', 'IP address allocated to the pod. Routable at least within the cluster.'),
      wide('Node', 'NodeName is a request to schedule this pod onto a specific node.'),
      wide('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node.'),
      wide('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.'),
    ],
    cells: (object, now) => podCells(object as Pod, now),
  },
  Deployment: {
    columns: [
      NAME,
      { name: 'Ready', type: 'string', description: 'Number of the pod with ready state', priority: 0 },
      {
        name: 'Up-to-date',
        type: 'integer',
        description:
          'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
        priority: 0,
      },
      {
        name: 'Available',
        type: 'integer',
        description:
          'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
        priority: 0,
      },
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR,
    ],
    cells: (object, now) => {
      const d = object as Deployment;
      const s = d.status ?? {};
      return [
        name(d),
        `${s.readyReplicas ?? 0}/${d.spec.replicas ?? 1}`,
        s.updatedReplicas ?? 0,
        s.availableReplicas ?? 0,
        age(d, now),
        ...templateCells(d.spec.template.spec, d.spec.selector),
      ];
    },
  },
  ReplicaSet: {
    columns: [
      NAME,
      {
        name: 'Desired',
        type: 'integer',
        description: 'Replicas is the number of desired replicas.',
        priority: 0,
      },
      {
        name: 'Current',
        type: 'integer',
        description: 'Replicas is the most recently observed number of replicas.',
        priority: 0,
      },
      {
        name: 'Ready',
        type: 'integer',
        description: 'The number of ready replicas for this replica set.',
        priority: 0,
      },
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR,
    ],
    cells: (object, now) => {
      const rs = object as ReplicaSet;
      return [
        name(rs),
        rs.spec.replicas ?? 1,
        rs.status?.replicas ?? 0,
        rs.status?.readyReplicas ?? 0,
        age(rs, now),
        ...templateCells(rs.spec.template.spec, rs.spec.selector),
      ];
    },
  },
  ConfigMap: {
    columns: [
      NAME,
      { name: 'Data', type: 'integer', description: 'Number of keys in the data.', priority: 0 },
      AGE,
    ],
    cells: (object, now) => {
      const map = object as ConfigMap;
      const binary = isRecord(map.binaryData) ? Object.keys(map.binaryData).length : 0;
      return [name(map), Object.keys(map.data ?? {}).length + binary, age(map, now)];
    },
  },
  Lease: {
    columns: [
      NAME,
      { name: 'Holder', type: 'string', description: 'The holder of the lease.', priority: 0 },
      AGE,
    ],
    cells: (object, now) => {
      const lease = object as Lease;
      return [name(lease), lease.spec?.holderIdentity ?? '', age(lease, now)];
    },
  },
};

/** Whether the Accept header asks for a Table (kubectl also offers plain JSON after it). */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '')
    .split(',')
    .map((part) => part.split(';').map((p) => p.trim()))
    .some(
      (params) =>
        params.includes('as=Table') &&
        params.includes('g=meta.k8s.io') &&
        (params.includes('v=v1') || params.includes('v=v1beta1')),
    );
}

/**
 * The Table of one object or of a list reply (`items` without kind). `includeObject`: `None`,
 * `Metadata` (the default: a PartialObjectMetadata per row) or `Object`.
 */
export function toTable(
  kind: Kind,
  reply: KubeObject | { metadata?: unknown; items: KubeObject[] },
  includeObject: string | null,
  now = Date.now(),
) {
  const printer = PRINTERS[kind];
  const apiVersion = (reply as KubeObject).apiVersion;
  const listed = (reply as { items?: unknown }).items;
  const items = Array.isArray(listed) ? (listed as KubeObject[]) : [reply as KubeObject];
  const metadata = Array.isArray(listed)
    ? (reply.metadata ?? {})
    : { resourceVersion: (reply as KubeObject).metadata.resourceVersion };
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: printer.columns,
    rows: items.map((item) => ({
      cells: printer.cells(item, now),
      ...rowObject(kind, apiVersion, item, includeObject),
    })),
  };
}

function rowObject(
  kind: Kind,
  listApiVersion: string | undefined,
  item: KubeObject,
  includeObject: string | null,
) {
  if (includeObject === 'None') return {};
  if (includeObject === 'Object') {
    return { object: { kind, apiVersion: item.apiVersion ?? listApiVersion, ...item } };
  }
  return { object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: item.metadata } };
}

function name(object: KubeObject): string {
  return object.metadata.name ?? '';
}

function age(object: KubeObject, now: number): string {
  const created = Date.parse(object.metadata.creationTimestamp ?? '');
  return Number.isFinite(created) ? humanDuration(now - created) : '<unknown>';
}

function templateCells(spec: PodSpec | undefined, selector: LabelSelector): string[] {
  const containers = spec?.containers ?? [];
  return [
    containers.map((c) => c.name).join(','),
    containers.map((c) => c.image ?? '').join(','),
    labelSelectorText(selector),
  ];
}

/** `printPod`: the READY count, the STATUS reason and the RESTARTS of the pod's containers. */
function podCells(pod: Pod, now: number): Cell[] {
  const status = pod.status ?? {};
  const containers = pod.spec.containers;
  let reason = typeof status.reason === 'string' && status.reason ? status.reason : (status.phase ?? '');
  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  let running = false;
  for (const c of [...(status.containerStatuses ?? [])].reverse()) {
    restarts += c.restartCount;
    const finishedAt = Date.parse(String(c.lastState?.terminated?.finishedAt ?? ''));
    if (Number.isFinite(finishedAt)) lastRestart = Math.max(lastRestart, finishedAt);
    const waiting = c.state?.waiting;
    const terminated = c.state?.terminated;
    if (waiting && typeof waiting.reason === 'string' && waiting.reason) {
      reason = waiting.reason;
    } else if (terminated) {
      reason =
        typeof terminated.reason === 'string' && terminated.reason
          ? terminated.reason
          : typeof terminated.signal === 'number' && terminated.signal
            ? `Signal:${terminated.signal}`
            : `ExitCode:${String(terminated.exitCode ?? 0)}`;
    } else if (c.state?.running && c.ready) {
      running = true;
      ready++;
    }
  }
  if (reason === 'Completed' && running) reason = 'Running';
  if (pod.metadata.deletionTimestamp) reason = 'Terminating';
  const restartText =
    restarts > 0 && lastRestart > 0
      ? `${restarts} (${humanDuration(now - lastRestart)} ago)`
      : String(restarts);
  const readinessGates = Array.isArray(pod.spec.readinessGates) ? pod.spec.readinessGates.length : 0;
  return [
    name(pod),
    `${ready}/${containers.length}`,
    reason,
    restartText,
    age(pod, now),
    typeof status.podIP === 'string' ? status.podIP : '<none>',
    typeof pod.spec.nodeName === 'string' ? pod.spec.nodeName : '<none>',
    typeof status.nominatedNodeName === 'string' ? status.nominatedNodeName : '<none>',
    readinessGates > 0 ? `0/${readinessGates}` : '<none>',
  ];
}

/** `duration.HumanDuration` of apimachinery: `45s`, `3m20s`, `15m`, `5h3m`, `3d4h`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    const years = Math.floor(hours / 24 / 365);
    return days === 0 ? `${years}y` : `${years}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}
