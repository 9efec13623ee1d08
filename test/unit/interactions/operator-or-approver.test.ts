/** `operator-or-approver` (who may tick a checklist): either role passes; both must refuse; fails closed. */
import { describe, expect, it } from 'vitest';
import type { Directory } from '../../../src/ports/directory.js';
import { AccessControl } from '../../../src/services/access.js';

const groups = (members: Record<string, string[]>, failing = false): Directory => ({
  async usergroupMembers(id) {
    if (failing) throw new Error('slack is down');
    return members[id] ?? [];
  },
});

describe('operator-or-approver', () => {
  it('lets operators and approvers through, directly or by user group, and nobody else', async () => {
    const access = new AccessControl(
      { operators: ['U0OP', 'S0ONCALL'], approvers: ['U0LEAD', 'S0LEADS'] },
      groups({ S0ONCALL: ['U0ONCALL'], S0LEADS: ['U0LEAD2'] }),
    );
    for (const user of ['U0OP', 'U0ONCALL', 'U0LEAD', 'U0LEAD2'])
      expect((await access.check(user, 'operator-or-approver')).allowed).toBe(true);
    const refused = await access.check('U0NOBODY', 'operator-or-approver');
    expect(refused).toEqual({
      allowed: false,
      reason:
        'Only operators and approvers may do this (`access.operators`, `access.approvers` in the config), and <@U0NOBODY> is neither.',
    });
  });

  it('fails closed: empty lists, or a group lookup that fails, mean no', async () => {
    expect(
      (
        await new AccessControl({ operators: [], approvers: [] }, groups({})).check(
          'U0A',
          'operator-or-approver',
        )
      ).allowed,
    ).toBe(false);
    const down = new AccessControl({ operators: ['S0ONCALL'], approvers: [] }, groups({}, true));
    const decision = await down.check('U0A', 'operator-or-approver');
    expect(decision.allowed).toBe(false);
    expect(!decision.allowed && decision.reason).toMatch(/could not check the operator user group/);
  });
});
