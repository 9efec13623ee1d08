import type { Phase } from './plan.js';

/**
 * The seed's deployment checklists as data people tick: each phase's (Phase 0's is the seed's
 * Pre-Deployment checklist) and the Post-Deployment checklist. Which items are ticked, by whom and
 * when, is a pure function of the recorded events; nothing here does I/O.
 */

/** One checkbox per item; Slack allows at most 10 options in a checkboxes element. */
export const MAX_CHECKLIST_ITEMS = 10;
/** Slack's limit for an option's text. */
export const MAX_ITEM_TEXT = 75;
/** The events kept in the record (the oldest are dropped beyond this). */
export const MAX_EVENTS = 2_000;

export const POST_DEPLOYMENT_CHECKLIST: readonly string[] = [
  'All feature flags stable',
  'Monitoring dashboards populated',
  'Documentation updated',
  'Team training completed',
  'Success metrics achieved',
];

export interface ChecklistItem {
  /** Stable across reordering and restarts: derived from the text (a changed text is a new item). */
  id: string;
  text: string;
}

export interface Checklist {
  /** `pre-deployment` (Phase 0), `phase-1` … `phase-N`, `post-deployment`. */
  id: string;
  title: string;
  items: ChecklistItem[];
}

export interface Tick {
  by: string;
  at: string;
}

export type ChecklistEvent =
  | {
      seq: number;
      at: string;
      by: string;
      action: 'tick' | 'untick';
      checklist: string;
      item: string;
      text: string;
    }
  | {
      seq: number;
      at: string;
      by: string;
      action: 'override';
      checklist: string;
      /** The items that were not ticked when the advance went ahead. */
      unticked: string[];
      reason: string;
      /** The phase advance request that overrode it. */
      requestId: string;
    };

/** What is stored: the ticks now, and every change that led to them (the audit). */
export interface ChecklistState {
  /** `<checklist id>/<item id>` → who ticked it and when. */
  ticks: Record<string, Tick>;
  events: ChecklistEvent[];
  seq: number;
}

export const emptyChecklistState = (): ChecklistState => ({ ticks: {}, events: [], seq: 0 });

/** FNV-1a (32 bit) of the text, as 8 hex digits: short enough for an option value, pure. */
export function itemId(text: string): string {
  let hash = 0x811c9dc5;
  for (const char of text.normalize('NFC')) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

export const tickKey = (checklist: string, item: string): string => `${checklist}/${item}`;

export function phaseChecklistId(phase: Pick<Phase, 'number'>): string {
  return phase.number === 0 ? 'pre-deployment' : `phase-${phase.number}`;
}

function checklistOf(id: string, title: string, texts: readonly string[]): Checklist {
  return { id, title, items: texts.map((text) => ({ id: itemId(text), text })) };
}

/** Every checklist of the plan, in order: one per phase, then Post-Deployment. */
export function planChecklists(phases: readonly Phase[], post: readonly string[]): Checklist[] {
  return [
    ...phases.map((phase) =>
      checklistOf(
        phaseChecklistId(phase),
        phase.number === 0 ? 'Pre-Deployment checklist' : `Phase ${phase.number} checklist`,
        phase.checklist,
      ),
    ),
    checklistOf('post-deployment', 'Post-Deployment checklist', post),
  ];
}

/**
 * The checklists that count while `current` is live: its own (to be done before advancing from it),
 * and at the last phase the Post-Deployment checklist too.
 */
export function checklistsInForce(all: readonly Checklist[], current: Phase, isLast: boolean): Checklist[] {
  const ids = [phaseChecklistId(current), ...(isLast ? ['post-deployment'] : [])];
  return ids.map((id) => all.find((list) => list.id === id)).filter((list): list is Checklist => !!list);
}

export interface ItemView extends ChecklistItem {
  tick?: Tick;
}

/** The items of a checklist with their ticks. */
export function viewChecklist(list: Checklist, state: ChecklistState): ItemView[] {
  return list.items.map((item) => {
    const tick = state.ticks[tickKey(list.id, item.id)];
    return tick ? { ...item, tick } : { ...item };
  });
}

export function untickedItems(list: Checklist, state: ChecklistState): ChecklistItem[] {
  return list.items.filter((item) => !state.ticks[tickKey(list.id, item.id)]);
}

/** One item set to ticked or not (set semantics: setting what is already so changes nothing). */
export interface ItemChange {
  item: string;
  ticked: boolean;
}

/**
 * What a click on a checkboxes element means. Slack sends the whole selection after the click; the
 * change is what differs from what that message showed (`shown`), not from the state now, so a click
 * on a message older than someone else's tick never unticks their item.
 */
export function selectionChanges(
  list: Checklist,
  shown: ReadonlySet<string>,
  selected: ReadonlySet<string>,
): ItemChange[] {
  const changes: ItemChange[] = [];
  for (const item of list.items) {
    const was = shown.has(item.id);
    const now = selected.has(item.id);
    if (was !== now) changes.push({ item: item.id, ticked: now });
  }
  return changes;
}

/** The ticked items of a rendered checklist as a compact mask (`1` ticked, `0` not), in item order. */
export function shownMask(list: Checklist, state: ChecklistState): string {
  return list.items.map((item) => (state.ticks[tickKey(list.id, item.id)] ? '1' : '0')).join('');
}

/** The item ids a mask says were shown ticked (a mask of another length is no view of this list). */
export function maskItems(list: Checklist, mask: string): Set<string> | undefined {
  if (mask.length !== list.items.length || !/^[01]*$/.test(mask)) return undefined;
  return new Set(list.items.filter((_, index) => mask[index] === '1').map((item) => item.id));
}

export interface Applied {
  state: ChecklistState;
  /** The events recorded: one per item whose state changed. */
  events: ChecklistEvent[];
}

/** Applies changes by one person at one time; items not in the list are ignored. */
export function applyChanges(
  state: ChecklistState,
  list: Checklist,
  changes: readonly ItemChange[],
  by: string,
  at: string,
): Applied {
  const ticks = { ...state.ticks };
  const events: ChecklistEvent[] = [];
  let seq = state.seq;
  for (const change of changes) {
    const item = list.items.find((candidate) => candidate.id === change.item);
    if (!item) continue;
    const key = tickKey(list.id, item.id);
    if (Boolean(ticks[key]) === change.ticked) continue;
    if (change.ticked) ticks[key] = { by, at };
    else delete ticks[key];
    seq += 1;
    events.push({
      seq,
      at,
      by,
      action: change.ticked ? 'tick' : 'untick',
      checklist: list.id,
      item: item.id,
      text: item.text,
    });
  }
  if (events.length === 0) return { state, events };
  return { state: { ticks, events: trim([...state.events, ...events]), seq }, events };
}

/** Records that an advance went ahead with unticked items, and why. */
export function recordOverride(
  state: ChecklistState,
  entry: { checklist: string; unticked: string[]; reason: string; requestId: string; by: string; at: string },
): Applied {
  const event: ChecklistEvent = { seq: state.seq + 1, action: 'override', ...entry };
  return { state: { ...state, events: trim([...state.events, event]), seq: event.seq }, events: [event] };
}

function trim(events: ChecklistEvent[]): ChecklistEvent[] {
  return events.length > MAX_EVENTS ? events.slice(events.length - MAX_EVENTS) : events;
}

export type AdvanceGate =
  | { ok: true; unticked: ChecklistItem[]; override?: string }
  | { ok: false; unticked: ChecklistItem[] };

/**
 * An advance needs the current phase's checklist all ticked, or an explicit override reason (which is
 * then recorded with the unticked items). An override with everything ticked overrides nothing.
 */
export function checklistGate(unticked: readonly ChecklistItem[], override: string | undefined): AdvanceGate {
  const reason = override?.trim();
  if (unticked.length === 0) return { ok: true, unticked: [] };
  if (!reason) return { ok: false, unticked: [...unticked] };
  return { ok: true, unticked: [...unticked], override: reason };
}

/** The checklist names `phases.checklists` may replace. */
export type ChecklistOverrides = Partial<Record<string, readonly string[]>>;

/** The plan's checklists with those the config names replaced (the rest stay as in the seed). */
export function configuredChecklists(
  phases: readonly Phase[],
  overrides: ChecklistOverrides = {},
  post: readonly string[] = POST_DEPLOYMENT_CHECKLIST,
): Checklist[] {
  const withItems = phases.map((phase) => ({
    ...phase,
    checklist: [...(overrides[phaseChecklistId(phase)] ?? phase.checklist)],
  }));
  return planChecklists(withItems, overrides['post-deployment'] ?? post);
}

/** A checklist as shown: its items with who ticked each and when, and the mask of what is shown. */
export interface ChecklistView {
  id: string;
  title: string;
  items: ItemView[];
  mask: string;
}

export function checklistView(list: Checklist, state: ChecklistState): ChecklistView {
  return { id: list.id, title: list.title, items: viewChecklist(list, state), mask: shownMask(list, state) };
}
