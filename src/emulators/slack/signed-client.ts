import { createHmac, randomBytes } from 'node:crypto';
import { type ResponseUrlContext, SlackEmulator } from './emulator.js';

/**
 * Sends what Slack sends to an app's request URL — slash commands, interactivity payloads, Events API
 * envelopes — signed exactly as Slack signs them, so the bot's real verification runs.
 */

/** Slack's request signature: `v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{raw body}`). */
export function signSlackRequest(secret: string, timestampSeconds: number, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestampSeconds}:${rawBody}`).digest('hex')}`;
}

export interface SignedSlackClientOptions {
  /** The bot's request URL, e.g. `http://127.0.0.1:3000/slack/events`. */
  eventsUrl: string;
  signingSecret: string;
  /** Mints response_urls: the emulator itself, or the URL of one in another process. */
  emulator?: SlackEmulator | { url: string };
  teamId?: string;
  teamDomain?: string;
  appId?: string;
  /** Clock in milliseconds (like `Date.now`); the signature timestamp is taken from it. */
  now?: () => number;
}

export interface SignedResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON, else the text ('' for a bare ack). */
  body: unknown;
}

export interface DeliveryOptions {
  /** Sends `X-Slack-Retry-Num` and `X-Slack-Retry-Reason: http_timeout`, as Slack does on a retry. */
  retryNum?: number;
  headers?: Record<string, string>;
}

export interface SlashCommandOptions extends DeliveryOptions {
  command: string;
  text?: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
  /** Default: minted from the emulator. */
  responseUrl?: string;
}

export interface BlockActionOptions extends DeliveryOptions {
  actionId: string;
  value?: string;
  blockId?: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
  messageTs?: string;
  threadTs?: string;
  /** The message the button sits on; default: looked up in an in-process emulator. */
  message?: { text?: string; blocks?: unknown[] };
  responseUrl?: string;
}

export interface StaticSelectOptions extends Omit<BlockActionOptions, 'value'> {
  value: string;
  optionText?: string;
}

export interface CheckboxesOptions extends Omit<BlockActionOptions, 'value'> {
  blockId: string;
  /** Every option selected after the click (Slack sends the whole selection, not the change). */
  selected: Array<{ value: string; text?: string }>;
}

export interface RawRequestOptions {
  body: string;
  contentType: string;
  /** Seconds; default now. */
  timestamp?: number;
  /** Default: computed from `secret`. */
  signature?: string;
  /** Default: the client's signing secret. */
  secret?: string;
  headers?: Record<string, string>;
}

const FORM = 'application/x-www-form-urlencoded'; // exactly: Bolt answers 400 when a charset is added

export class SignedSlackClient {
  private readonly options: SignedSlackClientOptions;
  private readonly teamId: string;
  private readonly now: () => number;

  constructor(options: SignedSlackClientOptions) {
    this.options = options;
    this.teamId = options.teamId ?? 'T0LOCAL';
    this.now = options.now ?? Date.now;
  }

  async slashCommand(opts: SlashCommandOptions): Promise<SignedResponse & { responseUrl: string }> {
    const channelId = opts.channelId ?? 'C0INCIDENTS';
    const userId = opts.userId ?? 'U0LOCAL';
    const responseUrl = opts.responseUrl ?? (await this.mintResponseUrl({ channel: channelId }));
    const form = new URLSearchParams({
      token: 'local-verification-token',
      team_id: this.teamId,
      team_domain: this.options.teamDomain ?? 'local',
      channel_id: channelId,
      channel_name: opts.channelName ?? channelName(channelId),
      user_id: userId,
      user_name: opts.userName ?? userId.toLowerCase(),
      command: opts.command,
      text: opts.text ?? '',
      api_app_id: this.appId,
      response_url: responseUrl,
      trigger_id: triggerId(),
    });
    const res = await this.raw({ body: form.toString(), contentType: FORM, headers: deliveryHeaders(opts) });
    return { ...res, responseUrl };
  }

  blockAction(opts: BlockActionOptions): Promise<SignedResponse & { responseUrl: string }> {
    return this.interaction(opts, {
      type: 'button',
      action_id: opts.actionId,
      block_id: opts.blockId ?? 'actions',
      text: { type: 'plain_text', text: opts.actionId, emoji: true },
      ...(opts.value === undefined ? {} : { value: opts.value }),
    });
  }

  staticSelect(opts: StaticSelectOptions): Promise<SignedResponse & { responseUrl: string }> {
    return this.interaction(opts, {
      type: 'static_select',
      action_id: opts.actionId,
      block_id: opts.blockId ?? 'actions',
      selected_option: {
        text: { type: 'plain_text', text: opts.optionText ?? opts.value },
        value: opts.value,
      },
    });
  }

  /** A click on a checkboxes element: its whole selection afterwards, as Slack sends it. */
  checkboxes(opts: CheckboxesOptions): Promise<SignedResponse & { responseUrl: string }> {
    const options = opts.selected.map((option) => ({
      text: { type: 'plain_text', text: option.text ?? option.value },
      value: option.value,
    }));
    return this.interaction(
      opts,
      { type: 'checkboxes', action_id: opts.actionId, block_id: opts.blockId, selected_options: options },
      { [opts.blockId]: { [opts.actionId]: { type: 'checkboxes', selected_options: options } } },
    );
  }

  /** An Events API `event_callback` envelope around `event`. */
  event(event: object, opts: DeliveryOptions = {}): Promise<SignedResponse> {
    const envelope = {
      token: 'local-verification-token',
      team_id: this.teamId,
      api_app_id: this.appId,
      event,
      type: 'event_callback',
      event_id: `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
      event_time: this.nowSeconds(),
    };
    return this.raw({
      body: JSON.stringify(envelope),
      contentType: 'application/json',
      headers: deliveryHeaders(opts),
    });
  }

  /** A request as given; signed with the client's secret unless `signature`/`secret`/`timestamp` say otherwise. */
  async raw(opts: RawRequestOptions): Promise<SignedResponse> {
    const timestamp = opts.timestamp ?? this.nowSeconds();
    const signature =
      opts.signature ?? signSlackRequest(opts.secret ?? this.options.signingSecret, timestamp, opts.body);
    const res = await fetch(this.options.eventsUrl, {
      method: 'POST',
      headers: {
        'content-type': opts.contentType,
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': signature,
        ...opts.headers,
      },
      body: opts.body,
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: parseMaybeJson(text, res.headers.get('content-type')),
    };
  }

  private async interaction(
    opts: Omit<BlockActionOptions, 'value'>,
    action: Record<string, unknown>,
    values: Record<string, unknown> = {},
  ): Promise<SignedResponse & { responseUrl: string }> {
    const channelId = opts.channelId ?? 'C0INCIDENTS';
    const userId = opts.userId ?? 'U0LOCAL';
    const responseUrl =
      opts.responseUrl ?? (await this.mintResponseUrl({ channel: channelId, messageTs: opts.messageTs }));
    const message = opts.messageTs ? this.messageFor(channelId, opts.messageTs, opts) : undefined;
    const payload = {
      type: 'block_actions',
      user: { id: userId, username: opts.userName ?? userId.toLowerCase(), team_id: this.teamId },
      api_app_id: this.appId,
      token: 'local-verification-token',
      container: {
        type: 'message',
        message_ts: opts.messageTs,
        channel_id: channelId,
        is_ephemeral: false,
        ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}),
      },
      trigger_id: triggerId(),
      team: { id: this.teamId, domain: this.options.teamDomain ?? 'local' },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: channelId, name: opts.channelName ?? channelName(channelId) },
      ...(message ? { message } : {}),
      state: { values },
      response_url: responseUrl,
      actions: [{ ...action, action_ts: (this.now() / 1000).toFixed(6) }],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const res = await this.raw({ body, contentType: FORM, headers: deliveryHeaders(opts) });
    return { ...res, responseUrl };
  }

  private messageFor(
    channelId: string,
    ts: string,
    opts: Pick<BlockActionOptions, 'message' | 'threadTs'>,
  ): Record<string, unknown> {
    const emulator = this.options.emulator;
    const stored =
      emulator instanceof SlackEmulator ? emulator.messages(channelId).find((m) => m.ts === ts) : undefined;
    const content = opts.message ?? stored ?? {};
    return {
      type: 'message',
      ts,
      text: content.text ?? '',
      ...(content.blocks ? { blocks: content.blocks } : {}),
      ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}),
    };
  }

  private async mintResponseUrl(context: ResponseUrlContext): Promise<string> {
    const emulator = this.options.emulator;
    if (emulator instanceof SlackEmulator) return emulator.createResponseUrl(context);
    if (!emulator) throw new Error('SignedSlackClient: pass responseUrl, or an emulator to mint one');
    const res = await fetch(`${emulator.url}/_emulator/response-url`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(context),
    });
    if (!res.ok) throw new Error(`SignedSlackClient: minting a response_url failed with HTTP ${res.status}`);
    return ((await res.json()) as { url: string }).url;
  }

  private get appId(): string {
    return this.options.appId ?? 'A0LOCAL';
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
}

function deliveryHeaders(opts: DeliveryOptions): Record<string, string> {
  const retry: Record<string, string> =
    opts.retryNum === undefined
      ? {}
      : { 'x-slack-retry-num': String(opts.retryNum), 'x-slack-retry-reason': 'http_timeout' };
  return { ...retry, ...opts.headers };
}

/** Slack's names for conversations whose name the app cannot see. */
function channelName(channelId: string): string {
  if (channelId.startsWith('D')) return 'directmessage';
  if (channelId.startsWith('G')) return 'privategroup';
  return channelId.toLowerCase();
}

function triggerId(): string {
  return `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(16).toString('hex')}`;
}

function parseMaybeJson(text: string, contentType: string | null): unknown {
  if (!text || !/json/i.test(contentType ?? '')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
