import type { Baseline } from '../core/phases/gates.js';
import type { PhaseRequest } from '../core/phases/request.js';
import { safeUrl } from './alert-message.js';
import { context, header, type RenderedMessage, section } from './blocks.js';
import { clip, escapeText, inlineCode, mention, plain } from './text.js';

const STATUS_LINE: Record<PhaseRequest['status'], string> = {
  open: ':hourglass_flowing_sand: Waiting for approvals.',
  checking: ':mag: Quorum reached: running the gate checks…',
  advanced: ':white_check_mark: Approved and advanced.',
  blocked: ':no_entry: Approved, but blocked by the gate checks. Nothing was changed.',
  failed: ':warning: Approved, but the advance failed. Nothing was changed.',
  expired: ':hourglass: Expired without the quorum. Nothing was changed.',
  cancelled: ':no_entry_sign: Cancelled. Nothing was changed.',
  superseded: ':fast_forward: Superseded by a newer request. Nothing was changed.',
};

/** The status line; a cancelled request names who cancelled it. */
function statusLine(request: PhaseRequest): string {
  if (request.status === 'cancelled' && request.cancelledBy) {
    return `:no_entry_sign: Cancelled by ${mention(request.cancelledBy)}. Nothing was changed.`;
  }
  return STATUS_LINE[request.status];
}

/** The approval request, top-level in the channel; updated in place as approvals and gates come in. */
export function renderPhaseRequest(request: PhaseRequest): RenderedMessage {
  const title = `Phase advance: Phase ${request.from.number} — ${request.from.name} → Phase ${request.to.number} — ${request.to.name}`;
  const flags = request.toEnable.map(inlineCode).join(', ') || 'nothing new (its flags are on)';
  const approved = request.approvals.length > 0 ? request.approvals.map(mention).join(', ') : 'nobody yet';
  // The request part (title to approvals), then the state part.
  const head = 6 + (request.gateWarnings?.length ?? 0) + (request.baseline ? 1 : 0);
  const lines = [
    `*${escapeText(title)}*`,
    `Requested by ${mention(request.requester)}${request.reason ? `: “${plain(request.reason, 300)}”` : '.'}`,
    `Turns on: ${flags}`,
    `Gate checks: ${escapeText(request.gateSummary.join('; '))}`,
    ...(request.baseline ? [baselineLine(request.baseline)] : []),
    ...(request.gateWarnings ?? []).map((warning) => `:warning: Cannot be evaluated: ${escapeText(warning)}`),
    `Needs ${request.required} approval${request.required === 1 ? '' : 's'} from approvers; react with :white_check_mark:. The requester's own does not count.`,
    `Approved by (${request.approvals.length}/${request.required}): ${approved}`,
    statusLine(request),
    ...(request.gates ?? []).map(
      (gate) =>
        `${gate.passed ? ':white_check_mark:' : ':x:'} ${escapeText(`${gate.name}: ${gate.detail}`)}${queryLink(gate.link)}`,
    ),
    ...(request.outcome ? [escapeText(request.outcome)] : []),
  ];
  return {
    text: clip(lines.join('\n').replace(/\*/g, ''), 3_000),
    blocks: [
      header(clip(title, 150)),
      section(lines.slice(1, head).join('\n')),
      section(lines.slice(head).join('\n')),
      context(
        `Expires ${request.expiresAt.replace('T', ' ').slice(0, 16)} UTC. One request at a time: the requester or an operator can end it with \`/phase cancel\`.`,
      ),
    ],
  };
}

/** The outcome, in the request's thread; an advance names who approved it. */
export function renderPhaseOutcome(request: PhaseRequest): RenderedMessage {
  const outcome = escapeText(request.outcome ?? STATUS_LINE[request.status]);
  const approvers =
    request.status === 'advanced' && request.approvals.length > 0
      ? ` Approved by ${request.approvals.map(mention).join(', ')}.`
      : request.status === 'cancelled' && request.cancelledBy
        ? ` Cancelled by ${mention(request.cancelledBy)}.`
        : '';
  return { text: clip(`${outcome}${approvers}`, 3_000) };
}

/** " · <…|query in Prometheus>" for a gate whose query has a link; nothing otherwise. */
function queryLink(link: string | undefined): string {
  const url = safeUrl(link);
  return url ? ` · <${url.replace(/&/g, '&amp;')}|query in Prometheus>` : '';
}

/** Which baseline the "no degradation" checks compare with, and its values. */
function baselineLine(baseline: Baseline): string {
  const when =
    baseline.source === 'phase-start'
      ? `captured when Phase ${baseline.phase} began`
      : `none was kept for Phase ${baseline.phase}, so captured when this advance was asked`;
  const values = Object.entries(baseline.values).map(
    ([name, value]) => `${name} ${Number(value.toPrecision(4))}`,
  );
  const missing = Object.keys(baseline.missing ?? {}).map((name) => `${name} no data`);
  return escapeText(
    `Baseline (${when}, ${baseline.capturedAt.replace('T', ' ').slice(0, 16)} UTC): ${[...values, ...missing].join(', ') || 'nothing'}`,
  );
}
