/** What the sandbox page and the CLI exchange with the bot's `/sandbox/api/*` routes (types only). */

export interface Person {
  id: string;
  name: string;
  /** What this person may do, as the bot's local configuration says. */
  role: string;
}

export interface SandboxReaction {
  name: string;
  users: string[];
  count: number;
}

export interface SandboxMessage {
  /** `channel:ts` for Slack messages, `eph:n` for ephemeral replies. */
  id: string;
  channel: string;
  ts: string;
  thread_ts?: string;
  user: string;
  text?: string;
  blocks?: unknown[];
  reactions?: SandboxReaction[];
  edited?: boolean;
  /** Shown only to this user ("Only visible to you"). */
  ephemeralTo?: string;
  /** Sequence number of its last change. */
  seq: number;
}

export interface CommandInfo {
  name: string;
  summary: string;
  usages: string[];
}

export interface SandboxState {
  channel: string;
  botUserId: string;
  people: Person[];
  commands: CommandInfo[];
  alerts: Array<{ name: string; severity: string }>;
  prometheusHealthy: boolean;
  messages: SandboxMessage[];
  /** Each person's App Home, as the bot last published it (views.publish); absent until they open it. */
  homeViews: Record<string, { type: 'home'; blocks: unknown[] }>;
}

/** The outcome of one request to the bot, once the bot has finished handling it. */
export interface Exchange {
  ok: boolean;
  /** Set when the request never reached the bot, or the bot refused it. */
  error?: string;
  /** Ephemeral replies (the ack body and response_url posts) for the person who asked. */
  replies: SandboxMessage[];
  /** Messages posted or changed in Slack meanwhile, in order. */
  posts: SandboxMessage[];
}
