/** Block Kit as plain text for a terminal: what a person would read in Slack, without the chrome. */
export function blocksToText(message: { text?: string; blocks?: unknown[] }): string {
  if (!message.blocks || message.blocks.length === 0) return mrkdwnToText(message.text ?? '');
  const lines: string[] = [];
  for (const block of message.blocks as Array<Record<string, unknown>>) {
    const text = (block.text as { text?: string } | undefined)?.text;
    switch (block.type) {
      case 'header':
        lines.push(`== ${text ?? ''} ==`);
        break;
      case 'section': {
        if (text) lines.push(mrkdwnToText(text));
        const fields = (block.fields as Array<{ text: string }> | undefined) ?? [];
        for (const field of fields) lines.push(`  ${mrkdwnToText(field.text)}`);
        break;
      }
      case 'context':
        lines.push(
          ((block.elements as Array<{ text?: string }> | undefined) ?? [])
            .map((element) => `  ${mrkdwnToText(element.text ?? '')}`)
            .join('\n'),
        );
        break;
      case 'divider':
        lines.push('----');
        break;
      case 'actions':
        for (const element of (block.elements as Array<Record<string, unknown>> | undefined) ?? []) {
          const label = (element.text as { text?: string } | undefined)?.text ?? '';
          lines.push(
            `  [${label}]  → npm run cli -- click ${element.action_id} ${element.value ?? ''}`.trimEnd(),
          );
        }
        break;
      default:
        if (text) lines.push(mrkdwnToText(text));
    }
  }
  return lines.join('\n');
}

export function mrkdwnToText(text: string): string {
  return text
    .replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>/g, '@$1')
    .replace(/<@([A-Z0-9]+)>/g, '@$1')
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
