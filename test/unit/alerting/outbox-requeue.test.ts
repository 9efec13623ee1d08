/**
 * With several replicas a change can run twice (a resourceVersion conflict re-runs it) and queue the
 * same job again, and the Lease can be lost between a job's reads and its write: neither sends twice.
 */
import { describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../../src/adapters/slack/not-leader.js';
import { type Attempt, Outbox } from '../../../src/adapters/slack/outbox.js';
import { classifySlackError } from '../../../src/adapters/slack/outbox-errors.js';
import type { OutboxJob } from '../../../src/adapters/slack/outbox-journal.js';
import { createLogger } from '../../../src/logger.js';
import { MemoryJournal } from '../../support/memory-journal.js';

type Payload = { name: string };
const log = createLogger('silent');
const job = (name: string): OutboxJob<Payload> => ({ id: name, key: name, priority: 0, payload: { name } });

function outbox(
  journal: MemoryJournal<Payload>,
  execute: (p: Payload, attempt: Attempt) => Promise<unknown>,
  fence?: () => { holder: string; transitions: number },
) {
  return new Outbox<Payload>({
    journal,
    execute,
    ...(fence && { fence }),
    classify: classifySlackError,
    log,
    baseBackoffMs: 10,
    maxBackoffMs: 20,
  });
}

describe('Outbox: a job queued again', () => {
  it('is not sent again once it was sent here', async () => {
    const sent: string[] = [];
    const box = outbox(new MemoryJournal(), async (p) => void sent.push(p.name));
    await box.open();
    box.start();
    await box.enqueue([job('page-1')]);
    await box.idle();
    await box.enqueue([job('page-1')]); // the same change, run again
    await box.enqueue([job('barrier')]);
    await box.idle();
    await box.stop();
    expect(sent).toEqual(['page-1', 'barrier']);
  });

  it('is not sent when the shared journal says another replica finished it', async () => {
    const journal = new MemoryJournal<Payload>();
    await journal.enqueued([job('page-2')]);
    await journal.done('page-2', undefined, { ts: '1.1' }); // sent by the last leader
    const sent: string[] = [];
    const box = outbox(journal, async (p) => void sent.push(p.name));
    await box.open();
    box.start();
    await box.enqueue([job('page-2')]);
    await box.enqueue([job('barrier')]);
    await box.idle();
    await box.stop();
    expect(sent).toEqual(['barrier']);
  });
});

describe('Outbox: the Lease lost between a job’s reads and its write', () => {
  it('makes no write; the job stays pending for the next leader and the outbox follows', async () => {
    let lost = false;
    const writes: string[] = [];
    const journal = new MemoryJournal<Payload>();
    const box = outbox(
      journal,
      async (p, attempt) => {
        lost = true; // the reads took long: the Lease is gone by now
        attempt.recheck?.();
        writes.push(p.name);
      },
      () => {
        if (lost) throw new NotLeaderError('the Lease is held by pod-b');
        return { holder: 'pod-a', transitions: 1 };
      },
    );
    await box.open();
    box.start();
    await box.enqueue([job('post-1')]);
    await box.idle();
    expect(writes).toEqual([]);
    expect(box.isLeading).toBe(false);
    expect(journal.pendingIds()).toEqual(['post-1']);
    await box.stop();
  });
});
