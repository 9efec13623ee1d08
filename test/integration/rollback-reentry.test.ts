/**
 * Issue 10 item 1: rollback targets are safe by default. `kubectl rollout undo` of an undo brings back
 * the build that was just removed; the bot's default target skips a revision a rollback (the bot's or
 * kubectl's) moved away from within `rollback.reentryWindow`, says so, and `--to-revision` still
 * allows it with a warning. Against the kube emulator, and the real kubectl for the undo outside the bot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { API_TOKEN, CHANNEL, DEFAULT_CONFIG, OPERATOR, startTestBot, type TestBot } from '../support/bot.js';
import { eventually, getJson, sendJson, textOf } from '../support/http.js';
import { type Kubectl, kubectlFor, releaseImage, startSeededCluster } from '../support/kube.js';
import { clickConfirm } from '../support/slack.js';

const NS = 'messaging-system';
const CORE = 'registry.local/messaging-core';
const TIMING = 'registry.local/messaging-timing-engine';
let kube: KubeEmulator;
let kubectl: Kubectl;
let t: TestBot;

const image = (name: string) => kube.get('Deployment', NS, name)!.spec.template.spec.containers[0]!.image;
const revision = (name: string) =>
  kube.get('Deployment', NS, name)!.metadata.annotations?.['deployment.kubernetes.io/revision'];
const ask = (text: string) => t.client.slashCommand({ command: '/rollback', text, userId: OPERATOR });
const click = (body: unknown) => clickConfirm(t.slack, t.client, body, OPERATOR);
const enabled = async (flag: string) => (await getJson(`${t.url}/api/v1/features/${flag}`)).body.enabled;

/** The result posted in the thread of the latest rollback of `name` to `revision`. */
function result(name: string, toRevision: number) {
  return eventually(
    () => {
      const top = t.slack
        .messages(CHANNEL)
        .filter((m) => String(m.text).includes(`Rolling back \`${name}\` to revision ${toRevision}`))
        .at(-1);
      if (!top) throw new Error('no announcement yet');
      const found = t.slack
        .thread(CHANNEL, top.ts)
        .find((m) => /Rolled back|Rollback failed|not finished/.test(String(m.text)));
      if (!found) throw new Error('no result yet');
      return String(found.text);
    },
    20_000,
    100,
  );
}

beforeAll(async () => {
  kube = await startSeededCluster();
  await releaseImage(kube, 'messaging-core', `${CORE}:1.1.0`);
  await releaseImage(kube, 'messaging-timing-engine', `${TIMING}:1.1.0`);
  await releaseImage(kube, 'messaging-timing-engine', `${TIMING}:1.2.0`);
  t = await startTestBot({
    kube,
    rolloutTiming: { pollMs: 100, updateEveryMs: 300 },
    // `/rollback all` takes messaging-core only: the timing engine is for the kubectl case below.
    configYaml: `${DEFAULT_CONFIG}rollback:\n  deployments: [messaging-core]\n`,
  });
  kubectl = kubectlFor(kube.writeKubeconfig(`${t.stateDir}/kubectl-config`));
});
afterAll(async () => {
  await t?.stop();
  await kube?.stop();
});

describe('after a rollback by the bot', () => {
  it('/rollback all leaves the Deployment where the first rollback put it, saying why', async () => {
    const first = await ask('deployment messaging-core 1.1.0 is broken');
    const confirmation = textOf(first.body as never);
    expect(confirmation).toContain('from revision 2 to revision 1');
    expect(confirmation).toMatch(
      /Now: revision 2 · `registry\.local\/messaging-core:1\.1\.0`, created .* ago/,
    );
    expect(confirmation).toMatch(
      /After: revision 1 · `registry\.local\/messaging-core:1\.0\.0`, created .* ago/,
    );
    expect(await click(first.body)).toContain('Rolling back `messaging-core` to revision 1');
    // The result names the image read back from the cluster.
    expect(await result('messaging-core', 1)).toContain(
      `Now running \`${CORE}:1.0.0\` (revision 3), read back from the cluster.`,
    );
    expect(image('messaging-core')).toBe(`${CORE}:1.0.0`);

    await sendJson(
      'PUT',
      `${t.url}/api/v1/features/retry_logic`,
      { enabled: true, reason: 'setup' },
      { authorization: `Bearer ${API_TOKEN}` },
    );
    const all = await ask('all total outage');
    const text = textOf(all.body as never);
    expect(text).toContain('Roll back everything?');
    expect(text).toContain(
      'Deployment `messaging-core`: left out — `messaging-core` has nothing safe to go back to',
    );
    expect(text).toContain(
      `Skipped revision 2 (\`${CORE}:1.1.0\`): a rollback moved away from it (to revision 3) by <@${OPERATOR}> with the bot`,
    );
    expect(text).toContain('within the 1d reentry window');
    expect(text).not.toMatch(/Deployment `messaging-core` revision/);

    const done = await click(all.body);
    expect(done).toContain('Flags: turned off');
    expect(done).not.toContain('`messaging-core`');
    expect(await enabled('retry_logic')).toBe(false);
    expect(image('messaging-core')).toBe(`${CORE}:1.0.0`);
    expect(revision('messaging-core')).toBe('3');
  });

  it('--to-revision of the removed revision works, and warns', async () => {
    const named = await ask('deployment messaging-core --to-revision 2');
    const text = textOf(named.body as never);
    expect(text).toContain('from revision 3 to revision 2');
    expect(text).toContain(
      `:warning: Revision 2 (\`${CORE}:1.1.0\`) is what a rollback moved away from (to revision 3) by <@${OPERATOR}> with the bot`,
    );
    expect(text).toContain('this brings it back');
    expect(await click(named.body)).toContain('Rolling back `messaging-core` to revision 2');
    expect(await result('messaging-core', 2)).toContain(`Now running \`${CORE}:1.1.0\` (revision 4)`);
    expect(image('messaging-core')).toBe(`${CORE}:1.1.0`);
  });
});

describe('after a rollback outside the bot (kubectl rollout undo)', () => {
  it('skips the revision kubectl moved away from, to the newest one before it', async () => {
    await kubectl.ok('rollout', 'undo', 'deployment/messaging-timing-engine', '-n', NS);
    await kube.waitForRollout('messaging-timing-engine');
    expect(image('messaging-timing-engine')).toBe(`${TIMING}:1.1.0`);

    const asked = await ask('deployment messaging-timing-engine');
    const text = textOf(asked.body as never);
    expect(text).toContain('from revision 4 to revision 1');
    expect(text).toContain(`After: revision 1 · \`${TIMING}:1.0.0\``);
    expect(text).toContain(
      `Skipped revision 3 (\`${TIMING}:1.2.0\`): a rollback moved away from it (to revision 4) outside the bot`,
    );
    expect(await click(asked.body)).toContain('Rolling back `messaging-timing-engine` to revision 1');
    expect(await result('messaging-timing-engine', 1)).toContain(`Now running \`${TIMING}:1.0.0\``);
    expect(t.slack.violations).toEqual([]);
  });
});

describe('rollback.reentryWindow', () => {
  it('is read from the config; a bad duration is refused at start', async () => {
    const bad = startTestBot({ configYaml: `${DEFAULT_CONFIG}rollback:\n  reentryWindow: soon\n` });
    await expect(bad).rejects.toThrow(/reentryWindow.*expected a duration/);
  });
});
