/**
 * The bot against real kubectl, on two identically seeded emulator clusters: what `kubectl rollout
 * undo` (and `--to-revision`) does on cluster A must be what `/rollback deployment` does on cluster B,
 * and `kubectl rollout restart` must match the bot's restart after a flag change. kubectl is the
 * reference; the emulator is only trusted where real kubectl agrees with it. The steps run in order
 * on the same pair of clusters, which must stay identical after each one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Deployment,
  type KubeEmulator,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  type ReplicaSet,
} from '../../src/emulators/kube/index.js';
import { CHANNEL, DEFAULT_CONFIG, OPERATOR, startTestBot, type TestBot } from '../support/bot.js';
import { eventually, textOf } from '../support/http.js';
import { type Kubectl, kubectlFor, kubectlVersion, startSeededCluster } from '../support/kube.js';
import { confirmId } from '../support/slack.js';

const NS = 'messaging-system';
const CORE = 'messaging-core';
const RETRY = 'messaging-retry-engine';
const CAUSE = 'kubernetes.io/change-cause';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const HISTORY = 'deployment.kubernetes.io/revision-history';

interface Side {
  kube: KubeEmulator;
  kubectl: Kubectl;
  dir: string;
}

let a: Side;
let b: Side;
let bot: TestBot;

beforeAll(async () => {
  const probeDir = mkdtempSync(join(tmpdir(), 'kubectl-version-'));
  const version = await kubectlVersion(kubectlFor(join(probeDir, 'none')));
  rmSync(probeDir, { recursive: true, force: true });
  console.info(`kubectl differential tests with kubectl ${version}`);
  [a, b] = await Promise.all([seededSide(), seededSide()]);
  bot = await startTestBot({
    kube: b.kube,
    configYaml: `${DEFAULT_CONFIG}\nkubernetes:\n  restartOnFlagChange: [${RETRY}]\n`,
    rolloutTiming: { pollMs: 100, updateEveryMs: 300 },
  });
});

afterAll(async () => {
  await bot?.stop();
  for (const side of [a, b]) {
    await side?.kube.stop();
    if (side) rmSync(side.dir, { recursive: true, force: true });
  }
});

/**
 * A demo cluster whose messaging-core has three revisions (1.0.0, then 1.1.0 and 1.2.0 with a
 * change-cause and an env var each), built the same way every time.
 */
async function seededSide(): Promise<Side> {
  const kube = await startSeededCluster(100);
  for (const [image, mode] of [
    ['1.1.0', 'batch'],
    ['1.2.0', 'stream'],
  ] as const) {
    const d = kube.get('Deployment', NS, CORE)!;
    const container = d.spec.template.spec.containers[0]!;
    kube.apply({
      ...d,
      metadata: { ...d.metadata, annotations: { ...d.metadata.annotations, [CAUSE]: `release ${image}` } },
      spec: {
        ...d.spec,
        template: {
          ...d.spec.template,
          spec: {
            ...d.spec.template.spec,
            containers: [
              {
                ...container,
                image: `registry.local/messaging-core:${image}`,
                env: [{ name: 'DELIVERY_MODE', value: mode }],
              },
            ],
          },
        },
      },
    });
    kube.reconcile({ podsReadyNow: true });
  }
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-differential-'));
  return { kube, dir, kubectl: kubectlFor(kube.writeKubeconfig(join(dir, 'kubeconfig'))) };
}

/** A bound on waiting for the bot's answer (it fails the test with a clear message; never a sleep). */
const ANSWER_BOUND_MS = 30_000;

/**
 * A slash command's final answer: the ack, or on a busy machine what follows the interim
 * "Working on it…" ack through `response_url`.
 */
async function command(name: string, text: string): Promise<unknown> {
  const sent = await bot.client.slashCommand({ command: name, text, userId: OPERATOR });
  if (!/Working on it/.test(JSON.stringify(sent.body))) return sent.body;
  return (await bot.slack.waitForResponse((r) => r.url === sent.responseUrl, ANSWER_BOUND_MS)).body;
}

/** `/rollback deployment …` confirmed by an operator; resolves once the bot posts the result in the thread. */
async function botRollback(args: string): Promise<string> {
  const announcements = () =>
    bot.slack.messages(CHANNEL).filter((m) => String(m.text).includes('Rolling back'));
  const earlier = announcements().length;
  const ask = await command('/rollback', `deployment ${args}`);
  const click = await bot.client.blockAction({
    actionId: 'switchyard.confirm',
    value: confirmId(ask),
    userId: OPERATOR,
    responseUrl: bot.slack.createResponseUrl(),
  });
  const started = await bot.slack.waitForResponse((r) => r.url === click.responseUrl, ANSWER_BOUND_MS);
  expect(textOf(started.body as never)).toContain('Rolling back');
  const result = await eventually(
    () => {
      const top = announcements()[earlier];
      const reply =
        top &&
        bot.slack.thread(CHANNEL, top.ts).find((m) => /Rolled back|failed|not finished/.test(String(m.text)));
      if (!reply) throw new Error('no rollback result in the thread yet');
      return textOf(reply as never);
    },
    ANSWER_BOUND_MS,
    100,
  );
  expect(bot.slack.violations).toEqual([]);
  return result;
}

/** `kubectl rollout status`, which waits (on a watch) for the rollout: its exit code and last line. */
async function rolloutStatus(side: Side, name: string): Promise<{ code: number; last: string }> {
  const result = await side.kubectl('rollout', 'status', `deployment/${name}`, '--timeout=120s');
  const lines = result.stdout.trim().split('\n');
  return { code: result.code, last: `${lines.at(-1) ?? ''}${result.stderr.trim()}` };
}

/** The Deployment and its ReplicaSets as they matter to a rollback: templates, revisions, replicas. */
function snapshot(kube: KubeEmulator, name: string, mask: (template: unknown) => unknown = (t) => t) {
  const d = kube.get('Deployment', NS, name) as Deployment;
  const replicaSets = kube
    .list('ReplicaSet', NS)
    .filter((rs) => rs.metadata.labels?.app === name)
    .sort((a, b) => Number(revision(a)) - Number(revision(b)));
  return {
    deployment: {
      generation: d.metadata.generation,
      annotations: d.metadata.annotations,
      spec: { ...d.spec, template: mask(d.spec.template) },
      status: {
        replicas: d.status?.replicas,
        updatedReplicas: d.status?.updatedReplicas,
        availableReplicas: d.status?.availableReplicas,
        conditions: d.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      },
    },
    replicaSets: replicaSets.map((rs) => ({
      annotations: rs.metadata.annotations,
      replicas: rs.spec.replicas,
      template: mask(rs.spec.template),
    })),
    replicaSetNames: replicaSets.map((rs) => rs.metadata.name),
  };
}

const revision = (rs: ReplicaSet) => rs.metadata.annotations?.[REVISION_ANNOTATION];

describe('kubectl rollout undo vs /rollback deployment (real kubectl)', () => {
  it('starts from the same history on both clusters', async () => {
    expect(snapshot(b.kube, CORE)).toEqual(snapshot(a.kube, CORE));
    expect(await b.kubectl.ok('rollout', 'history', `deployment/${CORE}`)).toBe(
      await a.kubectl.ok('rollout', 'history', `deployment/${CORE}`),
    );
  });

  it('undo to the previous revision: same template, same ReplicaSets and revisions, same rollout status', async () => {
    const [statusA, statusB] = await Promise.all([
      (async () => {
        expect(await a.kubectl.ok('rollout', 'undo', `deployment/${CORE}`)).toContain('rolled back');
        return rolloutStatus(a, CORE);
      })(),
      (async () => {
        expect(await botRollback(CORE)).toContain(`Rolled back* \`${CORE}\` to revision 2`);
        return rolloutStatus(b, CORE);
      })(),
    ]);
    expect(statusA).toEqual({ code: 0, last: `deployment "${CORE}" successfully rolled out` });
    expect(statusB).toEqual(statusA);
    const after = snapshot(a.kube, CORE);
    expect(snapshot(b.kube, CORE)).toEqual(after);
    // kubectl's undo reused revision 2's ReplicaSet (now revision 4), as with a real API server.
    expect(
      after.replicaSets.map((rs) => [
        rs.annotations?.[REVISION_ANNOTATION],
        rs.annotations?.[HISTORY],
        rs.replicas,
      ]),
    ).toEqual([
      ['1', undefined, 0],
      ['3', undefined, 0],
      ['4', '2', 2],
    ]);
    expect(after.deployment.annotations).toEqual({ [REVISION_ANNOTATION]: '4', [CAUSE]: 'release 1.1.0' });
    expect(await b.kubectl.ok('rollout', 'history', `deployment/${CORE}`)).toBe(
      await a.kubectl.ok('rollout', 'history', `deployment/${CORE}`),
    );
  });

  it('undo --to-revision=1: the same on both sides', async () => {
    const [statusA, statusB] = await Promise.all([
      (async () => {
        const out = await a.kubectl.ok('rollout', 'undo', `deployment/${CORE}`, '--to-revision=1');
        expect(out).toContain('rolled back');
        return rolloutStatus(a, CORE);
      })(),
      (async () => {
        expect(await botRollback(`${CORE} --to-revision 1`)).toContain(
          `Rolled back* \`${CORE}\` to revision 1`,
        );
        return rolloutStatus(b, CORE);
      })(),
    ]);
    expect(statusA).toEqual({ code: 0, last: `deployment "${CORE}" successfully rolled out` });
    expect(statusB).toEqual(statusA);
    const after = snapshot(a.kube, CORE);
    expect(snapshot(b.kube, CORE)).toEqual(after);
    expect(after.replicaSets.map((rs) => [rs.annotations?.[REVISION_ANNOTATION], rs.replicas])).toEqual([
      ['3', 0],
      ['4', 0],
      ['5', 2],
    ]);
    expect(after.deployment.spec.template).toMatchObject({
      spec: { containers: [{ image: 'registry.local/messaging-core:1.0.0' }] },
    });
    // Revision 1 had no change-cause: kubectl drops the Deployment's, and so does the bot.
    expect(after.deployment.annotations).toEqual({ [REVISION_ANNOTATION]: '5' });
  });

  it('undo of a paused Deployment: both refuse, and change nothing', async () => {
    await Promise.all([a, b].map((side) => side.kubectl.ok('rollout', 'pause', `deployment/${CORE}`)));
    const before = snapshot(a.kube, CORE);
    expect(snapshot(b.kube, CORE)).toEqual(before);

    const undo = await a.kubectl('rollout', 'undo', `deployment/${CORE}`);
    expect(undo.code).not.toBe(0);
    expect(undo.stderr).toContain('you cannot rollback a paused deployment; resume it first');
    expect(textOf((await command('/rollback', `deployment ${CORE}`)) as never)).toMatch(/paused/);

    expect(snapshot(a.kube, CORE)).toEqual(before);
    expect(snapshot(b.kube, CORE)).toEqual(before);
    await Promise.all([a, b].map((side) => side.kubectl.ok('rollout', 'resume', `deployment/${CORE}`)));
  });
});

describe("kubectl rollout restart vs the bot's restart after a flag change (real kubectl)", () => {
  it('stamps the same annotation on the template and rolls one new ReplicaSet, with the same rollout status', async () => {
    const [statusA, statusB] = await Promise.all([
      (async () => {
        expect(await a.kubectl.ok('rollout', 'restart', `deployment/${RETRY}`)).toContain('restarted');
        return rolloutStatus(a, RETRY);
      })(),
      (async () => {
        expect(textOf((await command('/flags', 'enable retry_logic')) as never)).toContain('Done');
        await eventually(() => {
          const stamp = b.kube.get('Deployment', NS, RETRY)?.spec.template.metadata?.annotations?.[
            RESTARTED_AT
          ];
          if (!stamp) throw new Error('the bot has not restarted the Deployment yet');
        }, ANSWER_BOUND_MS);
        return rolloutStatus(b, RETRY);
      })(),
    ]);
    expect(statusA).toEqual({ code: 0, last: `deployment "${RETRY}" successfully rolled out` });
    expect(statusB).toEqual(statusA);
    // The time differs, so it is checked, then masked: a timestamp on both sides.
    const stamps: string[] = [];
    const mask = (template: unknown) => {
      const copy = structuredClone(template) as Deployment['spec']['template'];
      const stamp = copy.metadata?.annotations?.[RESTARTED_AT];
      if (stamp !== undefined) {
        stamps.push(stamp);
        copy.metadata!.annotations![RESTARTED_AT] = '<time>';
        // The hash is of the template, time included.
        if (copy.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL])
          copy.metadata.labels[POD_TEMPLATE_HASH_LABEL] = '<hash>';
      }
      return copy;
    };
    const { replicaSetNames: _a, ...after } = snapshot(a.kube, RETRY, mask);
    const { replicaSetNames: _b, ...afterBot } = snapshot(b.kube, RETRY, mask);
    expect(afterBot).toEqual(after);
    expect(stamps.length).toBeGreaterThanOrEqual(2);
    // RFC 3339 on both sides: kubectl writes whole seconds, the bot milliseconds (two restarts within
    // one second must still differ, or the second would roll nothing).
    for (const stamp of stamps)
      expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    expect(after.replicaSets.map((rs) => [rs.annotations?.[REVISION_ANNOTATION], rs.replicas])).toEqual([
      ['1', 0],
      ['2', 1],
    ]);
    const template = after.deployment.spec.template as Deployment['spec']['template'];
    expect(template.metadata?.annotations).toEqual({ [RESTARTED_AT]: '<time>' });
  });
});

describe('kubectl get against the emulator (real kubectl)', () => {
  it("prints the API server's Table columns for deployments, replicasets and configmaps", async () => {
    const deployments = await a.kubectl.ok('get', 'deployments');
    expect(deployments.split('\n')[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(deployments).toMatch(new RegExp(`\\n${CORE}\\s+2/2\\s+2\\s+2\\s+\\d+s\\n`));
    const replicaSets = await a.kubectl.ok('get', 'replicasets', '-l', `app=${RETRY}`, '-o', 'wide');
    expect(replicaSets.split('\n')[0]).toMatch(
      /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/,
    );
    expect(replicaSets).toMatch(
      /messaging-retry-engine-\w+\s+1\s+1\s+1\s+\d+s\s+messaging-retry-engine\s+registry\.local\/messaging-retry-engine:1\.0\.0\s+app=messaging-retry-engine,pod-template-hash=\w+/,
    );
    const maps = await a.kubectl.ok('get', 'configmaps');
    expect(maps).toMatch(/^NAME\s+DATA\s+AGE\nmessaging-feature-flags\s+23\s+\d+s\n$/);
  });
});
