import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { createLogger, type Logger } from '../../logger.js';
import { pathNotFound, ResourceApi } from './api.js';
import { Controllers } from './controller.js';
import { applyDefaults } from './defaults.js';
import { discovery } from './discovery.js';
import { Faults } from './faults.js';
import { readBody, sendJson, sendText } from './http.js';
import { kubeconfigYaml, writeKubeconfigFile } from './kubeconfig.js';
import { Kubelet } from './kubelet.js';
import { PodLogs } from './logs.js';
import { authorize, type RbacPolicy } from './rbac.js';
import { parsePath, rbacResource, verbOf } from './routes.js';
import { KubeApiError } from './status.js';
import { ObjectStore } from './store.js';
import { toTable, wantsTable } from './table.js';
import { type ServingCertificate, selfSignedCertificate } from './tls.js';
import {
  type Deployment,
  type Kind,
  type KindMap,
  type KubeObject,
  REVISION_ANNOTATION,
  resourceTypeOfKind,
} from './types.js';
import { validate } from './validate.js';
import { serveWatch } from './watch.js';

export const DEFAULT_NAMESPACE = 'messaging-system';
export const DEFAULT_TOKEN = 'switchyard-emulator-token';
export const DEFAULT_USER = 'system:serviceaccount:messaging-system:switchyard';

const TICK_MS = 50;
const MAX_SETTLE_PASSES = 100;

export interface KubeEmulatorOptions {
  /** How long a new Pod stays Pending before it is Running and Ready. Default 300. */
  podReadyAfterMs?: number;
  /** The controllers' and kubelet's clock (tests move it; default the wall clock). */
  now?: () => number;
  logger?: Logger;
  /** The bearer token the API server accepts (and the kubeconfig carries). */
  token?: string;
  /** The user named in Forbidden messages. */
  user?: string;
  /**
   * More bearer tokens, each authenticating as its own user (two bot processes, a kubectl admin),
   * besides `token`. Requests are recorded with their user; RBAC and partitions apply per user.
   */
  users?: Record<string, string>;
  /**
   * Serve HTTPS with a self-signed certificate made at start (the kubeconfig carries it as the CA), as
   * a real API server does; kubectl sends its bearer token only over TLS. Default true; false serves
   * plain HTTP (the kubeconfig then skips TLS verification).
   */
  tls?: boolean;
  /**
   * Enforce these Roles (see `rbacFromManifest`, `rbacPoliciesFromManifest`) on every request, as the
   * API server's RBAC authorizer does: a request is allowed when a Role bound to its user in the
   * request's namespace grants it; anything else is answered 403 Forbidden with a Status body.
   * Without it, every token may do anything (a cluster admin).
   */
  rbac?: RbacPolicy | RbacPolicy[];
}

/** One API request, as the emulator saw it: enough to check which calls (and RBAC verbs) a client made. */
export interface RequestRecord {
  method: string;
  path: string;
  /** The query string, without `?`. */
  query: string;
  /** The RBAC verb: get, list, watch, create, update, patch, delete; the method for non-resource URLs. */
  verb: string;
  /** The RBAC resource: `deployments`, `pods/log`; undefined for non-resource URLs. */
  resource?: string;
  /** The API group: `apps`, `coordination.k8s.io`, '' for the core group. */
  apiGroup?: string;
  namespace?: string;
  name?: string;
  /** The authenticated user (undefined when the token is missing or unknown). */
  user?: string;
  /** The HTTP status answered (0 while the request is still in flight). */
  status: number;
}

/**
 * A Kubernetes API server over HTTPS (a self-signed certificate) on loopback, for
 * `@kubernetes/client-node` and real kubectl through a kubeconfig: Deployments, ReplicaSets, Pods
 * (and logs), ConfigMaps and Leases, with resourceVersion conflicts, JSON / merge / strategic merge
 * patches, label selectors, watches, the API server's defaulting, Table output for `kubectl get`,
 * optional RBAC from a Role, and a Deployment controller that rolls out revisions like the real one.
 */
export class KubeEmulator {
  /** Delay added before every request is handled. */
  latencyMs = 0;
  /** Every request received, oldest first. Clear it with `requests.length = 0`. */
  readonly requests: RequestRecord[] = [];
  readonly token: string;
  readonly user: string;

  private readonly logger: Logger;
  private readonly store = new ObjectStore();
  private readonly logs = new PodLogs();
  private readonly api: ResourceApi;
  private readonly controllers: Controllers;
  private readonly faults = new Faults();
  private readonly watches = new Set<() => void>();
  private server?: Server;
  private baseUrl?: string;
  private readonly tls: boolean;
  private readonly rbac?: RbacPolicy[];
  /** Bearer token → user. */
  private readonly users: Map<string, string>;
  private certificate?: ServingCertificate;
  private tick?: NodeJS.Timeout;
  private passScheduled = false;
  private readonly now: () => number;

  constructor(options: KubeEmulatorOptions = {}) {
    this.logger = options.logger ?? createLogger('warn');
    this.token = options.token ?? DEFAULT_TOKEN;
    const policies = options.rbac === undefined ? undefined : [options.rbac].flat();
    this.user = options.user ?? policies?.[0]?.user ?? DEFAULT_USER;
    this.rbac = policies;
    this.users = new Map([[this.token, this.user], ...Object.entries(options.users ?? {})]);
    this.tls = options.tls ?? true;
    this.now = options.now ?? Date.now;
    const kubelet = new Kubelet(this.store, options.podReadyAfterMs ?? 300);
    this.controllers = new Controllers(this.store, kubelet, this.logger);
    this.api = new ResourceApi(this.store, this.logs);
    this.store.subscribe(() => this.schedulePass());
    this.tick = setInterval(() => this.runPass(), TICK_MS);
    this.tick.unref();
  }

  /** Listens on loopback (a free port by default); resolves to the base URL. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server) throw new Error('kube emulator already started');
    const listener = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => {
        this.logger.error({ err: error }, 'kube emulator: request failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
    };
    if (this.tls) this.certificate ??= selfSignedCertificate(host);
    const server: Server = this.certificate
      ? createHttpsServer({ key: this.certificate.keyPem, cert: this.certificate.certPem }, listener)
      : createHttpServer(listener);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const { port: bound } = server.address() as AddressInfo;
    const scheme = this.certificate ? 'https' : 'http';
    this.baseUrl = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${bound}`;
    this.tick ??= setInterval(() => this.runPass(), TICK_MS).unref();
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    clearInterval(this.tick);
    this.tick = undefined;
    for (const end of [...this.watches]) end();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('kube emulator not started');
    return this.baseUrl;
  }

  /** PEM of the CA a client must trust (the self-signed serving certificate); undefined over HTTP. */
  get caPem(): string | undefined {
    return this.certificate?.certPem;
  }

  /** A kubeconfig for this emulator, authenticating with `token` (default the main one). */
  kubeConfigYaml(namespace = DEFAULT_NAMESPACE, token = this.token): string {
    if (!this.users.has(token)) throw new Error('kube emulator: unknown token (add it to `users`)');
    return kubeconfigYaml({
      server: this.url,
      token,
      namespace,
      ...(this.certificate ? { caPem: this.certificate.certPem } : {}),
    });
  }

  /** A kubeconfig that authenticates as the user of `token` (one of `users`). */
  kubeconfigFor(token: string, namespace = DEFAULT_NAMESPACE): string {
    return this.kubeConfigYaml(namespace, token);
  }

  /** Writes a kubeconfig for this emulator (for `KubeConfig.loadFromFile`); returns the path. */
  writeKubeconfig(path: string, namespace = DEFAULT_NAMESPACE, token = this.token): string {
    writeKubeconfigFile(path, this.kubeConfigYaml(namespace, token));
    return path;
  }

  /** The user a bearer token authenticates as; undefined for an unknown token. */
  userOf(token: string): string | undefined {
    return this.users.get(token);
  }

  // ---- Test knobs --------------------------------------------------------------------------------

  /**
   * Answers 403 Forbidden, as RBAC would, to `verb` (`get`, `list`, `watch`, `create`, `update`,
   * `patch`, `delete`, or `*`) on `resource` (`deployments`, `pods/log`, …, or `*`). Returns an undo.
   */
  deny(verb: string, resource: string): () => void {
    return this.faults.deny(verb, resource);
  }

  /** The next `times` requests matching `verb` and `resource` (or `*`) fail with `status`. */
  failNext(verb: string, resource: string, status = 500, times = 1): void {
    this.faults.failNext(verb, resource, status, times);
  }

  /**
   * A network partition between `user` and the API server: its requests are never answered (the
   * connection hangs, nothing is processed) until `heal(user)`, which drops them. Returns the heal.
   */
  partition(user: string): () => void {
    this.faults.partition(user);
    return () => this.heal(user);
  }

  /** Ends the partition of `user`: its hanging requests are dropped (connection reset), new ones served. */
  heal(user: string): void {
    this.faults.heal(user);
  }

  /** Drops all denials, injected failures and partitions, and sets the latency back to 0. */
  resetFaults(): void {
    this.faults.reset();
    this.latencyMs = 0;
  }

  get<K extends Kind>(kind: K, namespace: string, name: string): KindMap[K] | undefined {
    return this.store.get(kind, namespace, name) as KindMap[K] | undefined;
  }

  list<K extends Kind>(kind: K, namespace?: string): KindMap[K][] {
    return this.store.list(kind, namespace) as KindMap[K][];
  }

  /**
   * Creates or overwrites an object behind the clients' backs (a hand edit, a setup step): no
   * resourceVersion check, `status` kept when given. Needs `kind`; the namespace defaults to
   * `messaging-system`. The object is validated as an API write would be.
   */
  apply<T extends KubeObject>(object: T): T {
    const type = resourceTypeOfKind(object.kind ?? '');
    const copy = structuredClone(object) as KubeObject;
    copy.metadata.namespace ??= DEFAULT_NAMESPACE;
    delete copy.metadata.resourceVersion;
    applyDefaults(type.kind, copy);
    const stored = copy.metadata.name
      ? this.store.get(type.kind, copy.metadata.namespace, copy.metadata.name)
      : undefined;
    validate(type, copy, stored);
    return (stored ? this.store.update(copy, 'replace') : this.store.create(copy)) as T;
  }

  /** Deletes an object; returns whether it existed. Owned ReplicaSets and Pods are collected after. */
  delete(kind: Kind, namespace: string, name: string): boolean {
    if (!this.store.get(kind, namespace, name)) return false;
    this.store.delete(kind, namespace, name);
    return true;
  }

  /** The log lines of a pod (all its containers, or one), instead of the generated ones. */
  setLogs(podName: string, lines: string[], container?: string): void {
    this.logs.set(podName, lines, container);
  }

  /**
   * Runs the controllers now, until nothing changes. With `podsReadyNow`, pending pods skip their
   * readiness delay (crashloop pods still never become ready).
   */
  reconcile(options: { podsReadyNow?: boolean } = {}): void {
    const now = this.now();
    for (let pass = 0; pass < MAX_SETTLE_PASSES; pass++) {
      if (!this.controllers.syncAll(now, options.podsReadyNow ?? false)) return;
    }
    this.logger.warn('kube emulator: controllers did not settle');
  }

  /**
   * Resolves with the Deployment once its rollout is complete (`kubectl rollout status`); rejects on
   * ProgressDeadlineExceeded or after `timeoutMs`.
   */
  async waitForRollout(name: string, namespace = DEFAULT_NAMESPACE, timeoutMs = 10_000): Promise<Deployment> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const d = this.get('Deployment', namespace, name);
      if (d) {
        const s = d.status ?? {};
        const desired = d.spec.replicas ?? 1;
        const progressing = s.conditions?.find((c) => c.type === 'Progressing');
        const observed = (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 1);
        if (observed && progressing?.reason === 'ProgressDeadlineExceeded') {
          throw new Error(`deployment "${name}" exceeded its progress deadline`);
        }
        const updated = s.updatedReplicas ?? 0;
        if (
          observed &&
          updated === desired &&
          (s.replicas ?? 0) === updated &&
          (s.availableReplicas ?? 0) === updated
        ) {
          return d;
        }
      }
      if (Date.now() > deadline) {
        const revision = d?.metadata.annotations?.[REVISION_ANNOTATION];
        throw new Error(`deployment "${name}" (revision ${revision}) not rolled out after ${timeoutMs} ms`);
      }
      await delay(20);
    }
  }

  // ---- Controllers -------------------------------------------------------------------------------

  private schedulePass(): void {
    if (this.passScheduled) return;
    this.passScheduled = true;
    setImmediate(() => {
      this.passScheduled = false;
      this.runPass();
    });
  }

  private runPass(): void {
    try {
      this.controllers.syncAll(this.now());
    } catch (error) {
      this.logger.error({ err: error }, 'kube emulator: controller pass failed');
    }
  }

  // ---- HTTP --------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://emulator');
    const target = parsePath(url.pathname);
    const verb = verbOf(method, target, url.searchParams);
    const record: RequestRecord = {
      method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      verb,
      resource: rbacResource(target),
      ...(target.type === 'resource'
        ? {
            apiGroup: target.resource.group,
            ...(target.namespace !== undefined ? { namespace: target.namespace } : {}),
            ...(target.name !== undefined ? { name: target.name } : {}),
          }
        : {}),
      status: 0,
    };
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const user = bearer === undefined ? undefined : this.users.get(bearer);
    if (user !== undefined) record.user = user;
    this.requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    if (user !== undefined && this.faults.isPartitioned(user)) {
      // Never answered, never processed: the request is lost in the partition.
      const closed = new Promise<void>((resolve) => req.socket.once('close', () => resolve()));
      await Promise.race([this.faults.partitionHealed(user), closed]);
      req.socket.destroy();
      return;
    }
    try {
      const body = await readBody(req);
      if (this.latencyMs > 0) await delay(this.latencyMs);
      if (target.type === 'health') return sendText(res, 200, 'ok');
      const anonymous = target.type === 'discovery' && target.path === '/version';
      if (!anonymous && user === undefined) {
        throw new KubeApiError(401, 'Unauthorized', 'Unauthorized');
      }
      if (target.type === 'unknown') throw pathNotFound();
      if (target.type === 'discovery')
        return sendJson(res, 200, discovery(target.path, req.headers.host ?? ''));
      const subject = user ?? this.user;
      if (this.rbac) authorize(this.rbac, subject, verb, target, record.resource!);
      this.faults.check(verb, target, record.resource!, subject);
      const query = url.searchParams;
      if (verb === 'watch') {
        const matches = this.api.matcher({ namespace: target.namespace, query }); // a bad selector: 400
        const kind = target.resource.kind;
        const end = serveWatch(res, this.store, { kind, namespace: target.namespace, matches, query });
        record.status = res.statusCode; // the stream stays open: record the status now
        this.watches.add(end);
        res.on('close', () => this.watches.delete(end));
        return;
      }
      const reply = this.api.handle({
        method,
        resource: target.resource,
        ...(target.namespace !== undefined ? { namespace: target.namespace } : {}),
        ...(target.name !== undefined ? { name: target.name } : {}),
        ...(target.subresource !== undefined ? { subresource: target.subresource } : {}),
        query,
        body,
        contentType: req.headers['content-type'] ?? 'application/json',
      });
      if ('text' in reply) sendText(res, reply.status, reply.text);
      else if (method === 'GET' && !target.subresource && wantsTable(req.headers.accept)) {
        const table = toTable(target.resource.kind, reply.json as KubeObject, query.get('includeObject'));
        sendJson(res, reply.status, table);
      } else sendJson(res, reply.status, reply.json);
    } catch (error) {
      const failure =
        error instanceof KubeApiError
          ? error
          : new KubeApiError(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`);
      if (!(error instanceof KubeApiError))
        this.logger.error({ err: error }, 'kube emulator: handler failed');
      if (failure.code === 429) res.setHeader('Retry-After', String(failure.details?.retryAfterSeconds ?? 1));
      sendJson(res, failure.code, failure.toStatus());
    } finally {
      this.logger.debug(
        { method, path: url.pathname, verb, status: res.statusCode },
        'kube emulator request',
      );
    }
  }
}
