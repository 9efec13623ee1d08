/**
 * Block Kit limits that Slack enforces (answering `invalid_blocks`, or truncating). Checked locally so a
 * message that would fail in a real workspace fails in tests and in local mode first.
 */

export type BlockKitSurface = 'message' | 'modal' | 'home';

export interface BlockKitMessage {
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
}

const MAX_BLOCKS: Record<BlockKitSurface, number> = { message: 50, modal: 100, home: 100 };
const MAX_PRIVATE_METADATA = 3000;
const MAX_MESSAGE_TEXT = 40_000;
const MAX_SECTION_TEXT = 3000;
const MAX_HEADER_TEXT = 150;
const MAX_FIELDS = 10;
const MAX_FIELD_TEXT = 2000;
const MAX_CONTEXT_ELEMENTS = 10;
const MAX_CONTEXT_TEXT = 3000;
const MAX_ACTIONS_ELEMENTS = 25;
const MAX_BUTTON_TEXT = 75;
const MAX_BUTTON_VALUE = 2000;
const MAX_BUTTON_URL = 3000;
const MAX_ID = 255;
const MAX_CHECKBOX_OPTIONS = 10;
const MAX_OPTION_TEXT = 75;
const MAX_OPTION_VALUE = 150;
const MAX_OPTION_DESCRIPTION = 75;

/** The block types Slack knows; any other type is refused (`invalid_blocks`). */
const BLOCK_TYPES = new Set([
  'actions',
  'context',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
]);

/** The interactive and image elements Slack knows (in actions, section accessories and inputs). */
const ELEMENT_TYPES = new Set([
  'button',
  'channels_select',
  'checkboxes',
  'conversations_select',
  'datepicker',
  'datetimepicker',
  'email_text_input',
  'external_select',
  'file_input',
  'image',
  'multi_channels_select',
  'multi_conversations_select',
  'multi_external_select',
  'multi_static_select',
  'multi_users_select',
  'number_input',
  'overflow',
  'plain_text_input',
  'radio_buttons',
  'rich_text_input',
  'static_select',
  'timepicker',
  'url_text_input',
  'users_select',
  'workflow_button',
]);

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Slack counts characters, not UTF-16 units; counting code points never flags a message Slack accepts. */
const chars = (s: string): number => [...s].length;

/** Every Block Kit limit the message breaks, as readable strings; empty when Slack would accept it. */
export function blockKitViolations(message: BlockKitMessage, surface: BlockKitSurface = 'message'): string[] {
  const out: string[] = [];
  const blockIds = new Set<string>(); // block_id must be unique within the whole message

  if (surface === 'message' && typeof message.text === 'string' && chars(message.text) > MAX_MESSAGE_TEXT) {
    out.push(`text: ${chars(message.text)} chars (max ${MAX_MESSAGE_TEXT})`);
  }
  if (message.blocks !== undefined) checkBlocks(message.blocks, 'blocks', MAX_BLOCKS[surface], blockIds, out);
  if (message.attachments !== undefined) {
    if (!Array.isArray(message.attachments)) {
      out.push('attachments: must be an array');
    } else {
      message.attachments.forEach((attachment, i) => {
        if (isObj(attachment) && attachment.blocks !== undefined) {
          checkBlocks(attachment.blocks, `attachments[${i}].blocks`, MAX_BLOCKS[surface], blockIds, out);
        }
      });
    }
  }
  return out;
}

function checkBlocks(blocks: unknown, path: string, max: number, blockIds: Set<string>, out: string[]): void {
  if (!Array.isArray(blocks)) {
    out.push(`${path}: must be an array`);
    return;
  }
  if (blocks.length > max) out.push(`${path}: ${blocks.length} blocks (max ${max})`);
  blocks.forEach((block, i) => {
    checkBlock(block, `${path}[${i}]`, blockIds, out);
  });
}

function checkBlock(block: unknown, path: string, blockIds: Set<string>, out: string[]): void {
  if (!isObj(block) || typeof block.type !== 'string') {
    out.push(`${path}: must be an object with a type`);
    return;
  }
  const where = `${path} (${block.type})`;
  if (block.block_id !== undefined) {
    checkId(block.block_id, `${where}.block_id`, out);
    if (typeof block.block_id === 'string') {
      if (blockIds.has(block.block_id)) out.push(`${where}.block_id: duplicate "${block.block_id}"`);
      blockIds.add(block.block_id);
    }
  }

  switch (block.type) {
    case 'section':
      if (block.text === undefined && block.fields === undefined) out.push(`${where}: needs text or fields`);
      if (block.text !== undefined) checkText(block.text, `${where}.text`, MAX_SECTION_TEXT, false, out);
      if (block.fields !== undefined) {
        if (!Array.isArray(block.fields)) {
          out.push(`${where}.fields: must be an array`);
        } else {
          if (block.fields.length > MAX_FIELDS) {
            out.push(`${where}.fields: ${block.fields.length} fields (max ${MAX_FIELDS})`);
          }
          block.fields.forEach((field, i) => {
            checkText(field, `${where}.fields[${i}]`, MAX_FIELD_TEXT, false, out);
          });
        }
      }
      if (block.accessory !== undefined) checkElement(block.accessory, `${where}.accessory`, out);
      return;
    case 'header':
      checkText(block.text, `${where}.text`, MAX_HEADER_TEXT, true, out);
      return;
    case 'context':
      checkList(block.elements, `${where}.elements`, MAX_CONTEXT_ELEMENTS, out).forEach((el, i) => {
        if (!(isObj(el) && el.type === 'image'))
          checkText(el, `${where}.elements[${i}]`, MAX_CONTEXT_TEXT, false, out);
      });
      return;
    case 'actions': {
      const actionIds = new Set<string>(); // action_id must be unique within one actions block
      checkList(block.elements, `${where}.elements`, MAX_ACTIONS_ELEMENTS, out).forEach((el, i) => {
        checkElement(el, `${where}.elements[${i}]`, out);
        if (isObj(el) && typeof el.action_id === 'string') {
          if (actionIds.has(el.action_id))
            out.push(`${where}.elements[${i}].action_id: duplicate "${el.action_id}"`);
          actionIds.add(el.action_id);
        }
      });
      return;
    }
    case 'input':
      if (block.element !== undefined) checkElement(block.element, `${where}.element`, out);
      return;
    default:
      // divider, image, rich_text, …: nothing limited here; a type Slack does not know is refused
      if (!BLOCK_TYPES.has(block.type)) out.push(`${where}: unknown block type`);
      return;
  }
}

/** Checks a non-empty array of at most `max` items; returns the items (or none) for per-item checks. */
function checkList(list: unknown, path: string, max: number, out: string[]): unknown[] {
  if (!Array.isArray(list) || list.length === 0) {
    out.push(`${path}: must be a non-empty array`);
    return [];
  }
  if (list.length > max) out.push(`${path}: ${list.length} elements (max ${max})`);
  return list;
}

function checkElement(el: unknown, path: string, out: string[]): void {
  if (!isObj(el) || typeof el.type !== 'string') {
    out.push(`${path}: must be an object with a type`);
    return;
  }
  if (!ELEMENT_TYPES.has(el.type)) {
    out.push(`${path} (${el.type}): unknown element type`);
    return;
  }
  if (el.action_id !== undefined) checkId(el.action_id, `${path}.action_id`, out);
  if (el.type === 'checkboxes' || el.type === 'radio_buttons') checkChoices(el, path, out);
  if (el.type === 'button') {
    if (el.url !== undefined) {
      if (typeof el.url !== 'string') out.push(`${path}.url: must be a string`);
      else if (chars(el.url) > MAX_BUTTON_URL)
        out.push(`${path}.url: ${chars(el.url)} chars (max ${MAX_BUTTON_URL})`);
    }
    checkText(el.text, `${path}.text`, MAX_BUTTON_TEXT, true, out);
    if (el.value !== undefined) {
      if (typeof el.value !== 'string') out.push(`${path}.value: must be a string`);
      else if (chars(el.value) > MAX_BUTTON_VALUE) {
        out.push(`${path}.value: ${chars(el.value)} chars (max ${MAX_BUTTON_VALUE})`);
      }
    }
  }
}

/**
 * Checkboxes and radio buttons: 1–10 options, each a text (plain_text or mrkdwn, at most 75 chars) and
 * a value (at most 150), an optional description (at most 75); the initial options (checkboxes) or
 * option (radio buttons) must be exactly options of the element.
 */
function checkChoices(el: Obj, path: string, out: string[]): void {
  const options = el.options;
  if (!Array.isArray(options) || options.length === 0) {
    out.push(`${path}.options: must be a non-empty array`);
    return;
  }
  if (options.length > MAX_CHECKBOX_OPTIONS) {
    out.push(`${path}.options: ${options.length} options (max ${MAX_CHECKBOX_OPTIONS})`);
  }
  options.forEach((option, i) => {
    const where = `${path}.options[${i}]`;
    if (!isObj(option)) {
      out.push(`${where}: must be an option object`);
      return;
    }
    checkText(option.text, `${where}.text`, MAX_OPTION_TEXT, false, out);
    if (typeof option.value !== 'string' || option.value.length === 0) {
      out.push(`${where}.value: must be a non-empty string`);
    } else if (chars(option.value) > MAX_OPTION_VALUE) {
      out.push(`${where}.value: ${chars(option.value)} chars (max ${MAX_OPTION_VALUE})`);
    }
    if (option.description !== undefined) {
      checkText(option.description, `${where}.description`, MAX_OPTION_DESCRIPTION, false, out);
    }
  });
  const same = (a: unknown) => options.some((option) => JSON.stringify(option) === JSON.stringify(a));
  if (el.type === 'checkboxes' && el.initial_options !== undefined) {
    if (!Array.isArray(el.initial_options)) {
      out.push(`${path}.initial_options: must be an array`);
    } else {
      el.initial_options.forEach((initial, i) => {
        if (!same(initial)) out.push(`${path}.initial_options[${i}]: must exactly match one of the options`);
      });
    }
  }
  if (el.type === 'radio_buttons' && el.initial_option !== undefined && !same(el.initial_option)) {
    out.push(`${path}.initial_option: must exactly match one of the options`);
  }
}

function checkText(
  obj: unknown,
  path: string,
  max: number | undefined,
  plainOnly: boolean,
  out: string[],
): void {
  if (!isObj(obj) || (obj.type !== 'plain_text' && obj.type !== 'mrkdwn')) {
    out.push(`${path}: must be a text object (plain_text or mrkdwn)`);
    return;
  }
  if (plainOnly && obj.type !== 'plain_text') out.push(`${path}: must be plain_text`);
  if (typeof obj.text !== 'string' || obj.text.length === 0) {
    out.push(`${path}.text: must be a non-empty string`);
  } else if (max !== undefined && chars(obj.text) > max) {
    out.push(`${path}.text: ${chars(obj.text)} chars (max ${max})`);
  }
}

function checkId(id: unknown, path: string, out: string[]): void {
  if (typeof id !== 'string' || id.length === 0) out.push(`${path}: must be a non-empty string`);
  else if (chars(id) > MAX_ID) out.push(`${path}: ${chars(id)} chars (max ${MAX_ID})`);
}

/** Slack's answer to a message it refuses, with each violation located by a JSON pointer as Slack does. */
export interface BlockKitRefusal {
  ok: false;
  error: 'invalid_blocks' | 'invalid_attachments' | 'msg_too_long';
  errors: string[];
  response_metadata: { messages: string[] };
}

/** The refusal for a non-empty list of violations (from `blockKitViolations`). */
export function blockKitRefusal(violations: readonly string[]): BlockKitRefusal {
  const paths = violations.map((v) => v.slice(0, v.indexOf(': ')));
  const error = paths.some((p) => p.startsWith('blocks'))
    ? 'invalid_blocks'
    : paths.some((p) => p.startsWith('attachments'))
      ? 'invalid_attachments'
      : 'msg_too_long';
  const errors = violations.map(
    (v, i) => `${v.slice(v.indexOf(': ') + 2)} [json-pointer:${pointer(paths[i]!)}]`,
  );
  return { ok: false, error, errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } };
}

/** `blocks[0] (section).text.text` → `/blocks/0/text/text`. */
function pointer(path: string): string {
  const bare = path.replace(/ \([^)]*\)/g, '').replace(/\[(\d+)\]/g, '.$1');
  return `/${bare.split('.').join('/')}`;
}

/**
 * What Slack refuses in a view (`views.publish` takes only `type: "home"`): the view's own fields, then
 * its blocks under the surface's limits. Paths start with `view.`; empty when Slack would accept it.
 */
export function viewViolations(view: unknown, type: 'home' | 'modal'): string[] {
  if (!isObj(view)) return ['view: must be a view object'];
  const out: string[] = [];
  if (view.type !== type) out.push(`view.type: must be "${type}"`);
  if (!Array.isArray(view.blocks)) out.push('view.blocks: must provide an array');
  else checkBlocks(view.blocks, 'view.blocks', MAX_BLOCKS[type], new Set<string>(), out);
  for (const [field, max] of [
    ['private_metadata', MAX_PRIVATE_METADATA],
    ['callback_id', MAX_ID],
    ['external_id', MAX_ID],
  ] as const) {
    const value = view[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') out.push(`view.${field}: must be a string`);
    else if (chars(value) > max) out.push(`view.${field}: ${chars(value)} chars (max ${max})`);
  }
  return out;
}

/** Slack's answer to a view it refuses: `invalid_arguments`, each violation located by a JSON pointer. */
export function viewRefusal(violations: readonly string[]): {
  ok: false;
  error: 'invalid_arguments';
  response_metadata: { messages: string[] };
} {
  const messages = violations.map((v) => {
    const at = v.indexOf(': ');
    return `[ERROR] ${v.slice(at + 2)} [json-pointer:${pointer(v.slice(0, at))}]`;
  });
  return { ok: false, error: 'invalid_arguments', response_metadata: { messages } };
}
