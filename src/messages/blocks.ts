import type {
  ActionsBlock,
  ActionsBlockElement,
  Button,
  Checkboxes,
  ContextBlock,
  DividerBlock,
  HeaderBlock,
  KnownBlock,
  SectionBlock,
} from '@slack/types';
import { clip, plain } from './text.js';

export type { KnownBlock } from '@slack/types';

/** A message as Slack takes it: the fallback text (notifications) and Block Kit. */
export interface RenderedMessage {
  text: string;
  blocks?: KnownBlock[];
}

/**
 * Small Block Kit builders typed with Slack's own types. mrkdwn arguments (`section`, `context`) are
 * escaped by the caller through `text.ts`; plain-text ones (`header`, button labels) are escaped
 * here, whatever their source. All keep within Slack's limits.
 */
export const section = (text: string): SectionBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: clip(text, 3000) },
});

export const header = (text: string): HeaderBlock => ({
  type: 'header',
  text: { type: 'plain_text', text: plain(text, 150) },
});

export const context = (...texts: string[]): ContextBlock => ({
  type: 'context',
  elements: texts.slice(0, 10).map((text) => ({ type: 'mrkdwn', text: clip(text, 3000) })),
});

export const divider = (): DividerBlock => ({ type: 'divider' });

export interface ButtonSpec {
  text: string;
  actionId: string;
  value?: string;
  style?: 'primary' | 'danger';
  url?: string;
  /** Slack's own "are you sure?" dialog before the click is sent. */
  confirm?: { title: string; text: string; confirm: string; deny: string };
}

export const button = (spec: ButtonSpec): Button => ({
  type: 'button',
  text: { type: 'plain_text', text: plain(spec.text, 75), emoji: true },
  action_id: spec.actionId,
  ...(spec.value !== undefined ? { value: spec.value } : {}),
  ...(spec.style ? { style: spec.style } : {}),
  ...(spec.url ? { url: spec.url } : {}),
  ...(spec.confirm
    ? {
        confirm: {
          title: { type: 'plain_text', text: plain(spec.confirm.title, 100) },
          text: { type: 'mrkdwn', text: clip(spec.confirm.text, 300) },
          confirm: { type: 'plain_text', text: plain(spec.confirm.confirm, 30) },
          deny: { type: 'plain_text', text: plain(spec.confirm.deny, 30) },
        },
      }
    : {}),
});

/** Up to ten short mrkdwn fields, side by side (escaped by the caller, as `section`). */
export const fields = (items: string[]): SectionBlock => ({
  type: 'section',
  fields: items.slice(0, 10).map((text) => ({ type: 'mrkdwn', text: clip(text, 2000) })),
});

export const actions = (blockId: string, elements: ActionsBlockElement[]): ActionsBlock => ({
  type: 'actions',
  block_id: blockId,
  elements: elements.slice(0, 25),
});

export interface CheckboxOption {
  /** Shown as plain text (escaped here), clipped to Slack's 75 characters. */
  text: string;
  value: string;
}

/** A checkboxes element: at most 10 options; `initial_options` are the same objects as their options. */
export const checkboxes = (
  actionId: string,
  options: CheckboxOption[],
  checked: ReadonlySet<string>,
): Checkboxes => {
  const built = options.slice(0, 10).map((option) => ({
    text: { type: 'plain_text' as const, text: plain(option.text, 75) },
    value: option.value,
  }));
  const initial = built.filter((option) => checked.has(option.value));
  return {
    type: 'checkboxes',
    action_id: actionId,
    options: built,
    ...(initial.length > 0 ? { initial_options: initial } : {}),
  };
};
