/** Slack turns typed quotes into typographic ones; treat them all as quotes. */
const QUOTES: Record<string, string> = { '"': '"', "'": "'", '“': '”', '‘': '’', '”': '”' };

/**
 * Splits a command line into words, keeping quoted text together. Never throws: an unclosed
 * quote runs to the end of the line, which is what a person typing in a hurry meant.
 */
export function tokenize(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let closing: string | undefined;
  for (const char of text) {
    if (closing !== undefined) {
      if (char === closing) closing = undefined;
      else current += char;
      continue;
    }
    const close = QUOTES[char];
    if (close !== undefined) {
      closing = close;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

export interface CommandLine {
  words: string[];
  options: Record<string, string>;
}

/** Separates `--name value` / `--name=value` options (for the names given) from positional words. */
export function parseCommandLine(text: string, valuedOptions: readonly string[]): CommandLine {
  const tokens = tokenize(text);
  const words: string[] = [];
  const options: Record<string, string> = {};
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/i.exec(token);
    const name = match?.[1]?.toLowerCase();
    if (match && name && valuedOptions.includes(name)) {
      const value = match[2] ?? tokens[index + 1];
      if (match[2] === undefined) index++;
      options[name] = value ?? '';
    } else {
      words.push(token);
    }
  }
  return { words, options };
}
