import type { Block } from '../commanding/reply.js';

export interface ChatMessage {
  text: string;
  blocks?: Block[];
  threadTs?: string;
}

/** Posting to the incident channel, independent of how the chat platform is reached. */
export interface Chat {
  post(channel: string, message: ChatMessage): Promise<{ channel: string; ts: string }>;
  update(channel: string, ts: string, message: ChatMessage): Promise<void>;
  /** Reachability for /readyz. */
  ping(): Promise<void>;
}
