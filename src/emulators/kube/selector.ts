import { isRecord } from './json.js';
import { badRequest } from './status.js';
import type { KubeObject, LabelSelector, Labels } from './types.js';

export type Operator = '=' | '!=' | 'in' | 'notin' | 'exists' | '!';

export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

const KEY = '[A-Za-z0-9][-A-Za-z0-9_./]*';
const SET_TERM = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s*\(([^)]*)\)$`);
const EQUALITY_TERM = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*([-A-Za-z0-9_.]*)$`);
const EXISTS_TERM = new RegExp(String.raw`^(!?)\s*(${KEY})$`);

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h` (the `labelSelector` query parameter). */
export function parseLabelSelector(text: string | null | undefined): Requirement[] {
  if (!text?.trim()) return [];
  return splitTerms(text).map((term) => {
    const set = SET_TERM.exec(term);
    if (set) {
      const values = set[3]!.split(',').map((v) => v.trim());
      return { key: set[1]!, operator: set[2] as 'in' | 'notin', values };
    }
    const equality = EQUALITY_TERM.exec(term);
    if (equality) {
      return { key: equality[1]!, operator: equality[2] === '!=' ? '!=' : '=', values: [equality[3]!] };
    }
    const exists = EXISTS_TERM.exec(term);
    if (exists) return { key: exists[2]!, operator: exists[1] ? '!' : 'exists', values: [] };
    throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=`);
  });
}

/** Splits on the commas that are not inside `( … )`. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  terms.push(current.trim());
  return terms.filter((t) => t !== '');
}

/** The requirements of a `metav1.LabelSelector` (`matchLabels` and `matchExpressions`). */
export function requirementsOf(selector: LabelSelector | undefined): Requirement[] {
  const requirements: Requirement[] = Object.entries(selector?.matchLabels ?? {}).map(([key, value]) => ({
    key,
    operator: '=',
    values: [value],
  }));
  for (const expression of selector?.matchExpressions ?? []) {
    const operator = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' } as const)[
      expression.operator
    ];
    requirements.push({ key: expression.key, operator, values: expression.values ?? [] });
  }
  return requirements;
}

export function matchesLabels(labels: Labels | undefined, requirements: Requirement[]): boolean {
  const own = labels ?? {};
  return requirements.every(({ key, operator, values }) => {
    const has = Object.hasOwn(own, key);
    const value = own[key];
    switch (operator) {
      case '=':
        return has && value === values[0];
      case '!=':
        return !has || value !== values[0];
      case 'in':
        return has && values.includes(value!);
      case 'notin':
        return !has || !values.includes(value!);
      case 'exists':
        return has;
      case '!':
        return !has;
    }
    return false;
  });
}

export interface FieldRequirement {
  path: string[];
  equal: boolean;
  value: string;
}

/** Parses `metadata.name=x,status.phase!=Running` (the `fieldSelector` query parameter). */
export function parseFieldSelector(text: string | null | undefined): FieldRequirement[] {
  if (!text?.trim()) return [];
  return text.split(',').map((term) => {
    const match = /^\s*([A-Za-z0-9.]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (!match) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    return { path: match[1]!.split('.'), equal: match[2] !== '!=', value: match[3]! };
  });
}

export function matchesFields(object: KubeObject, requirements: FieldRequirement[]): boolean {
  return requirements.every(({ path, equal, value }) => {
    let current: unknown = object;
    for (const part of path) current = isRecord(current) ? current[part] : undefined;
    const actual = current === undefined || current === null ? '' : String(current);
    return (actual === value) === equal;
  });
}

/** `metav1.FormatLabelSelector`: `a=b,c in (x,y),!d`, sorted by key; `<none>` when empty. */
export function labelSelectorText(selector: LabelSelector | undefined): string {
  const requirements = requirementsOf(selector).sort((a, b) => a.key.localeCompare(b.key));
  if (requirements.length === 0) return '<none>';
  return requirements
    .map(({ key, operator, values }) => {
      switch (operator) {
        case '=':
        case '!=':
          return `${key}${operator}${values[0] ?? ''}`;
        case 'in':
        case 'notin':
          return `${key} ${operator} (${[...values].sort().join(',')})`;
        case 'exists':
          return key;
        default:
          return `!${key}`;
      }
    })
    .join(',');
}
