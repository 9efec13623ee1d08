import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { CommandSpec } from '../commanding/spec.js';
import type { EmulatedMessage, RecordedResponse, SlackEmulator } from '../emulators/slack/emulator.js';
import { SignedSlackClient } from '../emulators/slack/signed-client.js';
import { alertmanagerPayload, chooseAlert, SEED_ALERTS, sendToWebhook } from './alerts.js';
import { unknownCommandError } from './commands.js';
import type { DemoPrometheus } from './demo-prometheus.js';
import type { Exchange, Person, SandboxMessage, SandboxState } from './protocol.js';

export interface SandboxOptions {
  emulator: SlackEmulator;
  signingSecret: string;
  channel: string;
  botUserId: string;
  people: readonly Person[];
  commands: readonly CommandSpec[];
  webhookToken: string;
  /** Absent when PROMETHEUS_URL points at a real one. */
  prometheus?: DemoPrometheus;
}

/** Where a response_url minted by the sandbox leads: whose reply it is, and which ephemeral it replaces. */
interface ResponseUrlOwner {
  user: string;
  channel: string;
  threadTs?: string;
  ephemeralId?: string;
}

export interface ActionRequest {
  user: string;
  /** `channel:ts` of a Slack message, or `eph:n` of an ephemeral reply; default: the newest with that button. */
  messageId?: string;
  actionId: string;
  blockId?: string;
  value?: string;
  /** For a select menu: the option chosen. */
  selected?: { value: string; text?: string };
  /** For checkboxes: the values of every option checked after the click (Slack sends them all). */
  checked?: string[];
}

/**
 * Drives the bot as people in a Slack workspace would, against the embedded emulator: slash commands,
 * clicks, menu choices, reactions, Alertmanager notifications. Each call waits until the bot has
 * finished handling it (its request handler returned and its queued work settled) and returns what
 * the person saw meanwhile. Ephemeral replies, which Slack shows only to one person and never
 * stores, are kept here so the page can show them.
 */
export class Sandbox {
  /** `changed` after anything visible changed; `handled` with a request id once the bot finished it. */
  readonly events = new EventEmitter<{ changed: []; handled: [string]; ephemeral: [SandboxMessage] }>();
  private botUrl: string | undefined;
  private settled: () => Promise<void> = async () => {};
  private client: SignedSlackClient | undefined;
  private readonly ephemerals: SandboxMessage[] = [];
  private ephemeralCount = 0;
  private lastTsMicros = 0;
  private readonly owners = new Map<string, ResponseUrlOwner>();
  private readonly alertStarts = new Map<string, Date>();

  constructor(private readonly options: SandboxOptions) {
    options.emulator.events.on('message', () => this.events.emit('changed'));
    options.emulator.events.on('view', () => this.events.emit('changed'));
    options.emulator.events.on('response', (response) => this.onResponse(response));
  }

  /** Called once the bot listens: where to send requests, and how to tell that it has finished. */
  attach(botUrl: string, settled: () => Promise<void>): void {
    this.botUrl = botUrl;
    this.settled = settled;
    this.client = new SignedSlackClient({
      eventsUrl: `${botUrl}/slack/events`,
      signingSecret: this.options.signingSecret,
      emulator: this.options.emulator,
    });
  }

  /** The Slack route reports here when its handler has returned (after the ack and the follow-ups). */
  requestHandled(requestId: string): void {
    this.events.emit('handled', requestId);
  }

  get webhookToken(): string {
    return this.options.webhookToken;
  }

  person(idOrName: string): Person | undefined {
    const wanted = idOrName.replace(/^@/, '').toLowerCase();
    return this.options.people.find((p) => p.id.toLowerCase() === wanted || p.name.toLowerCase() === wanted);
  }

  state(): SandboxState {
    return {
      channel: this.options.channel,
      botUserId: this.options.botUserId,
      people: [...this.options.people],
      commands: this.options.commands.map((command) => ({
        name: command.name,
        summary: command.summary,
        usages: command.subcommands.map((sub) => `${command.name} ${sub.usage}`),
      })),
      alerts: SEED_ALERTS.map((alert) => ({ name: alert.name, severity: alert.severity })),
      prometheusHealthy: this.options.prometheus?.healthy ?? true,
      messages: [...this.options.emulator.messages().map(toSandboxMessage), ...this.ephemerals].sort(byTs),
      homeViews: Object.fromEntries(
        this.options.emulator.homeViewList().map((published) => [published.user, published.view]),
      ),
    };
  }

  /** A slash command typed by `user` in the incident channel. */
  command(user: string, line: string): Promise<Exchange> {
    const match = /^\s*(\/[\w-]+)\s*([\s\S]*)$/.exec(line);
    if (!match)
      return Promise.resolve(refused(`"${line}" is not a slash command; type one like /flags list.`));
    const [, typed = '', text = ''] = match;
    const command = typed.toLowerCase();
    const unknown = unknownCommandError(command, this.options.commands);
    if (unknown) return Promise.resolve(refused(unknown));
    return this.exchange(user, async (client, requestId) => {
      const channel = this.options.channel;
      const responseUrl = this.mint({ user, channel }, { channel });
      const answer = await client.slashCommand({
        command,
        text: text.trim(),
        userId: user,
        userName: this.person(user)?.name,
        channelId: channel,
        responseUrl,
        headers: { 'x-request-id': requestId },
      });
      if (answer.status === 200 && answer.body && typeof answer.body === 'object') {
        this.addEphemeral(user, channel, undefined, answer.body as { text?: string; blocks?: unknown[] });
      }
      return answer.status;
    });
  }

  /** A click on a button, or a choice in a select menu, of a message or an ephemeral reply. */
  action(request: ActionRequest): Promise<Exchange> {
    const found = request.messageId
      ? undefined
      : this.messageWithAction(request.user, request.actionId, request.value);
    const messageId = request.messageId ?? found?.id;
    // A click named only by its action id carries the value of the button found.
    const value = request.value ?? found?.value;
    const ephemeral = this.ephemerals.find((m) => m.id === messageId);
    const message = ephemeral ?? (messageId ? this.findMessage(messageId) : undefined);
    if (!message) {
      return Promise.resolve(
        refused(
          messageId
            ? `No message ${messageId} to click on.`
            : `No message shows a button ${request.actionId}${request.value ? ` with value ${request.value}` : ''}.`,
        ),
      );
    }
    return this.exchange(request.user, async (client, requestId) => {
      const owner: ResponseUrlOwner = {
        user: request.user,
        channel: message.channel,
        threadTs: message.thread_ts,
        ephemeralId: ephemeral?.id,
      };
      // An ephemeral reply is not a Slack message: replace_original acts on it here, not in the emulator.
      const responseUrl = this.mint(
        owner,
        ephemeral ? { channel: message.channel } : { channel: message.channel, messageTs: message.ts },
      );
      const common = {
        actionId: request.actionId,
        blockId: request.blockId,
        userId: request.user,
        userName: this.person(request.user)?.name,
        channelId: message.channel,
        messageTs: ephemeral ? undefined : message.ts,
        threadTs: message.thread_ts,
        responseUrl,
        headers: { 'x-request-id': requestId },
      };
      const answer = request.checked
        ? await client.checkboxes({
            ...common,
            blockId: request.blockId ?? '',
            selected: request.checked.map((checked) => ({ value: checked })),
          })
        : request.selected
          ? await client.staticSelect({
              ...common,
              value: request.selected.value,
              optionText: request.selected.text,
            })
          : await client.blockAction({ ...common, value });
      return answer.status;
    });
  }

  /** A person adds (or removes) an emoji reaction: stored as Slack stores it, then the event to the bot. */
  reaction(user: string, messageId: string, name: string, added: boolean): Promise<Exchange> {
    const message = this.findMessage(messageId);
    if (!message) {
      return Promise.resolve(
        refused(`No message ${messageId} in Slack to react to (ephemeral replies take no reactions).`),
      );
    }
    const emoji = name.replace(/^:|:$/g, '');
    const { emulator } = this.options;
    return this.exchange(user, async (client, requestId) => {
      const error = added
        ? emulator.addReaction(message.channel, message.ts, emoji, user)
        : emulator.removeReaction(message.channel, message.ts, emoji, user);
      if (error) return `Slack refused the reaction: ${error}`;
      const answer = await client.event(
        {
          type: added ? 'reaction_added' : 'reaction_removed',
          user,
          reaction: emoji,
          item: { type: 'message', channel: message.channel, ts: message.ts },
          item_user: message.user,
          event_ts: nowTs(),
        },
        { headers: { 'x-request-id': requestId } },
      );
      return answer.status;
    });
  }

  /** A person opens the bot's Home tab: Slack sends `app_home_opened`, the bot publishes the view. */
  openHome(user: string): Promise<Exchange> {
    return this.exchange(user, async (client, requestId) => {
      const answer = await client.event(
        {
          type: 'app_home_opened',
          user,
          channel: `D${user.slice(1)}`,
          tab: 'home',
          event_ts: nowTs(),
        },
        { headers: { 'x-request-id': requestId } },
      );
      return answer.status;
    });
  }

  /** Fires or resolves an alert as Alertmanager would post it to the bot's webhook. */
  async alert(name: string, status: 'firing' | 'resolved', severity?: string): Promise<Exchange> {
    const choice = chooseAlert(name, severity);
    if (!choice.ok) return refused(choice.error);
    const botUrl = this.botUrl;
    if (!botUrl) return refused('The bot is not listening yet.');
    const { alert } = choice;
    const now = new Date();
    if (status === 'firing' && !this.alertStarts.has(alert.name)) this.alertStarts.set(alert.name, now);
    const startsAt = this.alertStarts.get(alert.name) ?? now;
    if (status === 'resolved') this.alertStarts.delete(alert.name);
    const seen = this.watch('');
    try {
      const answer = await sendToWebhook(
        botUrl,
        this.options.webhookToken,
        alertmanagerPayload(alert, status, now, startsAt),
      );
      if (answer.status !== 200) {
        return refused(`The webhook answered HTTP ${answer.status}: ${JSON.stringify(answer.body)}`);
      }
      await this.settled();
      return { ok: true, replies: [], posts: seen.posts() };
    } finally {
      seen.stop();
    }
  }

  /** False when PROMETHEUS_URL names a real Prometheus, which the sandbox does not control. */
  setPrometheusHealthy(healthy: boolean): boolean {
    if (!this.options.prometheus) return false;
    this.options.prometheus.setHealthy(healthy);
    this.events.emit('changed');
    return true;
  }

  // ---- internals ----------------------------------------------------------------------------------

  /** Sends one request and waits until the bot has handled it and has no work left. */
  private async exchange(
    user: string,
    /** The bot's HTTP status, or why the request was never sent. */
    send: (client: SignedSlackClient, requestId: string) => Promise<number | string>,
  ): Promise<Exchange> {
    const client = this.client;
    if (!client) return refused('The bot is not listening yet.');
    if (!this.person(user)) return refused(`Unknown person "${user}".`);
    const requestId = randomUUID();
    const handled = new Promise<void>((resolve) => {
      const listener = (id: string) => {
        if (id !== requestId) return;
        this.events.off('handled', listener);
        resolve();
      };
      this.events.on('handled', listener);
    });
    const seen = this.watch(user);
    try {
      const status = await send(client, requestId);
      if (typeof status === 'string') return refused(status);
      if (status !== 200) {
        return refused(
          status === 401
            ? 'The bot refused the request signature (HTTP 401).'
            : `The bot answered HTTP ${status}.`,
        );
      }
      await handled;
      await this.settled();
      return { ok: true, replies: seen.replies(), posts: seen.posts() };
    } finally {
      seen.stop();
    }
  }

  /** Collects what changes while a request is handled: posts in Slack, ephemeral replies to `user`. */
  private watch(user: string) {
    const posts = new Map<string, SandboxMessage>();
    const replies = new Map<string, SandboxMessage>();
    const onMessage = (message: EmulatedMessage) => {
      const view = toSandboxMessage(message);
      posts.delete(view.id); // keep the order of the last change
      posts.set(view.id, view);
    };
    const onEphemeral = (message: SandboxMessage) => {
      if (message.ephemeralTo !== user) return;
      replies.delete(message.id);
      replies.set(message.id, message);
    };
    this.options.emulator.events.on('message', onMessage);
    this.events.on('ephemeral', onEphemeral);
    return {
      posts: () => [...posts.values()],
      replies: () => [...replies.values()],
      stop: () => {
        this.options.emulator.events.off('message', onMessage);
        this.events.off('ephemeral', onEphemeral);
      },
    };
  }

  private mint(owner: ResponseUrlOwner, context: { channel: string; messageTs?: string }): string {
    const url = this.options.emulator.createResponseUrl(context);
    this.owners.set(url, owner);
    return url;
  }

  /** What Slack shows the clicking person after a response_url post to an ephemeral or a new reply. */
  private onResponse(response: RecordedResponse): void {
    const owner = this.owners.get(response.url);
    if (!owner || response.error) return;
    const body = response.body as {
      text?: string;
      blocks?: unknown[];
      response_type?: string;
      replace_original?: boolean | string;
      delete_original?: boolean | string;
      thread_ts?: string;
    };
    const original = owner.ephemeralId ? this.ephemerals.find((m) => m.id === owner.ephemeralId) : undefined;
    if (original && truthy(body.delete_original)) {
      this.ephemerals.splice(this.ephemerals.indexOf(original), 1);
      this.events.emit('changed');
      return;
    }
    if (original && truthy(body.replace_original)) {
      Object.assign(original, { text: body.text, blocks: body.blocks, seq: this.nextSeq(), edited: true });
      this.events.emit('ephemeral', { ...original });
      this.events.emit('changed');
      return;
    }
    // The emulator already applied replace/delete of a channel message and posted in_channel replies.
    if (body.response_type === 'in_channel' || truthy(body.replace_original) || truthy(body.delete_original))
      return;
    this.addEphemeral(owner.user, owner.channel, body.thread_ts ?? owner.threadTs, body);
  }

  private addEphemeral(
    user: string,
    channel: string,
    threadTs: string | undefined,
    body: { text?: string; blocks?: unknown[] },
  ): void {
    if (!body.text && !body.blocks) return;
    const message: SandboxMessage = {
      id: `eph:${++this.ephemeralCount}`,
      channel,
      ts: this.nextTs(),
      ...(threadTs ? { thread_ts: threadTs } : {}),
      user: this.options.botUserId,
      text: body.text,
      blocks: body.blocks,
      ephemeralTo: user,
      seq: this.nextSeq(),
    };
    this.ephemerals.push(message);
    this.events.emit('ephemeral', { ...message });
    this.events.emit('changed');
  }

  /** The newest message `user` can see with this button (and value), and the button's value. */
  private messageWithAction(
    user: string,
    actionId: string,
    value?: string,
  ): { id: string; value?: string } | undefined {
    const candidates = this.state()
      .messages.filter((m) => m.ephemeralTo === undefined || m.ephemeralTo === user)
      .reverse();
    const find = (node: unknown): Record<string, unknown> | undefined => {
      if (Array.isArray(node)) return node.map(find).find(Boolean);
      if (!node || typeof node !== 'object') return undefined;
      const element = node as Record<string, unknown>;
      if (element.action_id === actionId && (value === undefined || element.value === value)) return element;
      return Object.values(element).map(find).find(Boolean);
    };
    for (const message of candidates) {
      const element = find(message.blocks);
      if (element)
        return { id: message.id, value: typeof element.value === 'string' ? element.value : undefined };
    }
    return undefined;
  }

  private findMessage(id: string): SandboxMessage | undefined {
    const [channel, ts] = id.split(':');
    const message = this.options.emulator
      .messages(channel)
      .find((m) => m.ts === ts && m.ephemeralTo === undefined);
    return message && toSandboxMessage(message);
  }

  private nextTs(): string {
    this.lastTsMicros = Math.max(this.lastTsMicros + 1, Date.now() * 1000);
    return `${Math.floor(this.lastTsMicros / 1e6)}.${String(this.lastTsMicros % 1e6).padStart(6, '0')}`;
  }

  private nextSeq(): number {
    return Date.now();
  }
}

export function toSandboxMessage(message: EmulatedMessage): SandboxMessage {
  return {
    id: message.ephemeralTo ? `eph:${message.channel}:${message.ts}` : `${message.channel}:${message.ts}`,
    channel: message.channel,
    ts: message.ts,
    ...(message.thread_ts && message.thread_ts !== message.ts ? { thread_ts: message.thread_ts } : {}),
    user: message.user,
    ...(message.text !== undefined ? { text: message.text } : {}),
    ...(message.blocks ? { blocks: message.blocks } : {}),
    ...(message.reactions?.length ? { reactions: message.reactions } : {}),
    ...(message.edited ? { edited: true } : {}),
    ...(message.ephemeralTo ? { ephemeralTo: message.ephemeralTo } : {}),
    seq: message.seq,
  };
}

function refused(error: string): Exchange {
  return { ok: false, error, replies: [], posts: [] };
}

const truthy = (value: unknown) => value === true || value === 'true';
const byTs = (a: SandboxMessage, b: SandboxMessage) => Number(a.ts) - Number(b.ts);

function nowTs(): string {
  return (Date.now() / 1000).toFixed(6);
}
