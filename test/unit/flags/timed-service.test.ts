import { describe, expect, it } from 'vitest';
import { FlagCatalog } from '../../../src/core/flags/catalog.js';
import type { TimedChanges } from '../../../src/core/flags/timed.js';
import type { DocumentStore } from '../../../src/ports/document-store.js';
import { FlagService, type FlagsChanged, TIMER_ACTOR } from '../../../src/services/flag-service.js';
import { MemoryFlagStore } from '../../support/memory-flags.js';

const HOUR = 3_600_000;

class MemoryDocument<T> implements DocumentStore<T> {
  constructor(public value: T) {}
  async read() {
    return this.value;
  }
  async update<R>(change: (current: T) => { next: T; result: R } | Promise<{ next: T; result: R }>) {
    const { next, result } = await change(this.value);
    this.value = next;
    return result;
  }
}

function setup() {
  const clock = { at: Date.parse('2026-12-04T22:00:00Z') };
  const catalog = new FlagCatalog();
  const store = new MemoryFlagStore(catalog);
  const flags = new FlagService(catalog, store, () => new Date(clock.at));
  const timed = new MemoryDocument<TimedChanges>({});
  flags.useTimedChanges(timed, () => clock.at);
  const events: FlagsChanged[] = [];
  flags.onChange((event) => void events.push(event));
  return { clock, store, flags, timed, events };
}
const meta = { actor: { id: 'U0OPERATOR' }, via: 'slack' as const, reason: 'canary' };

describe('FlagService timed changes', () => {
  it('reverts once at its time, as the timer, with the timed change in the event', async () => {
    const { clock, flags, timed, store, events } = setup();
    const result = await flags.set('adaptive_timing', true, meta, false, 2 * HOUR);
    expect(result).toMatchObject({ status: 'changed', revertAt: clock.at + 2 * HOUR });
    clock.at += 2 * HOUR - 1;
    expect(await flags.revertDue()).toEqual([]);
    clock.at += 1;
    const [outcome] = await flags.revertDue();
    expect(outcome!.changes).toEqual([{ key: 'adaptive_timing', from: true, to: false }]);
    expect((await flags.snapshot()).values.adaptive_timing).toBe(false);
    expect(store.entries.at(-1)).toMatchObject({ actor: TIMER_ACTOR, via: 'system', action: 'disable' });
    expect(timed.value).toEqual({});
    await Promise.resolve();
    expect(events.at(-1)?.revertOf?.flag).toBe('adaptive_timing');
    expect(await flags.revertDue()).toEqual([]);
  });

  it('keeps no timed change when the change itself is refused where flags take effect', async () => {
    const { flags, timed } = setup();
    flags.addSink({
      apply: async () => {
        throw new Error('the cluster refused');
      },
    });
    await expect(flags.set('adaptive_timing', true, meta, false, HOUR)).rejects.toThrow(
      'the cluster refused',
    );
    expect(timed.value).toEqual({});
  });

  it('a revert record whose change never reached the audit log reverts nothing', async () => {
    const { clock, flags, timed } = setup();
    await flags.set('retry_logic', true, meta, false, HOUR);
    // As if the record had been written and the bot crashed before the commit: entry #99 never happened.
    timed.value.retry_logic = {
      ...timed.value.retry_logic!,
      entries: [{ flag: 'retry_logic', seq: 99, at: 'x' }],
    };
    clock.at += HOUR;
    expect(await flags.revertDue()).toEqual([]);
    expect((await flags.snapshot()).values.retry_logic).toBe(true);
    expect(timed.value).toEqual({});
  });

  it('is cancelled by the kill switch like by any other change', async () => {
    const { clock, flags, timed } = setup();
    await flags.set('adaptive_timing', true, meta, false, HOUR);
    await flags.set('adaptive_timing', false, meta);
    await flags.set('retry_logic', true, meta, false, HOUR);
    await flags.disableAll(meta);
    expect(timed.value).toEqual({});
    clock.at += HOUR;
    expect(await flags.revertDue()).toEqual([]);
  });
});
