import { mention } from '../../commanding/blocks.js';

/** Escapes text for Slack mrkdwn (`&`, `<`, `>`), so alert text cannot ping or link by accident. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A ping: user `<@U…>`, user group `<!subteam^S…>`. */
export const ping = mention;

/**
 * Names someone without notifying them (Slack has no mention syntax that does not ping): the ID in
 * code format, which Slack shows verbatim.
 */
export function nameWithoutPing(id: string): string {
  return `\`${id}\``;
}
