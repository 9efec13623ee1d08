import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Deployment,
  KubeEmulator,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  seedMessagingSystem,
} from '../../src/emulators/kube/index.js';
import { CHANNEL, OPERATOR, OUTSIDER, startTestBot, type TestBot } from '../support/bot.js';
import { eventually, textOf } from '../support/http.js';
import { clickConfirm } from '../support/slack.js';

const NS = 'messaging-system';
const CAUSE = 'kubernetes.io/change-cause';

let kube: KubeEmulator;
let t: TestBot;

const deployment = (name: string) => kube.get('Deployment', NS, name)!;
const container = (name: string) => deployment(name).spec.template.spec.containers[0]!;

/** A template change, as `kubectl set image` + `set env` would make, with a change-cause. */
async function release(
  name: string,
  image: string,
  env: Record<string, string>,
  extra: Partial<Deployment['spec']> = {},
) {
  const d = deployment(name);
  const current = d.spec.template.spec.containers[0]!;
  kube.apply({
    ...d,
    metadata: { ...d.metadata, annotations: { ...d.metadata.annotations, [CAUSE]: `release ${image}` } },
    spec: {
      ...d.spec,
      ...extra,
      template: {
        ...d.spec.template,
        spec: {
          ...d.spec.template.spec,
          containers: [
            { ...current, image, env: Object.entries(env).map(([key, value]) => ({ name: key, value })) },
          ],
        },
      },
    },
  });
}

const rollback = (text: string, userId = OPERATOR) =>
  t.client.slashCommand({ command: '/rollback', text, userId });
const click = (body: unknown, userId = OPERATOR) => clickConfirm(t.slack, t.client, body, userId);
/** The thread under the channel message announcing a rollback of `name`, once its result is posted. */
async function finishedThread(name: string, timeoutMs = 20_000) {
  return eventually(
    () => {
      const top = t.slack
        .messages(CHANNEL)
        .filter((m) => String(m.text).includes(`Rolling back \`${name}\``))
        .at(-1);
      if (!top) throw new Error('no announcement yet');
      const thread = t.slack.thread(CHANNEL, top.ts);
      const result = thread.find((m) => /Rolled back|Rollback failed|not finished/.test(String(m.text)));
      if (!result) throw new Error('no result yet');
      return { top, thread, result };
    },
    timeoutMs,
    100,
  );
}

beforeAll(async () => {
  kube = new KubeEmulator({ podReadyAfterMs: 200 });
  await kube.start();
  seedMessagingSystem(kube);
  await release('messaging-core', 'registry.local/messaging-core:1.1.0', { DELIVERY_MODE: 'batch' });
  await kube.waitForRollout('messaging-core');
  await release('messaging-core', 'registry.local/messaging-core:1.2.0', {
    DELIVERY_MODE: 'stream',
    EXTRA: 'x',
  });
  await kube.waitForRollout('messaging-core');
  t = await startTestBot({ kube, rolloutTiming: { pollMs: 100, updateEveryMs: 300 } });
});
afterAll(async () => {
  await t.stop();
  await kube.stop();
});
afterEach(() => {
  kube.resetFaults();
  expect(t.slack.violations).toEqual([]);
});

describe('/rollback deployment against the cluster', () => {
  it('lists the Deployments with their revisions when no name is given', async () => {
    const reply = textOf((await rollback('deployment')).body as never);
    expect(reply).toContain('Deployments in messaging-system');
    expect(reply).toMatch(
      /`messaging-core` revision 3 · 2\/2 ready · `registry\.local\/messaging-core:1\.2\.0`/,
    );
    expect(reply).toMatch(/`messaging-retry-engine` revision 1 · 1\/1 ready/);
  });

  it('refuses a non-operator, from the command and from the confirm button', async () => {
    const denied = await rollback('deployment messaging-core', OUTSIDER);
    expect(textOf(denied.body as never)).toContain('Only operators may do this');
    const ask = await rollback('deployment messaging-core');
    expect(await click(ask.body, OUTSIDER)).toContain('Only operators may do this');
    expect(container('messaging-core').image).toBe('registry.local/messaging-core:1.2.0');
    expect(deployment('messaging-core').metadata.annotations?.[REVISION_ANNOTATION]).toBe('3');
  });

  it('restores revision N-1 as kubectl rollout undo does and reports the watched rollout with pods and logs', async () => {
    const ask = await rollback('deployment messaging-core bad release 1.2.0');
    const askText = textOf(ask.body as never);
    expect(askText).toContain('Roll back messaging-core from revision 3 to revision 2?');
    expect(askText).toMatch(/Now: revision 3 · `registry\.local\/messaging-core:1\.2\.0`, created .* ago/);
    expect(askText).toMatch(/After: revision 2 · `registry\.local\/messaging-core:1\.1\.0`, created .* ago/);
    expect(askText).toContain(
      'kubectl rollout undo deployment/messaging-core --to-revision=2 -n messaging-system',
    );
    expect(container('messaging-core').image).toBe('registry.local/messaging-core:1.2.0');

    const started = await click(ask.body);
    expect(started).toContain('Rolling back `messaging-core` to revision 2');
    expect(started).toMatch(/<https:\/\/slack\.com\/archives\/C0INCIDENTS\/p\d+\|in the thread>/);

    const { top, thread, result } = await finishedThread('messaging-core');
    expect(top.text).toBe(
      `:rewind: Rolling back \`messaging-core\` to revision 2 — requested by <@${OPERATOR}>, “bad release 1.2.0”`,
    );
    const progress = thread[0]!;
    expect(String(progress.text)).toContain('▓▓▓▓▓▓▓▓▓▓ 2/2 new pods available');
    expect(String(progress.text)).toContain('deployment "messaging-core" successfully rolled out');
    expect(
      t.slack.calls('chat.update').filter((c) => c.params.ts === progress.ts).length,
    ).toBeGreaterThanOrEqual(1);
    const resultText = textOf(result as never);
    expect(resultText).toContain('Rolled back* `messaging-core` to revision 2');
    const podLines = String(result.text).match(
      /`messaging-core-[a-z0-9]+-[a-z0-9]+` Running ready · restarts 0 · running · registry\.local\/messaging-core:1\.1\.0/g,
    );
    expect(podLines).toHaveLength(2);
    expect(resultText).toContain('Last 40 log lines of `messaging-core-');
    expect(resultText).toContain('INFO messaging-core started image=registry.local/messaging-core:1.1.0');

    // What kubectl does: revision 2's template (image and env), without pod-template-hash; the
    // Deployment's own revision bookkeeping kept, the ReplicaSet's change-cause restored.
    const d = deployment('messaging-core');
    expect(container('messaging-core')).toMatchObject({
      image: 'registry.local/messaging-core:1.1.0',
      env: [{ name: 'DELIVERY_MODE', value: 'batch' }],
    });
    expect(d.spec.template.metadata?.labels).not.toHaveProperty(POD_TEMPLATE_HASH_LABEL);
    expect(d.metadata.annotations).toEqual({
      [REVISION_ANNOTATION]: '4',
      [CAUSE]: 'release registry.local/messaging-core:1.1.0',
    });
    const replicaSets = kube
      .list('ReplicaSet', NS)
      .filter((rs) => rs.metadata.labels?.app === 'messaging-core');
    expect(replicaSets).toHaveLength(3);
    const restored = replicaSets.find((rs) => rs.metadata.annotations?.[REVISION_ANNOTATION] === '4');
    expect(restored?.metadata.annotations?.['deployment.kubernetes.io/revision-history']).toBe('2');
    expect(restored?.spec.template.spec.containers[0]?.image).toBe('registry.local/messaging-core:1.1.0');
  });

  it('picks the revision given with --to-revision', async () => {
    const ask = await rollback('deployment messaging-core --to-revision 1');
    expect(textOf(ask.body as never)).toContain('from revision 4 to revision 1?');
    await click(ask.body);
    await finishedThread('messaging-core');
    await eventually(() =>
      expect(deployment('messaging-core').metadata.annotations?.[REVISION_ANNOTATION]).toBe('5'),
    );
    expect(container('messaging-core').image).toBe('registry.local/messaging-core:1.0.0');
    expect(container('messaging-core')).not.toHaveProperty('env');
  });

  it('gives clear messages, and changes nothing, for an unknown revision, a paused Deployment and a 403', async () => {
    const unknown = textOf((await rollback('deployment messaging-core --to-revision 9')).body as never);
    expect(unknown).toContain('`messaging-core` has no revision 9 in its history. Nothing was changed.');
    expect(unknown).toContain('Revisions it has: 3, 4, 5.');

    const bad = textOf((await rollback('deployment messaging-core --to-revision two')).body as never);
    expect(bad).toContain('expected a revision number, e.g. --to-revision 3');

    const missing = textOf((await rollback('deployment messaging-nope')).body as never);
    expect(missing).toContain('There is no Deployment `messaging-nope` in namespace `messaging-system`.');

    const same = textOf((await rollback('deployment messaging-core --to-revision 5')).body as never);
    expect(same).toContain('Nothing to roll back: `messaging-core` already runs the template of revision 5');

    const fresh = textOf((await rollback('deployment messaging-retry-engine')).body as never);
    expect(fresh).toContain('`messaging-retry-engine` has no earlier revision to roll back to');

    // Both earlier revisions were rolled away from just now: nothing safe by default, and it says so.
    const unsafe = textOf((await rollback('deployment messaging-core')).body as never);
    expect(unsafe).toContain('`messaging-core` has nothing safe to go back to');
    expect(unsafe).toContain('Skipped revision 4');
    expect(unsafe).toContain('revision 3');
    expect(unsafe).toContain('--to-revision N');

    // Confirmed while running, then the Deployment was paused: refused at the click.
    const ask = await rollback('deployment messaging-core --to-revision 4');
    const d = deployment('messaging-core');
    kube.apply({ ...d, spec: { ...d.spec, paused: true } });
    expect(await click(ask.body)).toContain(
      '`messaging-core` is paused, and a paused Deployment cannot be rolled back. Nothing was changed.',
    );
    expect(textOf((await rollback('deployment messaging-core')).body as never)).toContain(
      'kubectl rollout resume deployment/messaging-core -n messaging-system',
    );
    kube.apply({
      ...deployment('messaging-core'),
      spec: { ...deployment('messaging-core').spec, paused: false },
    });

    const forbidden = await rollback('deployment messaging-core --to-revision 4');
    kube.deny('patch', 'deployments');
    const refused = await click(forbidden.body);
    expect(refused).toContain(
      'The cluster refused: patching Deployment messaging-core: deployments.apps "messaging-core" is forbidden',
    );
    expect(refused).toContain('Nothing was changed.');
    expect(container('messaging-core').image).toBe('registry.local/messaging-core:1.0.0');
    expect(deployment('messaging-core').metadata.annotations?.[REVISION_ANNOTATION]).toBe('5');

    kube.deny('list', 'replicasets');
    const cannotList = textOf((await rollback('deployment messaging-core')).body as never);
    expect(cannotList).toContain('The cluster refused: listing ReplicaSets');
  });

  it('reports a rollout that does not finish within its progress deadline as failed', async () => {
    await release(
      'messaging-timing-engine',
      'registry.local/messaging-timing-engine:crashloop',
      {},
      {
        progressDeadlineSeconds: 1,
      },
    );
    await eventually(
      () =>
        expect(
          deployment('messaging-timing-engine').status?.conditions?.find((c) => c.type === 'Progressing')
            ?.reason,
        ).toBe('ProgressDeadlineExceeded'),
      10_000,
    );
    await release('messaging-timing-engine', 'registry.local/messaging-timing-engine:1.0.1', {});
    await kube.waitForRollout('messaging-timing-engine');

    const ask = await rollback('deployment messaging-timing-engine');
    expect(textOf(ask.body as never)).toContain('from revision 3 to revision 2?');
    await click(ask.body);
    const { result } = await finishedThread('messaging-timing-engine');
    const text = textOf(result as never);
    expect(text).toContain('Rollback failed* `messaging-timing-engine` to revision 2');
    expect(text).toContain('deployment \\"messaging-timing-engine\\" exceeded its progress deadline');
    expect(text).toMatch(
      /not ready · restarts [1-9]\d* · waiting: CrashLoopBackOff · registry\.local\/messaging-timing-engine:crashloop/,
    );
    expect(text).toContain('ERROR fatal: health check failed, exiting');
  });
});

describe('without a cluster', () => {
  it('starts, is ready, and answers cluster commands with a clear message', async () => {
    const bare = await startTestBot();
    try {
      const ready = await fetch(`${bare.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { checks: object }).checks).toEqual({ store: 'ok', slack: 'ok' });
      const reply = await bare.client.slashCommand({
        command: '/rollback',
        text: 'deployment messaging-core',
        userId: OPERATOR,
      });
      expect(textOf(reply.body as never)).toContain('No cluster configured');
      const list = await bare.client.slashCommand({
        command: '/rollback',
        text: 'deployment',
        userId: OPERATOR,
      });
      expect(textOf(list.body as never)).toContain('No cluster configured');
      const help = await bare.client.slashCommand({ command: '/rollback', text: 'help', userId: OUTSIDER });
      expect(textOf(help.body as never)).toContain(
        '/rollback deployment &lt;name&gt; [--to-revision N] [reason]',
      );
      expect(textOf(help.body as never)).toContain('/rollback flags [reason]');
    } finally {
      await bare.stop();
    }
  });
});

describe('a rollout that does not finish while the bot watches it', () => {
  let slow: KubeEmulator;

  /** A cluster of its own where new pods take ten minutes to become ready; `messaging-core` at revision 2. */
  beforeEach(async () => {
    slow = new KubeEmulator({ podReadyAfterMs: 600_000 });
    await slow.start();
    seedMessagingSystem(slow);
    const d = slow.get('Deployment', NS, 'messaging-core')!;
    const [first] = d.spec.template.spec.containers;
    slow.apply({
      ...d,
      spec: {
        ...d.spec,
        template: {
          ...d.spec.template,
          spec: {
            ...d.spec.template.spec,
            containers: [{ ...first!, image: 'registry.local/messaging-core:1.1.0' }],
          },
        },
      },
    });
    slow.reconcile({ podsReadyNow: true });
    await slow.waitForRollout('messaging-core');
  });
  afterEach(async () => {
    await slow.stop();
  });

  /** Rolls `messaging-core` back to revision 1 through Slack; resolves once the watch has posted its progress. */
  async function startRollback(bot: TestBot) {
    const ask = await bot.client.slashCommand({
      command: '/rollback',
      text: 'deployment messaging-core',
      userId: OPERATOR,
    });
    expect(await clickConfirm(bot.slack, bot.client, ask.body, OPERATOR)).toContain(
      'Rolling back `messaging-core` to revision 1',
    );
    const top = await eventually(() => {
      const message = bot.slack
        .messages(CHANNEL)
        .filter((m) => String(m.text).includes('Rolling back `messaging-core`'))
        .at(-1);
      if (!message || bot.slack.thread(CHANNEL, message.ts).length === 0) throw new Error('no thread yet');
      return message;
    });
    return () => bot.slack.thread(CHANNEL, top.ts);
  }
  const finished = (text: unknown) =>
    /Stopped watching|Rolled back|not finished|Rollback failed/.test(String(text));

  it('says in the thread that it stopped watching when the bot shuts down, and stops promptly', async () => {
    // The watch would give up only after 15 minutes: a stop that returns at all (within the test's
    // timeout) did not wait for it, and the result must say it stopped, not that time ran out.
    const bot = await startTestBot({
      kube: slow,
      rolloutTiming: { pollMs: 100, updateEveryMs: 200, timeoutMs: 15 * 60_000 },
    });
    let stopped = false;
    try {
      const thread = await startRollback(bot);
      // Barrier: the watch is under way (it has polled the cluster since the thread was started).
      const polls = slow.requests.length;
      await eventually(() => {
        if (slow.requests.length <= polls) throw new Error('the watch has not polled yet');
      }, 20_000);
      expect(thread().some((m) => finished(m.text))).toBe(false);
      await bot.bot.stop();
      stopped = true;
      const results = thread().filter((m) => finished(m.text));
      expect(results).toHaveLength(1);
      const text = String(results[0]?.text);
      expect(text.split('\n')[0]).toMatch(
        /^:pause_button: \*Stopped watching\* `messaging-core` to revision 1: the bot is shutting down \(Waiting for deployment "messaging-core" rollout to finish: [^)]+\)\. The rollback itself was applied and goes on in the cluster; follow it with `kubectl rollout status deployment\/messaging-core -n messaging-system`\. The Deployment now asks for `registry\.local\/messaging-core:1\.0\.0` \(revision \d+\), read back from the cluster\.$/,
      );
      expect(text).toMatch(
        /`messaging-core-[a-z0-9]+-[a-z0-9]+` Pending not ready · restarts 0 · waiting: ContainerCreating · registry\.local\/messaging-core:1\.0\.0/,
      );
      expect(bot.slack.violations).toEqual([]);
    } finally {
      if (!stopped) await bot.bot.stop();
      await bot.slack.stop();
    }
  });

  it('reports the bot-side watch timeout as not finished, with what to do next', async () => {
    const bot = await startTestBot({
      kube: slow,
      rolloutTiming: { pollMs: 100, updateEveryMs: 200, timeoutMs: 1_500 },
    });
    try {
      const thread = await startRollback(bot);
      const result = await eventually(() => {
        const found = thread().find((m) => finished(m.text));
        if (!found) throw new Error('no result yet');
        return found;
      }, 10_000);
      const [head] = String(result.text).split('\n');
      expect(head).toMatch(
        /^:x: \*Rollback not finished in time\* `messaging-core` to revision 1: still not rolled out after 2s \(Waiting for deployment "messaging-core" rollout to finish: [^)]+\), so I stopped watching\. /,
      );
      expect(head).toContain(
        'The rollback itself was applied and goes on in the cluster. Next: check the pods below and follow it with `kubectl rollout status deployment/messaging-core -n messaging-system`; if the new pods never become ready, see why with `kubectl describe deployment/messaging-core -n messaging-system` and roll back further with `/rollback deployment messaging-core`.',
      );
      expect(String(result.text)).toMatch(/Pending not ready · restarts 0 · waiting: ContainerCreating/);
      // The progress message shows where it stood, not a finished rollout.
      expect(String(thread()[0]?.text)).toMatch(/^:hourglass_flowing_sand: [\s\S]*_Waiting for deployment/);
      expect(bot.slack.violations).toEqual([]);
    } finally {
      await bot.stop();
    }
  });
});
