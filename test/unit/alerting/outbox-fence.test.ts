/**
 * Leader fencing in the Outbox, over an in-memory journal: the fence is asked right before every
 * call; a NotLeaderError leaves the job pending and makes the outbox a follower; `lead()` sends what
 * the journal holds, as uncertain.
 */
import { describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../../src/adapters/slack/not-leader.js';
import { type Attempt, Outbox } from '../../../src/adapters/slack/outbox.js';
import { classifySlackError } from '../../../src/adapters/slack/outbox-errors.js';
import type { OutboxJob } from '../../../src/adapters/slack/outbox-journal.js';
import { createLogger } from '../../../src/logger.js';
import { eventually } from '../../support/http.js';
import { MemoryJournal } from '../../support/memory-journal.js';

type Payload = { name: string };
const log = createLogger('silent');

function job(name: string, key = name): OutboxJob<Payload> {
  return { id: name, key, priority: 0, payload: { name } };
}

function outbox(
  journal: MemoryJournal<Payload>,
  execute: (p: Payload, attempt: Attempt) => Promise<unknown>,
  fence: () => { holder: string; transitions: number },
  concurrency = 1,
) {
  return new Outbox<Payload>({
    journal,
    execute,
    fence,
    classify: classifySlackError,
    log,
    baseBackoffMs: 10,
    maxBackoffMs: 20,
    concurrency,
  });
}

describe('Outbox leader fence', () => {
  it('asks the fence right before every call, retries included, and hands its term to the call', async () => {
    const events: string[] = [];
    let failedOnce = false;
    const box = outbox(
      new MemoryJournal(),
      async (p, attempt) => {
        events.push(`execute ${p.name} ${attempt.term?.holder}/${attempt.term?.transitions}`);
        if (p.name === 'b' && !failedOnce) {
          failedOnce = true;
          throw new Error('socket hang up'); // retried
        }
      },
      () => {
        events.push('fence');
        return { holder: 'pod-a', transitions: 3 };
      },
      3,
    );
    await box.open();
    box.start();
    await box.enqueue([job('a'), job('b'), job('c')]);
    await box.idle();
    await box.stop();
    expect(events.filter((event) => event.startsWith('execute'))).toHaveLength(4);
    // Each call directly preceded by its own fence check.
    for (let i = 0; i < events.length; i += 2) {
      expect(events[i]).toBe('fence');
      expect(events[i + 1]).toMatch(/^execute [abc] pod-a\/3$/);
    }
    expect(events).toHaveLength(8);
  });

  it('on NotLeaderError: the job is not sent and stays pending, the outbox follows; lead() sends the rest as uncertain', async () => {
    const journal = new MemoryJournal<Payload>();
    let leader = true;
    let term = { holder: 'pod-a', transitions: 1 };
    const executed: Array<{ name: string; uncertain: boolean; transitions?: number }> = [];
    const box = outbox(
      journal,
      async (p, attempt) => {
        executed.push({ name: p.name, uncertain: attempt.uncertain, transitions: attempt.term?.transitions });
        if (p.name === 'a-2') leader = false; // the Lease is lost while a-2 is sent
        return `sent ${p.name}`;
      },
      () => {
        if (!leader) throw new NotLeaderError('lease lost');
        return term;
      },
    );
    await box.open();
    box.start();
    await box.enqueue(['a-1', 'a-2', 'a-3', 'a-4'].map((name) => job(name, 'A')));
    await eventually(() => expect(box.isLeading).toBe(false));
    expect(executed.map((e) => e.name)).toEqual(['a-1', 'a-2']);
    expect(journal.pendingIds()).toEqual(['a-3', 'a-4']);
    expect(box.depth).toBe(0);

    // A follower still journals what it is given; without a shared journal, deliver waits for it to lead.
    await box.enqueue([job('b-1', 'B')]);
    const answer = box.deliver<string>(job('c-1', 'C'));
    await eventually(() => expect(journal.pendingIds()).toEqual(['a-3', 'a-4', 'b-1', 'c-1']));
    expect(executed).toHaveLength(2);

    leader = true;
    term = { holder: 'pod-a', transitions: 3 };
    await box.lead();
    expect(await answer).toBe('sent c-1');
    await box.idle();
    await box.stop();
    expect(executed.slice(2).sort((x, y) => x.name.localeCompare(y.name))).toEqual(
      ['a-3', 'a-4', 'b-1', 'c-1'].map((name) => ({ name, uncertain: true, transitions: 3 })),
    );
    expect(journal.pendingIds()).toEqual([]);
  });

  it('a fence that fails otherwise holds the job back for a while but keeps leading', async () => {
    let checks = 0;
    const executed: string[] = [];
    const box = outbox(
      new MemoryJournal(),
      async (p) => {
        executed.push(p.name);
      },
      () => {
        checks++;
        if (checks === 1) throw new Error('clock went backwards');
        return { holder: 'pod-a', transitions: 1 };
      },
    );
    await box.open();
    box.start();
    await box.enqueue([job('a')]);
    await box.idle();
    await box.stop();
    expect(executed).toEqual(['a']);
    expect(checks).toBe(2);
    expect(box.isLeading).toBe(true);
  });
});
