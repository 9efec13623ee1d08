import { randomBytes } from 'node:crypto';
import type { Logger } from '../../logger.js';
import type { RenderedMessage } from '../../messages/blocks.js';

/** A rendered message as the Web API takes it (`web-chat.ts`). */
type ChatMessage = RenderedMessage & { threadTs?: string };

/** Slack's answers for a message it will not show as formatted; resending the same message cannot help. */
const REFUSALS = new Set(['invalid_blocks', 'msg_too_long', 'invalid_attachments']);

/** Slack's limit for a message's `text`. */
export const MAX_MESSAGE_TEXT = 40_000;

export interface Refusal {
  /** `invalid_blocks`, `msg_too_long` or `invalid_attachments`. */
  code: string;
  /** Slack's detail (`errors`, else `response_metadata.messages`), each naming a JSON pointer. */
  errors: string[];
}

/** The refusal behind an error thrown by `@slack/web-api`, or undefined for any other error. */
export function refusalOf(error: unknown): Refusal | undefined {
  const e = error as {
    code?: string;
    data?: { error?: string; errors?: unknown; response_metadata?: { messages?: unknown } };
  };
  const code = e?.data?.error;
  if (e?.code !== 'slack_webapi_platform_error' || !code || !REFUSALS.has(code)) return undefined;
  const detail = Array.isArray(e.data?.errors) ? e.data.errors : e.data?.response_metadata?.messages;
  return { code, errors: Array.isArray(detail) ? detail.map(String) : [] };
}

/**
 * The message as plain text: its `text` (already escaped by the renderer), trimmed to Slack's limit, and
 * a note with the reference that the error log carries. `blocks: []` clears an updated message's blocks.
 */
export function plainTextFallback(message: ChatMessage, reference: string): ChatMessage {
  const note = `_Slack refused the formatted version of this message, so here it is as plain text (reference ${reference})._`;
  const room = MAX_MESSAGE_TEXT - note.length - 2;
  const text = message.text.trim() === '' ? note : `${trim(message.text, room)}\n\n${note}`;
  return { text, blocks: [], ...(message.threadTs ? { threadTs: message.threadTs } : {}) };
}

/**
 * Sends `message`; when Slack refuses it (a Block Kit limit, text too long), logs the refusal at error
 * level with a reference and sends the plain-text fallback instead, so the channel still hears it.
 * Any other error, or a refused fallback, is thrown as before.
 */
export async function sendWithFallback<T>(
  message: ChatMessage,
  send: (message: ChatMessage) => Promise<T>,
  context: { log: Logger; method: string; channel: string },
): Promise<T> {
  try {
    return await send(message);
  } catch (error) {
    const refusal = refusalOf(error);
    if (!refusal) throw error;
    const reference = `ref-${randomBytes(4).toString('hex')}`;
    context.log.error(
      {
        reference,
        method: context.method,
        channel: context.channel,
        error: refusal.code,
        errors: refusal.errors,
      },
      'Slack refused a message; sending it as plain text',
    );
    return send(plainTextFallback(message, reference));
  }
}

/** At most `max` UTF-16 units, never splitting a surrogate pair or an `&amp;`-style entity. */
function trim(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut.replace(/&[a-z]{0,3}$/, '')}…`;
}
