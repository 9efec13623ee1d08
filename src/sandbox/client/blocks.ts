/// <reference lib="dom" />
import { mrkdwnNodes, type Names, plainNodes } from './mrkdwn.js';

/** Block Kit to DOM, as Slack lays it out. Interactive elements call back with what was chosen. */

type Obj = Record<string, unknown>;

interface TextObject {
  type?: string;
  text?: string;
}

export interface Interact {
  click(element: Obj, blockId: string | undefined): void;
  select(element: Obj, blockId: string | undefined, option: { value: string; text: string }): void;
  /** A checkbox ticked or unticked: every value checked afterwards, as Slack sends it. */
  check(element: Obj, blockId: string | undefined, checked: string[]): void;
}

export function renderBlocks(blocks: unknown[], names: Names, interact: Interact): HTMLElement[] {
  return (blocks as Obj[]).map((block) => renderBlock(block, names, interact));
}

function renderBlock(block: Obj, names: Names, interact: Interact): HTMLElement {
  const blockId = typeof block.block_id === 'string' ? block.block_id : undefined;
  switch (block.type) {
    case 'header': {
      const div = el('div', 'blk header');
      div.append(...textNodes(block.text as TextObject, names));
      return div;
    }
    case 'divider':
      return el('hr', 'blk divider');
    case 'context': {
      const div = el('div', 'blk context');
      for (const element of (block.elements as Obj[] | undefined) ?? []) {
        const span = el('span', '');
        if (element.type === 'image') span.textContent = `[${String(element.alt_text ?? 'image')}]`;
        else span.append(...textNodes(element as TextObject, names));
        div.append(span);
      }
      return div;
    }
    case 'section': {
      const div = el('div', 'blk section');
      const body = el('div', '');
      if (block.text) body.append(...textNodes(block.text as TextObject, names));
      const fields = (block.fields as TextObject[] | undefined) ?? [];
      if (fields.length > 0) {
        const grid = el('div', 'fields');
        for (const field of fields) {
          const cell = el('div', '');
          cell.append(...textNodes(field, names));
          grid.append(cell);
        }
        body.append(grid);
      }
      div.append(body);
      if (block.accessory) div.append(renderElement(block.accessory as Obj, blockId, names, interact));
      return div;
    }
    case 'actions': {
      const div = el('div', 'blk actions');
      for (const element of (block.elements as Obj[] | undefined) ?? []) {
        div.append(renderElement(element, blockId, names, interact));
      }
      return div;
    }
    case 'image': {
      const div = el('div', 'blk');
      div.textContent = `[image: ${String(block.alt_text ?? '')}]`;
      return div;
    }
    default: {
      const div = el('div', 'blk');
      const text = (block.text as TextObject | undefined) ?? (block.label as TextObject | undefined);
      if (text) div.append(...textNodes(text, names));
      return div;
    }
  }
}

function renderElement(
  element: Obj,
  blockId: string | undefined,
  names: Names,
  interact: Interact,
): HTMLElement {
  switch (element.type) {
    case 'button': {
      const button = el(
        'button',
        `btn${element.style ? ` ${String(element.style)}` : ''}`,
      ) as HTMLButtonElement;
      button.type = 'button';
      button.dataset.actionId = String(element.action_id ?? '');
      button.append(...plainNodes((element.text as TextObject | undefined)?.text ?? ''));
      button.addEventListener('click', () => interact.click(element, blockId));
      return button;
    }
    case 'static_select':
    case 'overflow': {
      const select = el('select', 'menu') as HTMLSelectElement;
      select.dataset.actionId = String(element.action_id ?? '');
      const placeholder = document.createElement('option');
      placeholder.value = '';
      placeholder.textContent = (element.placeholder as TextObject | undefined)?.text ?? 'Choose…';
      select.append(placeholder);
      const groups = (element.option_groups as Obj[] | undefined) ?? [{ options: element.options }];
      for (const group of groups) {
        const parent: HTMLElement = group.label ? document.createElement('optgroup') : select;
        if (group.label) (parent as HTMLOptGroupElement).label = (group.label as TextObject).text ?? '';
        for (const option of (group.options as Obj[] | undefined) ?? []) {
          const node = document.createElement('option');
          node.value = String(option.value ?? '');
          node.textContent = (option.text as TextObject | undefined)?.text ?? node.value;
          parent.append(node);
        }
        if (parent !== select) select.append(parent);
      }
      select.addEventListener('change', () => {
        const chosen = select.selectedOptions[0];
        if (!chosen || chosen.value === '') return;
        interact.select(element, blockId, { value: chosen.value, text: chosen.textContent ?? '' });
      });
      return select;
    }
    case 'checkboxes':
    case 'radio_buttons': {
      const div = el('div', 'checks');
      div.dataset.actionId = String(element.action_id ?? '');
      const initial = new Set(
        ((element.initial_options as Obj[] | undefined) ?? []).map((option) => String(option.value ?? '')),
      );
      const inputs: HTMLInputElement[] = [];
      for (const option of (element.options as Obj[] | undefined) ?? []) {
        const label = document.createElement('label');
        const input = document.createElement('input');
        input.type = element.type === 'checkboxes' ? 'checkbox' : 'radio';
        input.value = String(option.value ?? '');
        // Checkboxes are clickable, as in Slack; radio buttons are shown only.
        input.disabled = element.type !== 'checkboxes';
        input.checked = initial.has(input.value);
        input.addEventListener('change', () =>
          interact.check(
            element,
            blockId,
            inputs.filter((box) => box.checked).map((box) => box.value),
          ),
        );
        inputs.push(input);
        label.append(input, ' ', ...textNodes(option.text as TextObject, names));
        div.append(label);
      }
      return div;
    }
    default: {
      const span = el('span', '');
      span.textContent = `[${String(element.type)}]`;
      return span;
    }
  }
}

function textNodes(text: TextObject | undefined, names: Names): Node[] {
  if (!text?.text) return [];
  return text.type === 'mrkdwn' ? mrkdwnNodes(text.text, names) : plainNodes(text.text);
}

export function el(tag: string, className: string): HTMLElement {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
}
