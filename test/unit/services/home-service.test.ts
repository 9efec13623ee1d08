/**
 * The home service: what the App Home shows, gathered from the bot's state, and when it is published
 * again (only to those who opened it, only when what it shows changed).
 */
import { describe, expect, it } from 'vitest';
import { escalationKey } from '../../../src/core/alerts/escalation.js';
import { acknowledge, applyNotification } from '../../../src/core/alerts/group.js';
import { next, startRun } from '../../../src/core/runbooks/run.js';
import { SEED_RUNBOOKS } from '../../../src/core/runbooks/seed.js';
import { createLogger } from '../../../src/logger.js';
import { type GroupRecord, groupIdOf } from '../../../src/ports/alert-groups.js';
import type { DocumentStore } from '../../../src/ports/document-store.js';
import { HomeService, type HomeUsers, MAX_HOME_USERS } from '../../../src/services/home-service.js';
import type { PhaseRequests } from '../../../src/services/phase-request.js';
import type { RunbookRuns } from '../../../src/services/runbook-service.js';
import { memoryServices } from '../../support/memory-flags.js';
import { firing, HOUR, MINUTE, notification, T0 } from '../alerts/builders.js';

class MemoryDocument<T> implements DocumentStore<T> {
  constructor(public value: T) {}
  async read() {
    return this.value;
  }
  async update<R>(change: (current: T) => { next: T; result: R } | Promise<{ next: T; result: R }>) {
    const { next: value, result } = await change(this.value);
    this.value = value;
    return result;
  }
}

const TIERS = [
  { after: 15 * MINUTE, notify: ['U0TEAMLEAD'] },
  { after: HOUR, notify: ['U0ENGMGR'] },
  { after: 4 * HOUR, notify: [] },
];

function group(key: string, change: (record: GroupRecord) => GroupRecord = (r) => r): GroupRecord {
  const { state } = applyNotification(undefined, notification([firing(key, T0)], { groupKey: key }), T0);
  return change({ id: groupIdOf(key), state, sentEscalations: [] });
}

function setup() {
  const { services } = memoryServices(() => new Date(T0));
  const requests = new MemoryDocument<PhaseRequests>({});
  const runs = new MemoryDocument<RunbookRuns>({});
  const users = new MemoryDocument<HomeUsers>({ users: [] });
  const groups: GroupRecord[] = [];
  const published: Array<{ users: readonly string[]; why: string }> = [];
  const home = new HomeService({
    channel: 'C0INCIDENTS',
    flags: services.flags,
    phaseRequests: requests,
    runbookRuns: runs,
    runbooks: SEED_RUNBOOKS,
    groups: { firing: () => groups.filter((record) => record.state.status === 'firing') },
    escalation: { oncall: 'S0ONCALL', tiers: TIERS },
    users,
    publisher: {
      publish: async (to, why) => {
        published.push({ users: [...to], why });
      },
    },
    log: createLogger('silent'),
  });
  return { home, services, requests, runs, users, groups, published };
}

const request = (id: string, status: string) =>
  ({
    id,
    from: { number: 0, name: 'Pre-Deployment' },
    to: { number: 1, name: 'Foundation' },
    toEnable: ['retry_logic'],
    gateSummary: [],
    requester: 'U0OPERATOR',
    required: 2,
    requestedAt: new Date(T0).toISOString(),
    expiresAt: new Date(T0 + HOUR).toISOString(),
    approvals: ['U0LEAD1'],
    status,
    channel: 'C0INCIDENTS',
    ts: `1.00000${id.length}`,
  }) as PhaseRequests[string];

describe('HomeService.state', () => {
  it('gathers the phase, changed flags with who, open groups with the next page, open requests and running runbooks', async () => {
    const { home, services, requests, runs, groups } = setup();
    await services.flags.set('retry_logic', true, {
      actor: { id: 'U0OPERATOR' },
      via: 'slack',
      reason: 'why',
    });
    requests.value = { a: request('a', 'open'), b: request('bb', 'advanced') };
    const runbook = SEED_RUNBOOKS[0]!;
    const started = startRun('r1', runbook.name, runbook.steps.length, 'U0LEAD2', new Date(T0).toISOString());
    const onStep2 = next(started, { type: 'done', step: 0, by: 'U0LEAD2', at: new Date(T0).toISOString() });
    runs.value = {
      r1: { run: onStep2, channel: 'C0INCIDENTS', ts: '2.000001', stepTs: [] },
      r2: {
        run: { ...started, id: 'r2', completedAt: new Date(T0).toISOString() },
        channel: 'C0INCIDENTS',
        ts: '2.000002',
        stepTs: [],
      },
    };
    // The team lead was paged already: the engineering manager is next, an hour after the group opened.
    groups.push(
      group('paged', (r) => ({ ...r, sentEscalations: [escalationKey(r.state, 0)] })),
      group('acked', (r) => ({ ...r, state: acknowledge(r.state, 'U0OPERATOR', T0 + MINUTE) })),
      group('gone', (r) => ({ ...r, state: { ...r.state, status: 'resolved' } })),
    );

    const state = await home.state();
    expect(state.phase.current).toEqual({ number: 0, name: 'Pre-Deployment' });
    expect(state.phase.next?.number).toBe(1);
    expect(state.phase.next?.toEnable).not.toContain('retry_logic');
    expect(state.flags).toEqual([
      expect.objectContaining({ key: 'retry_logic', enabled: true, by: 'U0OPERATOR', reason: 'why' }),
    ]);
    expect(state.approvals).toHaveLength(1);
    expect(state.approvals[0]).toMatchObject({
      from: '0 Pre-Deployment',
      to: '1 Foundation',
      approvals: ['U0LEAD1'],
    });
    expect(state.runbooks).toEqual([
      expect.objectContaining({
        title: runbook.title,
        step: 2,
        steps: runbook.steps.length,
        startedBy: 'U0LEAD2',
      }),
    ]);
    expect(state.alerts).toHaveLength(2);
    const [paged, acked] = state.alerts;
    expect(paged?.nextPage).toEqual({ tier: 'Engineering Manager', notify: ['U0ENGMGR'], at: T0 + HOUR });
    expect(acked?.acknowledged).toEqual({ by: 'U0OPERATOR', at: T0 + MINUTE });
    expect(acked?.nextPage).toBeUndefined();
    expect(state.escalation.tiers.map((tier) => `${tier.name} ${tier.after}`)).toEqual([
      'Team Lead 15m',
      'Engineering Manager 1h',
      'VP Engineering 4h',
    ]);
  });
});

describe('HomeService publishing', () => {
  it('remembers who opened Home (most recent last, no duplicates, not a non-id) and publishes to them', async () => {
    const { home, users, published } = setup();
    await home.opened('U0A');
    await home.opened('U0B');
    await home.opened('U0A');
    await home.opened('<!channel>');
    expect(users.value.users).toEqual(['U0B', 'U0A']);
    expect(published.map((p) => `${p.why}:${p.users.join(',')}`)).toEqual([
      'opened:U0A',
      'opened:U0B',
      'opened:U0A',
    ]);
  });

  it('keeps at most MAX_HOME_USERS openers, dropping the oldest', async () => {
    const { home, users } = setup();
    users.value = { users: Array.from({ length: MAX_HOME_USERS }, (_, i) => `U${i}`) };
    await home.opened('U0NEW');
    expect(users.value.users).toHaveLength(MAX_HOME_USERS);
    expect(users.value.users[0]).toBe('U1');
    expect(users.value.users.at(-1)).toBe('U0NEW');
  });

  it('republishes to every opener when what Home shows changed, and not otherwise', async () => {
    const { home, services, published } = setup();
    await home.start();
    await home.changed();
    expect(published).toEqual([]); // nobody opened it
    await home.opened('U0A');
    await home.opened('U0B');
    published.length = 0;
    await home.changed();
    expect(published).toEqual([]); // nothing changed
    await services.flags.set('retry_logic', true, { actor: { id: 'U0OPERATOR' }, via: 'slack' });
    await Promise.all([home.changed(), home.changed(), home.changed()]);
    expect(published).toEqual([{ users: ['U0A', 'U0B'], why: 'changed' }]);
  });
});
