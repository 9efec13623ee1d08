/**
 * The webhook template language: a JSON value (written in the YAML config) whose strings may hold
 * `{{name}}` placeholders. Rendering walks the value and replaces placeholders inside strings only;
 * the result is then serialised with `JSON.stringify`, so a value is always JSON-escaped and can never
 * add a key, end a string or change anything but the text it stands in. Keys are never templated, and
 * nothing here ever touches the target URL (it comes from the config file alone). Pure.
 */

/** Placeholders every event fills (the empty string when the event has no such thing). */
export const TEMPLATE_FIELDS = [
  'event',
  'text',
  'at',
  'by',
  'severity',
  'status',
  'alertname',
  'summary',
  'description',
  'groupId',
  'groupKey',
  'firing',
] as const;

export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

/** What a template is filled from: the fields above, and the group's common labels and annotations. */
export interface TemplateValues {
  fields: Readonly<Record<TemplateField, string>>;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
}

/** A template as the config holds it: any JSON value. */
export type Template = string | number | boolean | null | Template[] | { [key: string]: Template };

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const NAME = /^(?:(labels|annotations)\.([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z]+))$/;

/** Placeholder names the template uses that are not known; empty when it is valid. */
export function unknownPlaceholders(template: Template): string[] {
  const unknown = new Set<string>();
  walkStrings(template, (text) => {
    for (const match of text.matchAll(PLACEHOLDER)) {
      const name = match[1] ?? '';
      const parsed = NAME.exec(name);
      if (!parsed || (parsed[3] !== undefined && !TEMPLATE_FIELDS.includes(parsed[3] as TemplateField))) {
        unknown.add(name);
      }
    }
    return text;
  });
  return [...unknown];
}

/** The template with every placeholder replaced by its value (a missing label is the empty string). */
export function renderTemplate(template: Template, values: TemplateValues): Template {
  return walkStrings(template, (text) =>
    text.replace(PLACEHOLDER, (whole, name: string) => {
      const parsed = NAME.exec(name);
      if (!parsed) return whole;
      if (parsed[1] === 'labels') return own(values.labels, parsed[2]!);
      if (parsed[1] === 'annotations') return own(values.annotations, parsed[2]!);
      const field = parsed[3] as TemplateField;
      return TEMPLATE_FIELDS.includes(field) ? values.fields[field] : whole;
    }),
  );
}

function own(record: Readonly<Record<string, string>>, key: string): string {
  return Object.hasOwn(record, key) ? (record[key] ?? '') : '';
}

function walkStrings(value: Template, change: (text: string) => string): Template {
  if (typeof value === 'string') return change(value);
  if (Array.isArray(value)) return value.map((item) => walkStrings(item, change));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties: a key like `__proto__` stays a plain key.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walkStrings(item, change)]));
  }
  return value;
}
