import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../core/duration.js';
import type { Rollaway, SkippedRevision } from '../core/rollout/reentry.js';
import type { RollbackHeadline, RolloutResult } from '../core/rollout/result.js';
import { progressBar, type RolloutStatus } from '../core/rollout/status.js';
import type { PodView } from '../core/rollout/types.js';
import { context, type RenderedMessage, section } from './blocks.js';
import { clip, escapeText, inlineCode, mention, plain } from './text.js';

/** Slack's limits: section text, blocks per message. */
const SECTION_MAX = 3000;
const BLOCKS_MAX = 50;

/** Who moved away from a revision, and when, as far as it is known. */
export function rollawayText(r: Rollaway, now: number): string {
  const when = r.at
    ? `${formatDuration(Math.max(0, now - Date.parse(r.at)))} ago`
    : r.notAfter
      ? `at most ${formatDuration(Math.max(0, now - Date.parse(r.notAfter)))} ago by its revision history`
      : 'at a time the revision history does not record';
  const who =
    r.source === 'bot' && r.by
      ? `by ${mention(r.by)} with the bot`
      : 'outside the bot (kubectl or a re-apply)';
  return `a rollback moved away from it (to revision ${r.toRevision}) ${who}, ${when}`;
}

/**
 * The one line of a confirmation saying which newer revisions the default target skipped, and why.
 * Undefined when none was skipped.
 */
export function skippedLine(
  skipped: readonly SkippedRevision[],
  windowMs: number,
  now: number,
): string | undefined {
  if (skipped.length === 0) return undefined;
  const parts = skipped.map(
    (s) =>
      `revision ${s.revision} (${s.images.map(inlineCode).join(', ') || 'no containers'}): ${rollawayText(s.rollaway, now)}`,
  );
  const it = skipped.length === 1 ? 'it' : 'them';
  return `:arrow_heading_down: Skipped ${parts.join('; ')} — within the ${formatDuration(windowMs)} reentry window (\`rollback.reentryWindow\`), so going back to ${it} would bring back what was removed. \`--to-revision\` still allows ${it}.`;
}

/** The warning when a named revision is one a rollback moved away from. */
export function reentryWarning(
  revision: number,
  images: readonly string[],
  r: Rollaway,
  now: number,
): string {
  return `:warning: Revision ${revision} (${images.map(inlineCode).join(', ') || 'no containers'}) is what ${rollawayText(r, now).replace(/^a rollback moved away from it/, 'a rollback moved away from')}: this brings it back.`;
}

export function announcement(h: RollbackHeadline): RenderedMessage {
  const why = h.reason ? `, “${plain(h.reason, 300)}”` : ', no reason given';
  const text = `:rewind: Rolling back ${inlineCode(h.deployment)} to revision ${h.revision} — requested by ${mention(h.requestedBy)}${why}`;
  return { text, blocks: [section(text)] };
}

export function progressMessage(
  deployment: string,
  status: RolloutStatus,
  elapsedMs: number,
): RenderedMessage {
  const p = status.progress;
  const icon =
    status.state === 'done'
      ? ':white_check_mark:'
      : status.state === 'failed'
        ? ':x:'
        : ':hourglass_flowing_sand:';
  // Old pods count as available too, and the status does not say which are which. At least this
  // many new pods are available (all old ones could be); exact once the old pods are gone.
  const oldPods = Math.max(0, p.total - p.updated);
  const done = Math.max(0, Math.min(p.updated, p.available - oldPods));
  const lines = [
    `${icon} ${inlineCode(deployment)} ${progressBar(done, p.desired)} ${done}/${p.desired} new pods available`,
    `updated ${p.updated}/${p.desired} · ready ${p.ready}/${p.desired} · available ${p.available}/${p.desired} · total pods ${p.total}`,
    `_${escapeText(status.message)}_ (${formatDuration(elapsedMs)})`,
  ];
  const text = lines.join('\n');
  return { text, blocks: [section(text)] };
}

const OUTCOME = {
  succeeded: ':white_check_mark: *Rolled back*',
  failed: ':x: *Rollback failed*',
  'timed-out': ':x: *Rollback not finished in time*',
  stopped: ':pause_button: *Stopped watching*',
  lost: ':warning: *Lost track of the rollout*',
} as const;

/** The final word in the thread: the outcome, the pods, and the last log lines of a new pod. */
export function resultMessage(r: RolloutResult): RenderedMessage {
  const images =
    r.running &&
    `${r.running.map(inlineCode).join(', ') || 'no containers'}${r.runningRevision !== undefined ? ` (revision ${r.runningRevision})` : ''}`;
  // Only a finished rollout runs the image; otherwise the Deployment asks for it.
  const running = !images
    ? ''
    : r.outcome === 'succeeded'
      ? ` Now running ${images}, read back from the cluster.`
      : ` The Deployment now asks for ${images}, read back from the cluster.`;
  const head = `${OUTCOME[r.outcome]} ${inlineCode(r.deployment)} to revision ${r.revision}: ${escapeText(r.message)}${running}`;
  const podLines = r.pods.map(podLine);
  const blocks: KnownBlock[] = [
    section(head),
    section(podLines.length > 0 ? `*Pods*\n${podLines.join('\n')}` : '*Pods*: none'),
  ];
  if (r.logs && 'text' in r.logs) {
    blocks.push(
      context(
        `Last ${r.logs.text.split('\n').filter(Boolean).length} log lines of ${inlineCode(r.logs.pod)} (${escapeText(r.logs.container)})`,
      ),
    );
    blocks.push(...codeSections(r.logs.text, SECTION_MAX).map(section));
  } else if (r.logs) {
    blocks.push(context(`No logs from ${inlineCode(r.logs.pod)}: ${plain(r.logs.error, 500)}`));
  }
  const text = `${head}\n${podLines.join('\n')}`;
  return { text: clip(text, 3000), blocks: blocks.slice(0, BLOCKS_MAX) };
}

function podLine(pod: PodView): string {
  const restarts = pod.containers.reduce((sum, c) => sum + c.restartCount, 0);
  const states = pod.containers.map((c) => c.state).join(', ');
  const images = pod.containers.map((c) => c.image).join(', ');
  return `${pod.ready ? ':large_green_circle:' : ':red_circle:'} ${inlineCode(pod.name)} ${escapeText(pod.phase)}${pod.ready ? ' ready' : ' not ready'} · restarts ${restarts} · ${escapeText(states)} · ${escapeText(images)}`;
}

/**
 * Text in code blocks of at most `max` characters each (fences included), split at line ends;
 * Slack's control characters escaped, a line longer than a block cut.
 */
export function codeSections(text: string, max: number): string[] {
  const fence = '```';
  const room = max - 2 * fence.length - 2;
  const lines = escapeText(text)
    .replace(/```/g, '`\u200b``')
    .split('\n')
    .filter((line, index, all) => line !== '' || index < all.length - 1)
    .map((line) => clip(line, room));
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (current.length > 0 && size + line.length + 1 > room) {
      chunks.push(current.join('\n'));
      current = [];
      size = 0;
    }
    current.push(line);
    size += line.length + 1;
  }
  if (current.length > 0) chunks.push(current.join('\n'));
  return chunks.map((chunk) => `${fence}\n${chunk}\n${fence}`);
}
