import { CoreV1Api, type KubeConfig, Watch } from '@kubernetes/client-node';
import type { Logger } from '../../../logger.js';
import { type StateObject, toStateObject } from './state-objects.js';

export interface WatchEvents {
  /** Every object of a fresh list (after a start or a failed watch), then each one added or changed. */
  seen(objects: StateObject[]): void;
  gone(object: StateObject): void;
}

/**
 * Lists the ConfigMaps a label selector picks, then watches them from the list's resourceVersion.
 * When the watch ends or fails (a 410 Expired included) it lists again, after `retryMs` on a failure:
 * nothing changed meanwhile is missed.
 */
export class ConfigMapWatch {
  private running = false;
  private loop: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private readonly core: CoreV1Api;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly namespace: string,
    private readonly labelSelector: string,
    private readonly events: WatchEvents,
    private readonly log: Logger,
    private readonly retryMs = 1_000,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const list = await this.core.listNamespacedConfigMap({
          namespace: this.namespace,
          labelSelector: this.labelSelector,
        });
        if (!this.running) break;
        this.events.seen(list.items.map(toStateObject));
        await this.watchFrom(list.metadata?.resourceVersion);
      } catch (error) {
        if (!this.running) break;
        this.log.warn({ err: error, selector: this.labelSelector }, 'kube watch failed; listing again');
        await this.pause();
      }
    }
  }

  /** Resolves when the watch ends (the server closed it), rejects when it fails. */
  private watchFrom(resourceVersion: string | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const path = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/configmaps`;
      new Watch(this.kubeConfig)
        .watch(
          path,
          { labelSelector: this.labelSelector, resourceVersion, timeoutSeconds: 300 },
          (type, object) => {
            if (type === 'ADDED' || type === 'MODIFIED') this.events.seen([toStateObject(object)]);
            else if (type === 'DELETED') this.events.gone(toStateObject(object));
            // ERROR (410 Expired, say): the server ends the watch next, and the loop lists again.
          },
          (error) => (error ? reject(error) : resolve()),
        )
        .then((controller) => {
          this.abort = controller;
          if (!this.running) controller.abort();
        }, reject);
    });
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.retryMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
