import { describe, expect, it } from 'vitest';
import { type Election, Leadership } from '../../src/adapters/leadership.js';
import { createLogger } from '../../src/logger.js';

/** An election the test drives: it says when this replica wins and loses the Lease. */
class DrivenElection implements Election {
  leading = false;
  holder: string | undefined;
  transitions = 0;
  private events?: { started(term: { holder: string; transitions: number }): void; stopped(): void };
  start(events: NonNullable<DrivenElection['events']>): void {
    this.events = events;
  }
  async stop(): Promise<void> {}
  win(): void {
    this.leading = true;
    this.holder = 'pod-a';
    this.transitions += 1;
    this.events?.started({ holder: 'pod-a', transitions: this.transitions });
  }
  lose(): void {
    this.leading = false;
    this.events?.stopped();
  }
}

describe('Leadership', () => {
  it('lets timed work run only once the new leader’s start tasks are done, and not after it lost the Lease', async () => {
    const election = new DrivenElection();
    const leadership = new Leadership(createLogger('silent'), election);
    let finishTakeover!: () => void;
    const order: string[] = [];
    leadership.add({
      name: 'take the queue over',
      start: () =>
        new Promise<void>((resolve) => {
          order.push('start');
          finishTakeover = resolve;
        }),
      stop: () => void order.push('stop'),
    });
    leadership.start();
    expect(leadership.leading).toBe(false);
    election.win();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['start']);
    // The Lease is held, but the queue the last leader left is not read yet: no tier may be judged.
    expect(election.leading).toBe(true);
    expect(leadership.leading).toBe(false);
    expect(leadership.role().role).toBe('leader');
    finishTakeover();
    await leadership.settled();
    expect(leadership.leading).toBe(true);
    election.lose();
    expect(leadership.leading).toBe(false);
    await leadership.settled();
    expect(order).toEqual(['start', 'stop']);
  });

  it('always leads alone (no election)', async () => {
    const leadership = new Leadership(createLogger('silent'));
    leadership.start();
    expect(leadership.leading).toBe(true);
    expect(leadership.role()).toEqual({ role: 'single' });
  });
});
