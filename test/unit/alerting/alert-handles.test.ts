import { describe, expect, it } from 'vitest';
import { HANDLES_TTL_MS, UsergroupHandles } from '../../../src/adapters/slack/alert-handles.js';
import { createLogger } from '../../../src/logger.js';

describe('UsergroupHandles (usergroups.list, cached)', () => {
  it('asks Slack once per TTL, shares one call between concurrent readers, and keeps the last handles on failure', async () => {
    const clock = { at: 0 };
    let calls = 0;
    let fail = false;
    const handles = new UsergroupHandles(
      async () => {
        calls += 1;
        if (fail) throw new Error('ratelimited');
        return new Map([['S0ONCALL', `oncall-${calls}`]]);
      },
      createLogger('silent'),
      () => clock.at,
    );
    const [a, b] = await Promise.all([handles.get(), handles.get()]);
    expect(a.get('S0ONCALL')).toBe('oncall-1');
    expect(b).toBe(a);
    clock.at = HANDLES_TTL_MS - 1;
    expect((await handles.get()).get('S0ONCALL')).toBe('oncall-1');
    expect(calls).toBe(1);

    clock.at = HANDLES_TTL_MS;
    fail = true;
    expect((await handles.get()).get('S0ONCALL')).toBe('oncall-1'); // the last known, never a throw
    expect(calls).toBe(2);
    expect((await handles.get()).get('S0ONCALL')).toBe('oncall-1'); // not asked again at once
    expect(calls).toBe(2);
    fail = false;
    clock.at += 60_000;
    expect((await handles.get()).get('S0ONCALL')).toBe('oncall-3');
  });

  it('answers no handles (the message falls back to IDs) when Slack never answered', async () => {
    const handles = new UsergroupHandles(async () => {
      throw new Error('missing_scope');
    }, createLogger('silent'));
    expect((await handles.get()).size).toBe(0);
  });
});
