/**
 * Checks what the bot sends to Slack for control sequences it did not mean to send: every `<…>`
 * token in a message must be one the bot makes itself (a mention of a known ID, a date, a channel).
 */

/** Every string in a message (its text and every text field of its blocks, however deep). */
export function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

const DATE = /^<!date\^\d+\^(\{date_short_pretty\} \{time\}|\{ago\})\|\d{4}-\d\d-\d\dT[\d:.]+Z>$/;

/**
 * The `<…>` tokens in `text` that the bot would not have made: broadcasts (`<!channel>`, `<!here>`,
 * `<!everyone>`), mentions of IDs outside `knownIds`, user groups outside them, links, anything else.
 */
export function foreignTokens(
  text: string,
  knownIds: readonly string[],
  /** URL prefixes of links the bot makes itself (the alert's source, Slack permalinks). */
  knownLinks: readonly string[] = [],
): string[] {
  const tokens = text.match(/<[^<>]*>/g) ?? [];
  return tokens.filter((token) => {
    if (DATE.test(token)) return false;
    const link = /^<(https?:\/\/[^|<>\s]+)(\|[^|<>]*)?>$/.exec(token);
    if (link && knownLinks.some((prefix) => link[1]!.startsWith(prefix))) return false;
    if (/^<#[CG][A-Z0-9]+>$/.test(token)) return false;
    const user = /^<@([A-Z0-9]+)>$/.exec(token);
    if (user) return !knownIds.includes(user[1]!);
    const group = /^<!subteam\^([A-Z0-9]+)>$/.exec(token);
    if (group) return !knownIds.includes(group[1]!);
    return true;
  });
}

/** Hostile fragments a user, a header or an alert might carry. */
export const HOSTILE = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U0VP>',
  '<@W0CEO>',
  '<!subteam^S0ALL>',
  '<https://evil.example|runbook>',
  '<http://evil.example>',
  '<mailto:x@evil.example|mail>',
  '&lt;!channel&gt;',
  '<!date^1^{date}|x>',
  '<#C0OTHER>',
  '&',
  '<',
  '>',
  '`',
  '*',
  '\n',
] as const;
