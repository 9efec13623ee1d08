/** The user-group membership cache of AccessControl (60 s by default), on an injected clock. */
import { describe, expect, it } from 'vitest';
import type { Directory } from '../../../src/ports/directory.js';
import { AccessControl } from '../../../src/services/access.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** Slack's user groups as the test sets them; counts lookups. */
class Groups implements Directory {
  lookups = 0;
  failing = false;
  constructor(public members: Record<string, string[]>) {}
  async usergroupMembers(groupId: string): Promise<string[]> {
    this.lookups++;
    if (this.failing) throw new Error('slack is down');
    return [...(this.members[groupId] ?? [])];
  }
}

function setup() {
  const clock = { at: T0 };
  const groups = new Groups({ S0ONCALL: ['U1'] });
  const access = new AccessControl(
    { operators: ['S0ONCALL'], approvers: [] },
    groups,
    undefined,
    () => clock.at,
  );
  return { clock, groups, access };
}

describe('user-group cache (60 s by default)', () => {
  it('answers from the cache for 60 s: a member removed meanwhile still passes, without a lookup', async () => {
    const { clock, groups, access } = setup();
    expect((await access.check('U1', 'operator')).allowed).toBe(true);
    groups.members.S0ONCALL = [];
    clock.at = T0 + 59_999;
    expect((await access.check('U1', 'operator')).allowed).toBe(true);
    expect(groups.lookups).toBe(1);
  });

  it('looks the group up again at 60 s, so a removed member is refused', async () => {
    const { clock, groups, access } = setup();
    expect((await access.check('U1', 'operator')).allowed).toBe(true);
    groups.members.S0ONCALL = [];
    clock.at = T0 + 60_000;
    const decision = await access.check('U1', 'operator');
    expect(decision.allowed).toBe(false);
    expect(groups.lookups).toBe(2);
  });

  it('lets a member added to the group in only once the cache has expired', async () => {
    const { clock, groups, access } = setup();
    expect((await access.check('U2', 'operator')).allowed).toBe(false);
    groups.members.S0ONCALL = ['U1', 'U2'];
    clock.at = T0 + 30_000;
    expect((await access.check('U2', 'operator')).allowed).toBe(false);
    clock.at = T0 + 60_000;
    expect((await access.check('U2', 'operator')).allowed).toBe(true);
  });

  it('fails closed when the lookup after the expiry fails', async () => {
    const { clock, groups, access } = setup();
    expect((await access.check('U1', 'operator')).allowed).toBe(true);
    groups.failing = true;
    clock.at = T0 + 60_000;
    const decision = await access.check('U1', 'operator');
    expect(decision).toMatchObject({ allowed: false });
    expect(decision.allowed ? '' : decision.reason).toContain('could not check the operator user group');
  });
});
