import { draftPostMortem, type PostMortem } from '../core/incidents/post-mortem.js';
import type { IncidentEvent, TimeWindow } from '../core/incidents/timeline.js';
import type { Chat } from '../ports/chat.js';

export interface IncidentServiceDeps {
  /** The bot's records as incident events (see `incidentEventReader`). */
  events: () => Promise<IncidentEvent[]>;
  chat: Chat;
  /** The incident channel: where the draft is shared. */
  channel: string;
  now: () => number;
}

/** `/incident timeline` and `GET /api/v1/incidents/timeline`: the post-mortem draft from the bot's records. */
export class IncidentService {
  constructor(private readonly deps: IncidentServiceDeps) {}

  now(): number {
    return this.deps.now();
  }

  async draft(window: TimeWindow): Promise<PostMortem> {
    return draftPostMortem(await this.deps.events(), window, this.deps.now());
  }

  /** Shares the draft as a Markdown file in the incident channel, through the outbox. */
  async share(
    window: TimeWindow,
    requestedBy: string,
  ): Promise<{ draft: PostMortem; channel: string; fileId: string }> {
    const upload = this.deps.chat.upload;
    if (!upload) throw new Error('this chat cannot share files');
    const draft = await this.draft(window);
    const shared = await upload.call(this.deps.chat, this.deps.channel, {
      kind: 'post-mortem',
      draft,
      requestedBy,
    });
    return { draft, ...shared };
  }
}
