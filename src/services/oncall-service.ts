export type { OncallTarget, OncallView, OpenSev1 } from '../core/oncall.js';

import { sentTierIndexes } from '../core/alerts/escalation.js';
import type { AlertGroupState } from '../core/alerts/group.js';
import {
  escalationChain,
  type NamedTier,
  nextPage,
  type OncallTarget,
  type OncallView,
  type OpenSev1,
} from '../core/oncall.js';
import type { GroupRecord } from '../ports/alert-groups.js';
import type { Directory } from '../ports/directory.js';

export interface OncallDeps {
  /** The alert groups (the durable group store). */
  groups: { all(): GroupRecord[] };
  tiers: readonly NamedTier[];
  /** `escalation.oncall`. */
  oncall?: string;
  /** Resolves user groups to their members (Slack's usergroups.users.list). */
  directory: Directory;
  now: () => number;
}

/** `/oncall`: the chain with role names, who each tier reaches, and who is paged next for each open sev1. */
export class OncallService {
  constructor(private readonly deps: OncallDeps) {}

  async view(): Promise<OncallView> {
    const now = this.deps.now();
    const chain = escalationChain(this.deps.oncall, this.deps.tiers);
    const groups = new Map<string, Promise<OncallTarget>>();
    const resolve = (id: string): Promise<OncallTarget> => {
      if (!id.startsWith('S')) return Promise.resolve({ id });
      let found = groups.get(id);
      if (!found) {
        found = this.deps.directory.usergroupMembers(id).then(
          (members) => ({ id, members }),
          (error: unknown) => ({ id, error: slackError(error) }),
        );
        groups.set(id, found);
      }
      return found;
    };
    const targets = (ids: readonly string[]) => Promise.all(ids.map(resolve));
    const open = this.deps.groups
      .all()
      .filter((record) => record.state.severity === 'sev1' && record.state.status === 'firing')
      .sort((a, b) => a.state.openedAt - b.state.openedAt);
    return {
      now,
      chain: await Promise.all(chain.map(async (step) => ({ ...step, targets: await targets(step.notify) }))),
      open: await Promise.all(
        open.map(async (record): Promise<OpenSev1> => {
          const { state } = record;
          const next = nextPage(state, this.deps.tiers, sentTierIndexes(state, record.sentEscalations));
          return {
            id: record.id,
            title: titleOf(state),
            openedAt: state.openedAt,
            ...(state.acknowledged && { acknowledged: state.acknowledged }),
            ...(state.silence && state.silence.until > now && { silencedUntil: state.silence.until }),
            ...(next && { next: { ...next, targets: await targets(next.notify) } }),
            ...(record.message && { message: record.message }),
          };
        }),
      ),
    };
  }
}

/** The group as people name it: its alert name and summary (plain text; the renderer escapes it). */
function titleOf(state: AlertGroupState): string {
  const name = state.commonLabels.alertname ?? state.groupLabels.alertname;
  const summary = state.commonAnnotations.summary;
  const title = [name, summary].filter(Boolean).join(' — ') || state.groupKey;
  return title.length > 150 ? `${title.slice(0, 149)}…` : title;
}

function slackError(error: unknown): string {
  const code = (error as { data?: { error?: string } }).data?.error;
  return code ?? (error instanceof Error ? error.message.slice(0, 100) : 'lookup failed');
}
