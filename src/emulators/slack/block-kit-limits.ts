/**
 * Block Kit limits that Slack enforces (answering `invalid_blocks`, or truncating). Checked locally so a
 * message that would fail in a real workspace fails in tests and in local mode first.
 */

export type BlockKitSurface = 'message' | 'modal';

export interface BlockKitMessage {
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
}

const MAX_BLOCKS: Record<BlockKitSurface, number> = { message: 50, modal: 100 };
const MAX_MESSAGE_TEXT = 40_000;
const MAX_SECTION_TEXT = 3000;
const MAX_HEADER_TEXT = 150;
const MAX_FIELDS = 10;
const MAX_FIELD_TEXT = 2000;
const MAX_CONTEXT_ELEMENTS = 10;
const MAX_ACTIONS_ELEMENTS = 25;
const MAX_BUTTON_TEXT = 75;
const MAX_BUTTON_VALUE = 2000;
const MAX_ID = 255;

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
          checkText(el, `${where}.elements[${i}]`, undefined, false, out);
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
      return; // divider, image, rich_text, …: nothing limited here
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
  if (el.action_id !== undefined) checkId(el.action_id, `${path}.action_id`, out);
  if (el.type === 'button') {
    checkText(el.text, `${path}.text`, MAX_BUTTON_TEXT, true, out);
    if (el.value !== undefined) {
      if (typeof el.value !== 'string') out.push(`${path}.value: must be a string`);
      else if (chars(el.value) > MAX_BUTTON_VALUE) {
        out.push(`${path}.value: ${chars(el.value)} chars (max ${MAX_BUTTON_VALUE})`);
      }
    }
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
