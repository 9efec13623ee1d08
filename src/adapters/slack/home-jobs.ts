import { randomUUID } from 'node:crypto';
import type { HomeView } from '../../messages/home.js';
import type { HomePublisher } from '../../ports/home.js';
import type { Outbox } from './outbox.js';
import { type HomeJob, PRIORITY, type SlackJob } from './outbox-chat.js';
import type { SlackWebChat } from './web-chat.js';

/** One conversation per user's Home: publishes to different users never wait for each other. */
export const homeKey = (user: string) => `home:${user}`;

/**
 * The App Home through the durable outbox: one job per user, coalesced (while one is pending, another
 * adds nothing: the view is rendered from the state when the job runs, so only the latest counts).
 * Opening Home goes before refreshes after a change.
 */
export class OutboxHomePublisher implements HomePublisher {
  constructor(private readonly outbox: Pick<Outbox<SlackJob>, 'enqueue'>) {}

  publish(users: readonly string[], why: 'opened' | 'changed'): Promise<void> {
    return this.outbox.enqueue(
      users.map((user) => ({
        id: randomUUID(),
        key: homeKey(user),
        coalesce: homeKey(user),
        priority: why === 'opened' ? PRIORITY.update : PRIORITY.refresh,
        payload: { kind: 'home', user } satisfies HomeJob,
      })),
    );
  }
}

/**
 * Runs `home` jobs. The outbox opens (and replays its journal) before the home service exists: a job
 * run before `attach` fails as an error not from Slack, so the outbox tries it again shortly (only that
 * user's Home waits; nothing else is held up).
 */
export class HomeJobRunner {
  private view: (() => Promise<HomeView>) | undefined;

  constructor(private readonly web: Pick<SlackWebChat, 'publishView'>) {}

  attach(view: () => Promise<HomeView>): void {
    this.view = view;
  }

  async run(job: HomeJob): Promise<undefined> {
    if (!this.view) throw new Error('the App Home is not ready yet');
    await this.web.publishView(job.user, await this.view());
    return undefined;
  }
}
