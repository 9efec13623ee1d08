import type { ServerResponse } from 'node:http';
import { badRequest, KubeApiError } from './status.js';
import type { ObjectStore } from './store.js';
import type { Kind, KubeObject } from './types.js';

export interface WatchRequest {
  kind: Kind;
  namespace?: string;
  /** Namespace and selectors of the request (kind is checked here). */
  matches: (object: KubeObject) => boolean;
  query: URLSearchParams;
}

/**
 * `?watch=true`: newline-delimited `{type, object}` events. Without a resourceVersion (or with "0")
 * the stream starts with ADDED for every current object; with one, it replays the events after it, or
 * sends an ERROR event with 410 Expired when the history no longer reaches back that far. Ends after
 * `timeoutSeconds`, when the client goes, or when the returned function is called.
 */
export function serveWatch(res: ServerResponse, store: ObjectStore, request: WatchRequest): () => void {
  const { kind, namespace, query } = request;
  const matching = (object: KubeObject) => object.kind === kind && request.matches(object);
  const from = query.get('resourceVersion');
  const since = from && from !== '0' ? Number(from) : undefined;
  if (since !== undefined && !Number.isInteger(since)) throw badRequest(`invalid resourceVersion: ${from}`);

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
  res.flushHeaders(); // the client waits for the headers before it reads events
  const write = (type: string, object: unknown) => {
    if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
  };
  let unsubscribe = () => {};
  let timer: NodeJS.Timeout | undefined;
  const end = () => {
    unsubscribe();
    clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };

  if (since === undefined) {
    for (const object of store.list(kind, namespace)) if (matching(object)) write('ADDED', object);
  } else {
    const events = store.eventsSince(since);
    if (!events) {
      const message = `too old resource version: ${since} (${store.resourceVersion})`;
      write('ERROR', new KubeApiError(410, 'Expired', message).toStatus());
      end();
      return end;
    }
    for (const event of events) if (matching(event.object)) write(event.type, event.object);
  }
  unsubscribe = store.subscribe((event) => {
    if (matching(event.object)) write(event.type, event.object);
  });
  const seconds = Number(query.get('timeoutSeconds'));
  if (seconds > 0) timer = setTimeout(end, seconds * 1000);
  res.on('close', end);
  return end;
}
