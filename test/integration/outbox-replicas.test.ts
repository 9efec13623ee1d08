/**
 * Several replicas over one outbox queue in the Kubernetes API server (the emulator, real
 * @kubernetes/client-node): jobs enqueued on any replica are sent once, by the Lease holder only,
 * into the Slack emulator; a follower's `deliver` gets the leader's result; on a handover the new
 * leader sends the rest, as uncertain, with its own term in the posts' metadata.
 */
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { webApi } from '@slack/bolt';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { slackJobExecutor } from '../../src/adapters/slack/alert-jobs.js';
import { type LeaseTerm, NotLeaderError } from '../../src/adapters/slack/not-leader.js';
import { Outbox } from '../../src/adapters/slack/outbox.js';
import type { SlackJob } from '../../src/adapters/slack/outbox-chat.js';
import { classifySlackError } from '../../src/adapters/slack/outbox-errors.js';
import type { OutboxJob } from '../../src/adapters/slack/outbox-journal.js';
import { SlackWebChat } from '../../src/adapters/slack/web-chat.js';
import { KubeOutboxJournal } from '../../src/adapters/storage/kube/kube-outbox-journal.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import { createLogger } from '../../src/logger.js';
import type { GroupStore } from '../../src/ports/alert-groups.js';
import { BOT_TOKEN, CHANNEL, tempDir } from '../support/bot.js';
import { eventually } from '../support/http.js';
import { kubectlFor, startSeededCluster } from '../support/kube.js';

const log = createLogger('silent');
let kube: KubeEmulator;
let slack: SlackEmulator;
let web: SlackWebChat;
let namespaceCount = 0;
let namespace: string;
let kubeConfig: KubeConfig;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  kube = await startSeededCluster();
  slack = new SlackEmulator({ botToken: BOT_TOKEN });
  await slack.start();
  web = new SlackWebChat(
    new webApi.WebClient(BOT_TOKEN, {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: webApi.LogLevel.ERROR,
    }),
    undefined,
    log,
  );
});
afterAll(async () => {
  await slack.stop();
  await kube.stop();
});
// Each test its own namespace (and channel history): the queues do not see each other's jobs.
beforeEach(() => {
  namespace = `outbox-${++namespaceCount}`;
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kube.kubeConfigYaml(namespace));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  slack.reset();
});

interface Call {
  id: string;
  uncertain: boolean;
  term?: LeaseTerm;
}

/** One replica: its own journal client over the shared queue, its own Outbox, and the calls it made. */
async function replica(options: {
  leading?: boolean;
  fence: () => LeaseTerm;
  /** Told of each call once it reached Slack. */
  afterCall?: (id: string) => void;
}) {
  const journal = new KubeOutboxJournal<SlackJob>({
    kubeConfig,
    namespace,
    queue: 'slack',
    log,
    watchRetryMs: 100,
  });
  const run = slackJobExecutor({
    web,
    store: {} as GroupStore,
    channel: CHANNEL,
    message: () => ({ silences: false, rollback: false }),
    log,
  });
  const calls: Call[] = [];
  const outbox = new Outbox<SlackJob>({
    journal,
    ...(options.leading !== undefined && { leading: options.leading }),
    fence: options.fence,
    execute: async (job, attempt) => {
      calls.push({
        id: attempt.id,
        uncertain: attempt.uncertain,
        ...(attempt.term && { term: attempt.term }),
      });
      const result = await run(job, attempt);
      options.afterCall?.(attempt.id);
      return result;
    },
    classify: classifySlackError,
    log,
    concurrency: 1,
  });
  await outbox.open();
  outbox.start();
  cleanups.push(async () => {
    await outbox.stop();
    await journal.stop();
  });
  return { journal, outbox, calls };
}

function post(id: string, key = 'K'): OutboxJob<SlackJob> {
  return { id, key, priority: 0, payload: { kind: 'post', channel: CHANNEL, text: `note ${id}` } };
}

/** The channel's messages by post id: how many of each, and the metadata of the first. */
function posts() {
  const byId = new Map<string, { count: number; ts: string; payload: Record<string, unknown> }>();
  for (const message of slack.messages(CHANNEL)) {
    const payload = message.metadata?.event_payload ?? {};
    const id = String(payload.post_id);
    const seen = byId.get(id);
    if (seen) seen.count++;
    else byId.set(id, { count: 1, ts: message.ts, payload });
  }
  return byId;
}

const notLeader = (): LeaseTerm => {
  throw new NotLeaderError('pod-b does not hold the Lease');
};

describe('outbox replicas over the Kubernetes journal', () => {
  it('sends every job once, from the leader only, wherever it was enqueued; the follower gets the result', async () => {
    const a = await replica({ fence: () => ({ holder: 'pod-a', transitions: 1 }) });
    // B starts as if it led, but its fence says no: its first call is refused and it follows.
    const b = await replica({ fence: notLeader });
    const first = b.outbox.deliver<{ channel: string; ts: string }>(post('b-1', 'B'));
    await eventually(() => expect(b.outbox.isLeading).toBe(false));
    const fromB = [
      first,
      ...['b-2', 'b-3'].map((id) => b.outbox.deliver<{ channel: string; ts: string }>(post(id, 'B'))),
    ];
    await a.outbox.enqueue(['a-1', 'a-2', 'a-3'].map((id) => post(id, 'A')));
    const results = await Promise.all(fromB);

    const ids = ['a-1', 'a-2', 'a-3', 'b-1', 'b-2', 'b-3'];
    await eventually(() => expect([...posts().keys()].sort()).toEqual(ids));
    await a.outbox.idle();
    expect(b.calls).toEqual([]);
    expect(a.calls.map((call) => call.id).sort()).toEqual(ids);
    const sent = posts();
    for (const id of ids) {
      expect(sent.get(id)).toMatchObject({
        count: 1,
        payload: { post_id: id, holder: 'pod-a', transitions: 1 },
      });
    }
    expect(results).toEqual(['b-1', 'b-2', 'b-3'].map((id) => ({ channel: CHANNEL, ts: sent.get(id)!.ts })));

    // What the API server holds, as kubectl shows it: six finished job objects of the slack queue.
    const kubectl = kubectlFor(kube.writeKubeconfig(join(tempDir(), 'kubeconfig'), namespace));
    const done = await kubectl.ok(
      'get',
      'configmaps',
      '-l',
      'switchyard.io/kind=outbox-job,switchyard.io/outbox=slack,switchyard.io/state=done',
      '-o',
      'name',
    );
    expect(done.trim().split('\n')).toHaveLength(6);
  });

  it('hands over mid-queue: the old leader stops before its next call, the new one sends the rest as uncertain', async () => {
    let aLeads = true;
    const a = await replica({
      fence: () => {
        if (!aLeads) throw new NotLeaderError('pod-a lost the Lease');
        return { holder: 'pod-a', transitions: 1 };
      },
      // The Lease is lost just as j-2 reached Slack (its write was made under the Lease).
      afterCall: (id) => {
        if (id === 'j-2') aLeads = false;
      },
    });
    const b = await replica({ leading: false, fence: () => ({ holder: 'pod-b', transitions: 2 }) });
    await a.outbox.enqueue(['j-1', 'j-2', 'j-3', 'j-4', 'j-5'].map((id) => post(id)));
    await eventually(() => expect(a.outbox.isLeading).toBe(false));
    expect(a.calls.map((call) => call.id)).toEqual(['j-1', 'j-2']);
    await eventually(() => expect(posts().size).toBe(2));

    const fences = await b.outbox.lead();
    expect(fences).toEqual([]);
    // Enqueued on the old leader once the new one leads: journalled there, sent here, answered there.
    const late = await a.outbox.deliver<{ channel: string; ts: string }>(post('j-6'));
    await eventually(() => expect(posts().size).toBe(6));
    await b.outbox.idle();

    expect(a.calls.map((call) => call.id)).toEqual(['j-1', 'j-2']);
    expect(b.calls.map((call) => call.id)).toEqual(['j-3', 'j-4', 'j-5', 'j-6']);
    const term = { holder: 'pod-b', transitions: 2 };
    expect(b.calls).toEqual([
      ...['j-3', 'j-4', 'j-5'].map((id) => ({ id, uncertain: true, term })),
      { id: 'j-6', uncertain: false, term },
    ]);
    const sent = posts();
    expect([...sent.values()].map((entry) => entry.count)).toEqual([1, 1, 1, 1, 1, 1]);
    for (const id of ['j-1', 'j-2']) {
      expect(sent.get(id)?.payload).toMatchObject({ holder: 'pod-a', transitions: 1 });
    }
    for (const id of ['j-3', 'j-4', 'j-5', 'j-6']) {
      expect(sent.get(id)?.payload).toMatchObject(term);
    }
    expect(late).toEqual({ channel: CHANNEL, ts: sent.get('j-6')!.ts });
  });
});
