/// <reference lib="dom" />
/**
 * Slack mrkdwn to DOM nodes. Every piece of text becomes a text node (never HTML), so an alert named
 * `<script>` shows as those characters. Slack's own escapes (&amp; &lt; &gt;) are decoded for display.
 */

export interface Names {
  person(id: string): string;
  group(id: string): string;
  channel(id: string): string;
}

const EMOJI: Record<string, string> = {
  white_check_mark: '✅',
  heavy_check_mark: '✔️',
  x: '❌',
  eyes: '👀',
  '+1': '👍',
  thumbsup: '👍',
  rotating_light: '🚨',
  warning: '⚠️',
  fire: '🔥',
  red_circle: '🔴',
  large_orange_circle: '🟠',
  large_yellow_circle: '🟡',
  large_green_circle: '🟢',
  large_blue_circle: '🔵',
  white_circle: '⚪',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  hourglass_flowing_sand: '⏳',
  hourglass: '⌛',
  rewind: '⏪',
  leftwards_arrow_with_hook: '↩️',
  arrows_counterclockwise: '🔄',
  repeat: '🔁',
  bell: '🔔',
  no_bell: '🔕',
  mute: '🔇',
  pager: '📟',
  rocket: '🚀',
  tada: '🎉',
  octagonal_sign: '🛑',
  stop_sign: '🛑',
  information_source: 'ℹ️',
  heavy_minus_sign: '➖',
  heavy_plus_sign: '➕',
  arrow_right: '➡️',
  clipboard: '📋',
  railway_track: '🛤️',
  telephone_receiver: '📞',
  triangular_flag_on_post: '🚩',
  memo: '📝',
  book: '📖',
  ballot_box_with_check: '☑️',
  white_large_square: '⬜',
  black_square_button: '🔲',
  gear: '⚙️',
  lock: '🔒',
  unlock: '🔓',
  construction: '🚧',
  checkered_flag: '🏁',
  skull: '💀',
  bulb: '💡',
  mag: '🔍',
  siren: '🚨',
  traffic_light: '🚦',
  vertical_traffic_light: '🚦',
  chart_with_upwards_trend: '📈',
  chart_with_downwards_trend: '📉',
  green_heart: '💚',
  broken_heart: '💔',
  zap: '⚡',
  sos: '🆘',
  wave: '👋',
};

export function emoji(name: string): string {
  return EMOJI[name] ?? `:${name}:`;
}

const decode = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** Plain text (plain_text objects): emoji codes only. */
export function plainNodes(text: string): Node[] {
  return [document.createTextNode(withEmoji(text))];
}

function withEmoji(text: string): string {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
}

/** Block-level: ``` code blocks and > quotes, then inline formatting per line. */
export function mrkdwnNodes(text: string, names: Names): Node[] {
  const nodes: Node[] = [];
  const parts = text.split('```');
  parts.forEach((part, index) => {
    if (index % 2 === 1) {
      const pre = document.createElement('pre');
      pre.textContent = decode(part.replace(/^\n/, ''));
      nodes.push(pre);
      return;
    }
    const lines = part.split('\n');
    lines.forEach((line, lineIndex) => {
      if (line.startsWith('&gt; ') || line === '&gt;') {
        const quote = document.createElement('blockquote');
        quote.append(...inline(line.replace(/^&gt; ?/, ''), names));
        nodes.push(quote);
        return;
      }
      nodes.push(...inline(line, names));
      if (lineIndex < lines.length - 1) nodes.push(document.createElement('br'));
    });
  });
  return nodes;
}

/** Specials (`<…>`), `code`, *bold*, _italic_, ~strike~ within one line. */
function inline(line: string, names: Names): Node[] {
  const nodes: Node[] = [];
  const pattern = /<([^>]+)>|`([^`]+)`|\*([^*\n]+)\*|(?<![\w])_([^_\n]+)_(?![\w])|~([^~\n]+)~/g;
  let last = 0;
  for (const match of line.matchAll(pattern)) {
    const index = match.index ?? 0;
    if (index > last) nodes.push(text(line.slice(last, index)));
    const [, special, code, bold, italic, strike] = match;
    if (special !== undefined) nodes.push(specialNode(special, names));
    else if (code !== undefined) nodes.push(element('code', [document.createTextNode(decode(code))]));
    else if (bold !== undefined) nodes.push(element('b', inline(bold, names)));
    else if (italic !== undefined) nodes.push(element('i', inline(italic, names)));
    else if (strike !== undefined) nodes.push(element('s', inline(strike, names)));
    last = index + match[0].length;
  }
  if (last < line.length) nodes.push(text(line.slice(last)));
  return nodes;
}

function specialNode(special: string, names: Names): Node {
  const [target = '', label] = special.split('|', 2) as [string, string | undefined];
  if (target.startsWith('@')) return mention(`@${names.person(target.slice(1))}`);
  if (target.startsWith('#')) return mention(`#${label ?? names.channel(target.slice(1))}`);
  if (target.startsWith('!subteam^')) return mention(`@${names.group(target.slice('!subteam^'.length))}`);
  if (target.startsWith('!date^')) return text(localDate(target) ?? label ?? target);
  if (target.startsWith('!')) return mention(`@${target.slice(1)}`);
  if (/^(https?|mailto):/.test(target)) {
    const link = document.createElement('a');
    link.href = decode(target);
    link.rel = 'noopener noreferrer';
    link.target = '_blank';
    link.textContent = decode(label ?? target);
    return link;
  }
  return text(`<${special}>`);
}

function mention(label: string): Node {
  const span = document.createElement('span');
  span.className = 'mention';
  span.textContent = label;
  return span;
}

function text(raw: string): Node {
  return document.createTextNode(withEmoji(decode(raw)));
}

function element(tag: string, children: Node[]): Node {
  const node = document.createElement(tag);
  node.append(...children);
  return node;
}

/** `!date^<epoch>^…` as Slack shows it: in the reader's own time zone. */
function localDate(target: string): string | undefined {
  const epoch = Number(target.split('^')[1]);
  if (!Number.isFinite(epoch)) return undefined;
  return new Date(epoch * 1000).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}
