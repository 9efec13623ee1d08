import type { Directory } from '../ports/directory.js';

/** Who may do something. Checked by the interaction router on every command, click and reaction. */
export type Permission = 'anyone' | 'operator' | 'approver' | 'operator-or-approver';

export type AccessDecision = { allowed: true } | { allowed: false; reason: string };

interface CachedGroup {
  members: Set<string>;
  fetchedAt: number;
}

const ROLE_KEYS = { operator: 'access.operators', approver: 'access.approvers' } as const;

/**
 * Who may do what, from the config's user and user-group IDs. Fails closed: an empty list, an
 * unknown group or a failed lookup all mean no.
 */
export class AccessControl {
  private readonly groups = new Map<string, CachedGroup>();

  constructor(
    private readonly lists: { operators: readonly string[]; approvers: readonly string[] },
    private readonly directory: Directory,
    private readonly cacheMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async check(userId: string, permission: Permission): Promise<AccessDecision> {
    if (permission === 'anyone') return { allowed: true };
    if (permission === 'operator-or-approver') {
      // Either role will do (ticking a checklist); both must say no, and a failed lookup stays a no.
      const operator = await this.check(userId, 'operator');
      if (operator.allowed) return operator;
      const approver = await this.check(userId, 'approver');
      if (approver.allowed) return approver;
      const lookupFailed = [operator, approver].find(
        (decision) => !decision.allowed && decision.reason.startsWith('I could not check'),
      );
      if (lookupFailed) return lookupFailed;
      return {
        allowed: false,
        reason: `Only operators and approvers may do this (\`access.operators\`, \`access.approvers\` in the config), and <@${userId}> is neither.`,
      };
    }
    const list = permission === 'operator' ? this.lists.operators : this.lists.approvers;
    const key = ROLE_KEYS[permission];
    if (list.length === 0) {
      return {
        allowed: false,
        reason: `No ${permission}s are configured (\`${key}\` is empty), so nobody may do this.`,
      };
    }
    if (list.includes(userId)) return { allowed: true };
    for (const entry of list.filter((id) => id.startsWith('S'))) {
      try {
        if ((await this.members(entry)).has(userId)) return { allowed: true };
      } catch {
        return {
          allowed: false,
          reason: `I could not check the ${permission} user group with Slack just now, so I am not letting this through. Try again in a minute.`,
        };
      }
    }
    return {
      allowed: false,
      reason: `Only ${permission}s may do this (\`${key}\` in the config), and <@${userId}> is not one. Ask an ${permission} to run it.`,
    };
  }

  private async members(groupId: string): Promise<Set<string>> {
    const cached = this.groups.get(groupId);
    if (cached && this.now() - cached.fetchedAt < this.cacheMs) return cached.members;
    const members = new Set(await this.directory.usergroupMembers(groupId));
    this.groups.set(groupId, { members, fetchedAt: this.now() });
    return members;
  }
}
