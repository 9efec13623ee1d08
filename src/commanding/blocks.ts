import { clip } from '../messages/text.js';
import type { Block } from './reply.js';

/** Small Block Kit builders, so command modules read as what they show. */
export const section = (text: string): Block => ({
  type: 'section',
  text: { type: 'mrkdwn', text: clip(text, 3000) },
});

export const header = (text: string): Block => ({
  type: 'header',
  text: { type: 'plain_text', text: clip(text, 150) },
});

export const context = (...texts: string[]): Block => ({
  type: 'context',
  elements: texts.slice(0, 10).map((text) => ({ type: 'mrkdwn', text: clip(text, 3000) })),
});

export const divider = (): Block => ({ type: 'divider' });

export const fields = (items: string[]): Block => ({
  type: 'section',
  fields: items.slice(0, 10).map((text) => ({ type: 'mrkdwn', text: clip(text, 2000) })),
});

export interface ButtonSpec {
  text: string;
  actionId: string;
  value?: string;
  style?: 'primary' | 'danger';
  url?: string;
  confirm?: { title: string; text: string; confirm: string; deny: string };
}

export const button = (spec: ButtonSpec): Block => ({
  type: 'button',
  text: { type: 'plain_text', text: clip(spec.text, 75), emoji: true },
  action_id: spec.actionId,
  ...(spec.value !== undefined ? { value: spec.value } : {}),
  ...(spec.style ? { style: spec.style } : {}),
  ...(spec.url ? { url: spec.url } : {}),
  ...(spec.confirm
    ? {
        confirm: {
          title: { type: 'plain_text', text: clip(spec.confirm.title, 100) },
          text: { type: 'mrkdwn', text: clip(spec.confirm.text, 300) },
          confirm: { type: 'plain_text', text: clip(spec.confirm.confirm, 30) },
          deny: { type: 'plain_text', text: clip(spec.confirm.deny, 30) },
        },
      }
    : {}),
});

export const actions = (blockId: string, elements: Block[]): Block => ({
  type: 'actions',
  block_id: blockId,
  elements: elements.slice(0, 25),
});

// Text helpers live in the messages layer, the one place that escapes outside text.
export { actorLabel } from '../messages/flags.js';
export { clip, escapeText, inlineCode, mention, plain, slackDate } from '../messages/text.js';
