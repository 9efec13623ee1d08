import { clone, deepEqual, isRecord, type JsonRecord } from './json.js';
import { badRequest, KubeApiError } from './status.js';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

/**
 * Applies a PATCH body to a document by its content type, as the API server does. Errors in applying
 * the patch (a missing path, a failed `test`) are 422; a body that is not the right JSON is 400.
 */
export function applyPatch(contentType: string, document: unknown, body: string): unknown {
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  if (![JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH].includes(mediaType)) {
    throw new KubeApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${JSON_PATCH}, ${MERGE_PATCH}, ${STRATEGIC_MERGE_PATCH}`,
    );
  }
  let patch: unknown;
  try {
    patch = JSON.parse(body);
  } catch (error) {
    throw badRequest(`error decoding patch: ${(error as Error).message}`);
  }
  try {
    if (mediaType === JSON_PATCH) return applyJsonPatch(document, patch);
    if (!isRecord(patch)) throw badRequest('patch body must be a JSON object');
    return mediaType === MERGE_PATCH
      ? applyMergePatch(document, patch)
      : applyStrategicMergePatch(document, patch);
  } catch (error) {
    // As the API server's NewGenericServerResponse(422): a fixed message, the cause in the details.
    if (error instanceof PatchError) {
      throw new KubeApiError(
        422,
        'Invalid',
        'the server rejected our request due to an error in our request',
        {
          causes: [{ reason: 'UnexpectedServerResponse', message: error.message }],
        },
      );
    }
    throw error;
  }
}

export class PatchError extends Error {
  override name = 'PatchError';
}

// ---- RFC 6902 JSON Patch -------------------------------------------------------------------------

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

export function applyJsonPatch(document: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest('json patch must be an array of operations');
  let doc = clone(document);
  for (const raw of operations) {
    if (!isRecord(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw badRequest(`invalid json patch operation: ${JSON.stringify(raw)}`);
    }
    const op = raw as unknown as Operation;
    const needsValue = ['add', 'replace', 'test'].includes(op.op);
    if (needsValue && !('value' in raw)) throw new PatchError(`${op.op} operation does not contain a value`);
    switch (op.op) {
      case 'add':
        doc = addAt(doc, parsePointer(op.path), clone(op.value));
        break;
      case 'remove':
        doc = removeAt(doc, parsePointer(op.path));
        break;
      case 'replace': {
        const tokens = parsePointer(op.path);
        valueAt(doc, tokens, op.path);
        doc = addAt(removeAt(doc, tokens), tokens, clone(op.value));
        break;
      }
      case 'move': {
        const from = parsePointer(requireFrom(op));
        const value = valueAt(doc, from, op.from!);
        doc = addAt(removeAt(doc, from), parsePointer(op.path), value);
        break;
      }
      case 'copy': {
        const from = parsePointer(requireFrom(op));
        doc = addAt(doc, parsePointer(op.path), clone(valueAt(doc, from, op.from!)));
        break;
      }
      case 'test':
        if (!deepEqual(valueAt(doc, parsePointer(op.path), op.path), op.value)) {
          throw new PatchError(`testing value ${op.path} failed: test failed`);
        }
        break;
      default:
        throw new PatchError(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

function requireFrom(op: Operation): string {
  if (typeof op.from !== 'string') throw new PatchError(`${op.op} operation does not contain a from`);
  return op.from;
}

/** RFC 6901: `/a/b~1c/d~0e` → `['a', 'b/c', 'd~e']`. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer: ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => {
      const decoded = token.replaceAll('~1', '/').replaceAll('~0', '~');
      if (decoded === '__proto__') throw new PatchError('invalid JSON pointer token __proto__');
      return decoded;
    });
}

function arrayIndex(array: unknown[], token: string, forAdd: boolean): number {
  if (forAdd && token === '-') return array.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new PatchError(`invalid array index: ${token}`);
  const index = Number(token);
  if (index > array.length || (!forAdd && index === array.length)) {
    throw new PatchError(`array index out of bounds: ${token}`);
  }
  return index;
}

function valueAt(doc: unknown, tokens: string[], pointer: string): unknown {
  let current = doc;
  for (const token of tokens) {
    if (Array.isArray(current)) {
      current = current[arrayIndex(current, token, false)];
    } else if (isRecord(current) && Object.hasOwn(current, token)) {
      current = current[token];
    } else {
      throw new PatchError(`doc is missing path: "${pointer}"`);
    }
  }
  return current;
}

function parentOf(doc: unknown, tokens: string[]): { parent: unknown; last: string } {
  const pointer = `/${tokens.join('/')}`;
  return { parent: valueAt(doc, tokens.slice(0, -1), pointer), last: tokens[tokens.length - 1]! };
}

function addAt(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, value);
  else if (isRecord(parent)) parent[last] = value;
  else throw new PatchError(`doc is missing path: "/${tokens.join('/')}"`);
  return doc;
}

function removeAt(doc: unknown, tokens: string[]): unknown {
  if (tokens.length === 0) return undefined;
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false), 1);
  else if (isRecord(parent) && Object.hasOwn(parent, last)) delete parent[last];
  else throw new PatchError(`Unable to remove nonexistent key: ${last}: missing value`);
  return doc;
}

// ---- RFC 7386 JSON Merge Patch -------------------------------------------------------------------

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return clone(patch);
  const result: JsonRecord = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '__proto__') continue;
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

// ---- Strategic merge patch (the subset the objects served here need) -----------------------------

/** Lists merged item by item on a key instead of being replaced (`patchMergeKey` in the Go types). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  ownerReferences: 'uid',
  conditions: 'type',
};

/**
 * A merge patch, except that the lists named in MERGE_KEYS are merged by their key, items marked
 * `$patch: delete` are removed, `$patch: replace` replaces a map or a list, and other `$` directives
 * (`$setElementOrder/…`, `$retainKeys`) are ignored.
 */
export function applyStrategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return stripDirectives(patch);
  if (patch.$patch === 'replace') return stripDirectives(patch);
  const result: JsonRecord = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$') || key === '__proto__') continue;
    const mergeKey = MERGE_KEYS[key];
    if (value === null) delete result[key];
    else if (isRecord(value) && value.$patch === 'delete') delete result[key];
    else if (mergeKey && Array.isArray(value)) result[key] = mergeList(result[key], value, mergeKey);
    else result[key] = applyStrategicMergePatch(result[key], value);
  }
  return result;
}

function mergeList(target: unknown, items: unknown[], mergeKey: string): unknown[] {
  if (items.some((item) => isRecord(item) && item.$patch === 'replace')) {
    return items.filter((item) => !(isRecord(item) && item.$patch === 'replace')).map(stripDirectives);
  }
  const result = Array.isArray(target) ? [...target] : [];
  for (const item of items) {
    if (!isRecord(item) || !(mergeKey in item)) {
      result.push(stripDirectives(item));
      continue;
    }
    const index = result.findIndex((existing) => isRecord(existing) && existing[mergeKey] === item[mergeKey]);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = applyStrategicMergePatch(result[index], item);
    } else {
      result.push(applyStrategicMergePatch(undefined, item));
    }
  }
  return result;
}

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isRecord(value)) return value;
  const result: JsonRecord = {};
  for (const [key, item] of Object.entries(value)) {
    if (!key.startsWith('$') && item !== null) result[key] = stripDirectives(item);
  }
  return result;
}
