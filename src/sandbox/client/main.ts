/// <reference lib="dom" />
import type { Exchange, SandboxMessage, SandboxState } from '../protocol.js';
import { el, type Interact, renderBlocks } from './blocks.js';
import { emoji, mrkdwnNodes, type Names } from './mrkdwn.js';

/**
 * The sandbox page: a Slack-like view of the incident channel and the bot's DMs, fed by server-sent
 * events from the embedded Slack emulator. Everything a person does goes to /sandbox/api/* as the
 * person chosen in the sidebar, and the bot handles it exactly as it would a request from Slack.
 */

const REACTIONS = ['white_check_mark', 'eyes', '+1', 'x'];
const GROUPS: Record<string, string> = {
  S0ONCALL: 'oncall',
  S0APPROVERS: 'approvers',
};

let state: SandboxState | undefined;
let me = new URLSearchParams(location.hash.slice(1)).get('as') ?? 'U0LOCAL';
let view = 'channel';
let hint: { text: string; error: boolean } = { text: '', error: false };
/** Requests the bot is still handling; typing and clicking stay possible meanwhile, as in Slack. */
let pending = 0;
let draft = '';
let alertChoice = '';
let customAlert = '';
let pendingConfirm: { element: Record<string, unknown>; go: () => void } | undefined;

const app = document.getElementById('app')!;

const names: Names = {
  person: (id) => {
    if (id === state?.botUserId) return 'switchyard';
    return state?.people.find((p) => p.id === id)?.name ?? id;
  },
  group: (id) => GROUPS[id] ?? id,
  channel: (id) => (id === state?.channel ? channelName() : id),
};

async function call(path: string, body: unknown): Promise<Exchange> {
  pending++;
  render();
  try {
    const response = await fetch(`/sandbox/api/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as Exchange & { error?: string };
    hint = answer.ok ? { text: '', error: false } : { text: answer.error ?? 'failed', error: true };
    return answer;
  } catch (error) {
    hint = { text: `The bot did not answer: ${(error as Error).message}`, error: true };
    return { ok: false, replies: [], posts: [] };
  } finally {
    pending--;
    render();
  }
}

function interactFor(message: SandboxMessage): Interact {
  return {
    click(element, blockId) {
      const go = () =>
        void call('action', {
          user: me,
          messageId: message.id,
          actionId: String(element.action_id ?? ''),
          blockId,
          value: typeof element.value === 'string' ? element.value : undefined,
        });
      if (element.confirm) {
        pendingConfirm = { element, go };
        render();
      } else go();
    },
    check(element, blockId, checked) {
      void call('action', {
        user: me,
        messageId: message.id,
        actionId: String(element.action_id ?? ''),
        blockId,
        checked,
      });
    },
    select(element, blockId, option) {
      void call('action', {
        user: me,
        messageId: message.id,
        actionId: String(element.action_id ?? ''),
        blockId,
        selected: option,
      });
    },
  };
}

function toggleReaction(message: SandboxMessage, name: string): void {
  const mine = message.reactions?.find((r) => r.name === name)?.users.includes(me) ?? false;
  void call('reaction', { user: me, messageId: message.id, name, added: !mine });
}

function dmChannels(): string[] {
  const channels = new Set<string>();
  for (const message of state?.messages ?? []) {
    if (/^[DG]/.test(message.channel)) channels.add(message.channel);
  }
  return [...channels].sort();
}

function dmLabel(channel: string): string {
  const person = state?.people.find((p) => `D${p.id.slice(1)}` === channel);
  return person ? person.name : channel;
}

function visible(message: SandboxMessage): boolean {
  return message.ephemeralTo === undefined || message.ephemeralTo === me;
}

function renderMessage(message: SandboxMessage, replies: SandboxMessage[]): HTMLElement {
  const row = el('div', `msg${message.ephemeralTo ? ' ephemeral' : ''}`);
  row.dataset.id = message.id;
  row.dataset.ts = message.ts;
  const bot = message.user === state?.botUserId;
  const avatar = el('div', `avatar${bot ? '' : ' person'}`);
  avatar.textContent = bot ? 'S' : (names.person(message.user)[0] ?? '?').toUpperCase();
  const body = el('div', 'body');
  if (message.ephemeralTo) {
    const only = el('div', 'only');
    only.textContent = '👁 Only visible to you';
    body.append(only);
  }
  const meta = el('div', 'meta');
  const who = document.createElement('b');
  who.textContent = names.person(message.user);
  meta.append(who);
  if (bot) {
    const tag = el('span', 'app');
    tag.textContent = 'APP';
    meta.append(tag);
  }
  const time = document.createElement('time');
  time.textContent = new Date(Number(message.ts) * 1000).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  meta.append(time);
  if (message.edited) {
    const edited = el('span', 'edited');
    edited.textContent = '(edited)';
    meta.append(edited);
  }
  body.append(meta);
  const content = el('div', 'content');
  if (message.blocks && message.blocks.length > 0) {
    content.append(...renderBlocks(message.blocks, names, interactFor(message)));
  } else {
    content.append(...mrkdwnNodes(message.text ?? '', names));
  }
  body.append(content);
  if (!message.ephemeralTo) body.append(renderReactions(message));
  if (replies.length > 0) {
    const thread = el('div', 'thread');
    const label = el('div', 'thread-label');
    label.textContent = `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`;
    thread.append(label);
    for (const reply of replies) thread.append(renderMessage(reply, []));
    body.append(thread);
  }
  row.append(avatar, body);
  return row;
}

function renderReactions(message: SandboxMessage): HTMLElement {
  const bar = el('div', 'reactions');
  for (const reaction of message.reactions ?? []) {
    const pill = el('button', `reaction${reaction.users.includes(me) ? ' mine' : ''}`) as HTMLButtonElement;
    pill.type = 'button';
    pill.dataset.reaction = reaction.name;
    pill.title = reaction.users.map((id) => names.person(id)).join(', ');
    pill.textContent = `${emoji(reaction.name)} ${reaction.count}`;
    pill.addEventListener('click', () => toggleReaction(message, reaction.name));
    bar.append(pill);
  }
  const palette = el('span', 'palette');
  for (const name of REACTIONS) {
    if (message.reactions?.some((r) => r.name === name)) continue;
    const add = el('button', 'add-reaction') as HTMLButtonElement;
    add.type = 'button';
    add.dataset.addReaction = name;
    add.title = `React with :${name}:`;
    add.textContent = `+${emoji(name)}`;
    add.addEventListener('click', () => toggleReaction(message, name));
    palette.append(add);
  }
  bar.append(palette);
  return bar;
}

function renderSidebar(): HTMLElement {
  const side = el('nav', 'sidebar');
  const title = el('h1', '');
  title.textContent = 'Switchyard sandbox';
  side.append(title);
  const channels = el('h2', '');
  channels.textContent = 'Channels';
  side.append(channels, navButton('channel', `# ${channelName()}`));
  const dms = el('h2', '');
  dms.textContent = 'Direct messages (from the bot)';
  side.append(dms);
  const dmList = dmChannels();
  if (dmList.length === 0) {
    const none = el('div', 'nav');
    none.textContent = 'none yet';
    side.append(none);
  }
  for (const channel of dmList) side.append(navButton(channel, `@ ${dmLabel(channel)}`));
  const apps = el('h2', '');
  apps.textContent = 'Apps';
  side.append(apps, navButton('home', '🏠 switchyard — Home'));

  const controls = el('div', 'controls');
  const h = el('h2', '');
  h.textContent = 'You are';
  const persona = document.createElement('select');
  persona.id = 'persona';
  for (const person of state?.people ?? []) {
    const option = document.createElement('option');
    option.value = person.id;
    option.textContent = `${person.name} — ${person.role}`;
    option.selected = person.id === me;
    persona.append(option);
  }
  persona.addEventListener('change', () => {
    me = persona.value;
    history.replaceState(null, '', `#as=${encodeURIComponent(me)}`);
    render();
    if (view === 'home') openHome();
  });

  const scenario = el('h2', '');
  scenario.textContent = 'Scenario';
  const alertLabel = el('label', '');
  alertLabel.textContent = 'Alert (as Alertmanager sends it)';
  const alertSelect = document.createElement('select');
  alertSelect.id = 'alert-name';
  for (const alert of state?.alerts ?? []) {
    const option = document.createElement('option');
    option.value = alert.name;
    option.textContent = `${alert.name} (${alert.severity})`;
    option.selected = alert.name === alertChoice;
    alertSelect.append(option);
  }
  alertSelect.addEventListener('change', () => {
    alertChoice = alertSelect.value;
  });
  const alertRow = el('div', 'row');
  alertRow.append(
    control('Fire', 'fire-alert', () => void call('alert', { name: alertSelect.value, status: 'firing' })),
    control(
      'Resolve',
      'resolve-alert',
      () => void call('alert', { name: alertSelect.value, status: 'resolved' }),
    ),
  );
  const customLabel = el('label', '');
  customLabel.textContent = 'Or an alert of your own (critical)';
  const custom = document.createElement('input');
  custom.id = 'custom-alert';
  custom.placeholder = 'alert name';
  custom.value = customAlert;
  custom.addEventListener('input', () => {
    customAlert = custom.value;
  });
  const customRow = el('div', 'row');
  customRow.append(
    control('Fire', 'fire-custom', () => {
      if (custom.value.trim())
        void call('alert', { name: custom.value, status: 'firing', severity: 'critical' });
    }),
  );
  const promLabel = el('label', '');
  promLabel.textContent = 'Demo Prometheus (phase gates)';
  const health = el('div', 'health');
  health.id = 'prometheus-health';
  health.textContent = state?.prometheusHealthy ? '🟢 healthy' : '🔴 unhealthy';
  const promRow = el('div', 'row');
  promRow.append(
    control('Healthy', 'prometheus-healthy', () => void call('prometheus', { healthy: true })),
    control('Unhealthy', 'prometheus-unhealthy', () => void call('prometheus', { healthy: false })),
  );
  controls.append(h, persona, scenario, alertLabel, alertSelect, alertRow, customLabel, custom, customRow);
  controls.append(promLabel, health, promRow);
  side.append(controls);
  return side;
}

function control(label: string, id: string, onClick: () => void): HTMLElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.id = id;
  button.textContent = label;
  button.addEventListener('click', onClick);
  return button;
}

function navButton(target: string, label: string): HTMLElement {
  const button = el('button', `nav${view === target ? ' active' : ''}`) as HTMLButtonElement;
  button.type = 'button';
  button.dataset.view = target;
  button.textContent = label;
  button.addEventListener('click', () => {
    view = target;
    render();
    if (target === 'home') openHome();
  });
  return button;
}

/** Opening the Home tab, as in Slack: the bot is told (app_home_opened) and publishes the view. */
function openHome(): void {
  void call('home', { user: me });
}

/** The App Home tab: the view the bot published for this person (views.publish), rendered as Slack would. */
function renderHome(): HTMLElement {
  const main = el('main', 'main');
  const top = el('div', 'topbar');
  const title = el('span', '');
  title.textContent = '🏠 switchyard — Home';
  const who = el('span', 'who');
  const person = state?.people.find((p) => p.id === me);
  who.textContent = `You are ${person?.name ?? me} (${person?.role ?? 'unknown'})`;
  top.append(title, who);
  const pane = el('div', 'messages home');
  pane.id = 'home';
  const published = state?.homeViews[me];
  if (!published) {
    const empty = el('div', 'empty');
    empty.textContent = pending > 0 ? 'Opening Home…' : 'The bot has not published a Home for you yet.';
    pane.append(empty);
  } else {
    const inert: Interact = {
      click() {
        hint = { text: 'The Home tab has no buttons.', error: true };
        render();
      },
      select() {},
      check() {},
    };
    pane.append(...renderBlocks(published.blocks, names, inert));
  }
  const hintLine = el('div', `hint${hint.error ? ' error' : ''}`);
  hintLine.id = 'hint';
  hintLine.textContent = hint.text || (pending > 0 ? 'The bot is working…' : '');
  main.append(top, pane, hintLine);
  return main;
}

function channelName(): string {
  return 'messaging-system-incidents';
}

function renderMain(): HTMLElement {
  if (view === 'home') return renderHome();
  const main = el('main', 'main');
  const top = el('div', 'topbar');
  const title = el('span', '');
  title.textContent = view === 'channel' ? `# ${channelName()}` : `@ ${dmLabel(view)}`;
  const who = el('span', 'who');
  const person = state?.people.find((p) => p.id === me);
  who.textContent = `You are ${person?.name ?? me} (${person?.role ?? 'unknown'})`;
  top.append(title, who);

  const list = el('div', 'messages');
  list.id = 'messages';
  const channel = view === 'channel' ? state?.channel : view;
  const inChannel = (state?.messages ?? []).filter((m) => m.channel === channel && visible(m));
  const roots = inChannel.filter((m) => !m.thread_ts);
  if (roots.length === 0) {
    const empty = el('div', 'empty');
    empty.textContent =
      view === 'channel'
        ? 'Nothing here yet. Type /flags list below, or fire an alert from the sidebar.'
        : 'No messages.';
    list.append(empty);
  }
  for (const root of roots) {
    const replies = inChannel.filter((m) => m.thread_ts === root.ts);
    list.append(renderMessage(root, replies));
  }

  main.append(top, list);
  if (view === 'channel') main.append(renderComposer());
  return main;
}

function renderComposer(): HTMLElement {
  const composer = el('div', 'composer');
  const form = document.createElement('form');
  const input = document.createElement('input');
  input.id = 'composer';
  input.placeholder = `Message #${channelName()} — slash commands: /flags, /phase, /rollback, /runbook`;
  input.setAttribute('list', 'commands');
  input.autocomplete = 'off';
  input.value = draft;
  input.addEventListener('input', () => {
    draft = input.value;
  });
  const datalist = document.createElement('datalist');
  datalist.id = 'commands';
  for (const command of state?.commands ?? []) {
    for (const usage of command.usages) {
      const option = document.createElement('option');
      option.value = usage.replace(/\s*[[<].*$/, ' ').trimEnd();
      option.label = usage;
      datalist.append(option);
    }
  }
  const send = document.createElement('button');
  send.className = 'btn primary';
  send.type = 'submit';
  send.textContent = 'Send';
  form.append(input, datalist, send);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (!text.startsWith('/')) {
      hint = { text: 'The bot takes slash commands here, e.g. /flags list.', error: true };
      render();
      return;
    }
    draft = '';
    void call('command', { user: me, text });
  });
  const hintLine = el('div', `hint${hint.error ? ' error' : ''}`);
  hintLine.id = 'hint';
  hintLine.textContent = hint.text || (pending > 0 ? 'The bot is working…' : '');
  composer.append(form, hintLine);
  return composer;
}

function renderConfirm(): HTMLElement | undefined {
  if (!pendingConfirm) return undefined;
  const confirm = pendingConfirm.element.confirm as Record<string, { text?: string; type?: string }>;
  const background = el('div', 'modal-bg');
  const modal = el('div', 'modal');
  modal.setAttribute('role', 'dialog');
  const title = el('h3', '');
  title.textContent = confirm.title?.text ?? 'Are you sure?';
  const text = el('div', '');
  text.append(
    ...(confirm.text?.type === 'mrkdwn'
      ? mrkdwnNodes(confirm.text.text ?? '', names)
      : [document.createTextNode(confirm.text?.text ?? '')]),
  );
  const row = el('div', 'row');
  const go = pendingConfirm.go;
  row.append(
    control(confirm.deny?.text ?? 'Cancel', 'confirm-deny', () => {
      pendingConfirm = undefined;
      render();
    }),
    control(confirm.confirm?.text ?? 'Yes', 'confirm-yes', () => {
      pendingConfirm = undefined;
      go();
    }),
  );
  modal.append(title, text, row);
  background.append(modal);
  return background;
}

function render(): void {
  if (!state) return;
  const scroll = document.getElementById('messages');
  const atBottom = !scroll || scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 40;
  const focused = document.activeElement?.id;
  app.replaceChildren(renderSidebar(), renderMain());
  const modal = renderConfirm();
  if (modal) app.append(modal);
  app.dataset.state = 'ready';
  const list = document.getElementById('messages');
  if (list && atBottom) list.scrollTop = list.scrollHeight;
  if (focused === 'composer') document.getElementById('composer')?.focus();
}

const events = new EventSource('/sandbox/events');
events.addEventListener('state', (event) => {
  state = JSON.parse((event as MessageEvent<string>).data) as SandboxState;
  render();
});
events.addEventListener('error', () => {
  hint = { text: 'Lost the connection to the bot; retrying…', error: true };
  render();
});
