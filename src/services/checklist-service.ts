import {
  applyChanges,
  type Checklist,
  type ChecklistEvent,
  type ChecklistItem,
  type ChecklistState,
  type ChecklistView,
  checklistView,
  maskItems,
  recordOverride,
  selectionChanges,
  untickedItems,
} from '../core/phases/checklists.js';
import type { DocumentStore } from '../ports/document-store.js';

export interface ChecklistServiceDeps {
  /** Every checklist of the plan (config `phases.checklists` applied). */
  checklists: readonly Checklist[];
  /** `STATE_DIR/phases/checklists.json`: the ticks and every change, with who and when. */
  store: DocumentStore<ChecklistState>;
  now: () => Date;
}

export type ClickOutcome =
  | { kind: 'changed'; events: ChecklistEvent[] }
  | { kind: 'unchanged' }
  /** The message shows a checklist that no longer exists or has other items (the config changed). */
  | { kind: 'stale' };

/**
 * The deployment checklists people tick in Slack: who ticked each item and when, kept durably with
 * every tick, untick and override as the record (the audit of the checklists).
 */
export class ChecklistService {
  constructor(private readonly deps: ChecklistServiceDeps) {}

  get all(): readonly Checklist[] {
    return this.deps.checklists;
  }

  find(id: string): Checklist | undefined {
    return this.deps.checklists.find((list) => list.id === id);
  }

  async views(lists: readonly Checklist[]): Promise<ChecklistView[]> {
    const state = await this.deps.store.read();
    return lists.map((list) => checklistView(list, state));
  }

  async unticked(id: string): Promise<{ list: Checklist; items: ChecklistItem[] } | undefined> {
    const list = this.find(id);
    if (!list) return undefined;
    return { list, items: untickedItems(list, await this.deps.store.read()) };
  }

  /**
   * A click on a checklist's checkboxes: `selected` is the whole selection Slack sends, `mask` what
   * that message showed. Only what the person changed is recorded, with them and the time.
   */
  async click(user: string, id: string, mask: string, selected: readonly string[]): Promise<ClickOutcome> {
    const list = this.find(id);
    const shown = list ? maskItems(list, mask) : undefined;
    if (!list || !shown) return { kind: 'stale' };
    const changes = selectionChanges(list, shown, new Set(selected));
    const at = this.deps.now().toISOString();
    const events = await this.deps.store.update((state) => {
      const applied = applyChanges(state, list, changes, user, at);
      return { next: applied.state, result: applied.events };
    });
    return events.length > 0 ? { kind: 'changed', events } : { kind: 'unchanged' };
  }

  /** An advance went ahead with unticked items: the reason is recorded with them. */
  async override(entry: {
    checklist: string;
    unticked: string[];
    reason: string;
    requestId: string;
    by: string;
  }): Promise<void> {
    const at = this.deps.now().toISOString();
    await this.deps.store.update((state) => {
      const applied = recordOverride(state, { ...entry, at });
      return { next: applied.state, result: undefined };
    });
  }

  /** The record, oldest first. */
  async events(): Promise<ChecklistEvent[]> {
    return (await this.deps.store.read()).events;
  }
}
