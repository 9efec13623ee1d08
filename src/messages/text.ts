/**
 * The only place text becomes Slack mrkdwn. Anything that did not come from the bot itself (a user,
 * an API caller, a header, an alert, the cluster, the config) goes through `escapeText`; mentions,
 * dates and links are made only here, from validated IDs.
 */

/** Slack's own escaping (`&`, `<`, `>`): escaped text can never become a mention, a broadcast or a link. */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts text to `max` characters, marking the cut; never leaves half an escape (`&am…`) behind. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  return `${cut.replace(/&[a-z]{0,4}$/, '')}…`;
}

/** Escapes, then clips. */
export const plain = (text: string, max = 3_000): string => clip(escapeText(text), max);

/** A ping: a user `<@U…>` or a user group `<!subteam^S…>`; anything else is shown, escaped, as code. */
export function mention(id: string): string {
  if (/^S[A-Z0-9]+$/.test(id)) return `<!subteam^${id}>`;
  if (/^[UW][A-Z0-9]+$/.test(id)) return `<@${id}>`;
  return inlineCode(id);
}

/** Names someone without notifying them (Slack has no mention that does not ping): the ID as code. */
export function nameWithoutPing(id: string): string {
  return inlineCode(id);
}

/** Text shown verbatim in code format, escaped; backticks inside cannot close it. */
export function inlineCode(text: string): string {
  return `\`${escapeText(text).replace(/`/g, 'ˋ')}\``;
}

/** A channel reference: `<#C…>` for a channel ID, otherwise the name, escaped. */
export function channelRef(channel: string): string {
  return /^[CG][A-Z0-9]+$/.test(channel) ? `<#${channel}>` : escapeText(channel);
}

/** How long ago, as each reader's Slack says it ("5 hours ago"); the date as fallback. */
export function slackAgo(iso: string | number): string {
  const date = new Date(iso);
  return `<!date^${Math.floor(date.getTime() / 1000)}^{ago}|${date.toISOString()}>`;
}

/** Slack shows this in each reader's own time zone. */
export function slackDate(iso: string | number): string {
  const date = new Date(iso);
  const epoch = Math.floor(date.getTime() / 1000);
  return `<!date^${epoch}^{date_short_pretty} {time}|${date.toISOString()}>`;
}
