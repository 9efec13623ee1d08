import { closest } from 'fastest-levenshtein';

/**
 * In Slack an unregistered slash command never reaches the app; locally it would reach the bot and
 * come back as a bare 404. Said plainly instead, with the nearest command.
 */
export function unknownCommandError(command: string, known: readonly { name: string }[]): string | undefined {
  const names = known.map((spec) => spec.name);
  if (names.includes(command.toLowerCase())) return undefined;
  if (names.length === 0) return `\`${command}\` is not a Switchyard command.`;
  return `\`${command}\` is not a Switchyard command. Did you mean \`${closest(command.toLowerCase(), names)}\`?`;
}
