import type { ChecklistView } from '../core/phases/checklists.js';
import type { Baseline } from '../core/phases/gates.js';
import type { PhaseRequest } from '../core/phases/request.js';
import { CHECKLIST_ACTIONS, CHECKLIST_BLOCK_PREFIX } from './action-ids.js';
import { safeUrl } from './alert-message.js';
import {
  actions,
  checkboxes,
  context,
  header,
  type KnownBlock,
  type RenderedMessage,
  section,
} from './blocks.js';
import { clip, escapeText, inlineCode, mention, plain, slackDate } from './text.js';

/** The block id of a checklist's checkboxes: which checklist, and which items the message shows ticked. */
export const checklistBlockId = (view: Pick<ChecklistView, 'id' | 'mask'>): string =>
  `${CHECKLIST_BLOCK_PREFIX}:${view.id}:${view.mask}`;

/**
 * A checklist people tick: its title with the count, one checkbox per item, and who ticked each item
 * and when. Operators and approvers may tick (checked again on every click).
 */
export function renderChecklist(view: ChecklistView): KnownBlock[] {
  const ticked = view.items.filter((item) => item.tick);
  const title = `*${escapeText(view.title)}* (${ticked.length}/${view.items.length} ticked)`;
  if (view.items.length === 0) return [section(`${title}\n_Nothing to tick._`)];
  const who = ticked.map(
    (item) =>
      `:ballot_box_with_check: ${plain(item.text, 100)} — ${mention(item.tick!.by)}, ${slackDate(item.tick!.at)}`,
  );
  return [
    section(title),
    actions(checklistBlockId(view), [
      checkboxes(
        CHECKLIST_ACTIONS.toggle,
        view.items.map((item) => ({ text: item.text, value: item.id })),
        new Set(ticked.map((item) => item.id)),
      ),
    ]),
    ...(who.length > 0 ? [context(who.join('\n'))] : []),
  ];
}

/** The checklist part of an advance request: all ticked, or what was left unticked and why it went ahead. */
function checklistLines(request: PhaseRequest): string[] {
  const list = request.checklist;
  if (!list) return [];
  if (list.unticked.length === 0) return [`Checklist: ${escapeText(list.title)} all ${list.total} ticked.`];
  const items = list.unticked.map((item) => `“${plain(item, 100)}”`).join(', ');
  const by = list.override ? ` by ${mention(list.override.by)}` : '';
  return [
    `:warning: ${escapeText(list.title)}: ${list.unticked.length} of ${list.total} not ticked (${items}); overridden${by}: “${plain(list.override?.reason ?? '', 500)}”`,
  ];
}

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
  const head =
    6 + (request.gateWarnings?.length ?? 0) + checklistLines(request).length + (request.baseline ? 1 : 0);
  const lines = [
    `*${escapeText(title)}*`,
    `Requested by ${mention(request.requester)}${request.reason ? `: “${plain(request.reason, 300)}”` : '.'}`,
    `Turns on: ${flags}`,
    `Gate checks: ${escapeText(request.gateSummary.join('; '))}`,
    ...(request.baseline ? [baselineLine(request.baseline)] : []),
    ...(request.gateWarnings ?? []).map((warning) => `:warning: Cannot be evaluated: ${escapeText(warning)}`),
    ...checklistLines(request),
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
