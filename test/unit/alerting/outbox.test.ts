import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../../src/adapters/slack/outbox.js';
import { classifySlackError, NON_SLACK_ATTEMPTS } from '../../../src/adapters/slack/outbox-errors.js';
import { type OutboxJob, OutboxJournal } from '../../../src/adapters/slack/outbox-journal.js';
import { createLogger } from '../../../src/logger.js';

type Payload = { name: string };
const log = createLogger('silent');
const journalPath = () => join(mkdtempSync(join(tmpdir(), 'switchyard-outbox-')), 'outbox.jsonl');

function job(name: string, key: string, extra: Partial<OutboxJob<Payload>> = {}): OutboxJob<Payload> {
  return { id: name, key, priority: 0, payload: { name }, ...extra };
}

function outbox(
  path: string,
  execute: (p: Payload) => Promise<void>,
  extra: { compactAfterLines?: number; concurrency?: number } = {},
) {
  return new Outbox<Payload>({
    journal: new OutboxJournal(path),
    execute,
    classify: classifySlackError,
    log,
    baseBackoffMs: 50,
    // One at a time unless a test says otherwise: most of these are about which job goes first.
    concurrency: 1,
    ...extra,
  });
}

describe('Outbox', () => {
  it('sends jobs of different keys at once, up to its concurrency, and never two of one key', async () => {
    const inFlight = new Set<string>();
    let most = 0;
    const order: string[] = [];
    const gates = new Map<string, () => void>();
    const box = outbox(
      journalPath(),
      (p) =>
        new Promise<void>((resolve) => {
          const key = p.name.split('-')[0]!;
          expect(inFlight.has(key), `two jobs of ${key} at once`).toBe(false);
          inFlight.add(key);
          most = Math.max(most, inFlight.size);
          order.push(p.name);
          gates.set(p.name, () => {
            inFlight.delete(key);
            resolve();
          });
        }),
      { concurrency: 3 },
    );
    await box.open();
    await box.enqueue([job('a-1', 'A'), job('a-2', 'A'), job('b-1', 'B'), job('c-1', 'C'), job('d-1', 'D')]);
    box.start();
    const started = async (name: string) => {
      while (!gates.has(name)) await new Promise((resolve) => setImmediate(resolve));
    };
    // Three keys start together; D waits for a free slot, a-2 for a-1.
    await Promise.all([started('a-1'), started('b-1'), started('c-1')]);
    expect(order).toEqual(['a-1', 'b-1', 'c-1']);
    gates.get('b-1')!();
    await started('d-1');
    expect(order).not.toContain('a-2');
    gates.get('a-1')!();
    await started('a-2');
    for (const name of ['c-1', 'd-1', 'a-2']) gates.get(name)!();
    await box.idle();
    await box.stop();
    expect(most).toBe(3);
    expect(order).toEqual(['a-1', 'b-1', 'c-1', 'd-1', 'a-2']);
  });

  it('after a 429, sends one call at a time: in parallel they would only earn more 429s', async () => {
    let inFlight = 0;
    let most = 0;
    let limited = true;
    const box = outbox(
      journalPath(),
      async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        if (limited) {
          limited = false;
          throw Object.assign(new Error('rate limited'), {
            code: 'slack_webapi_rate_limited_error',
            retryAfter: 0.05,
          });
        }
      },
      { concurrency: 4 },
    );
    await box.open();
    await box.enqueue([job('first', 'A')]);
    box.start();
    await box.idle();
    most = 0;
    await box.enqueue(['B', 'C', 'D', 'E'].map((key) => job(key, key)));
    await box.idle();
    await box.stop();
    expect(most).toBe(1);
  });

  it('sends an early job while its journal entry is still being written', async () => {
    const sent: string[] = [];
    const path = journalPath();
    const journal = new OutboxJournal<Payload>(path);
    let release: () => void = () => {};
    const written = new Promise<void>((resolve) => {
      release = resolve;
    });
    const enqueued = journal.enqueued.bind(journal);
    journal.enqueued = (jobs) => {
      const appended = enqueued(jobs); // in the journal's buffer at once, in call order
      return written.then(() => appended); // "durable" only once released: after the send
    };
    const box = new Outbox<Payload>({
      journal,
      execute: async (p) => void sent.push(p.name),
      classify: classifySlackError,
      log,
    });
    await box.open();
    box.start();
    const durable = box.enqueue([job('early', 'A')], { early: true });
    while (sent.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual(['early']);
    release();
    await durable;
    await box.idle();
    await box.stop();
    // Both lines are in the journal, enqueue first: a replay sends nothing again.
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).op);
    expect(lines).toEqual(['enqueue', 'done']);
  });

  it('keeps order within a key and runs top-level posts (higher priority) of other keys first', async () => {
    const ran: string[] = [];
    const box = outbox(journalPath(), async (p) => {
      ran.push(p.name);
    });
    await box.open();
    await box.enqueue([
      job('a-message', 'A', { priority: 1 }),
      job('a-note-1', 'A'),
      job('a-note-2', 'A'),
      job('b-message', 'B', { priority: 1 }),
      job('c-note', 'C'),
    ]);
    box.start();
    await box.idle();
    await box.stop();
    expect(ran).toEqual(['a-message', 'b-message', 'a-note-1', 'a-note-2', 'c-note']);
  });

  it('pauses everything for Retry-After on a 429, then resumes in order', async () => {
    const ran: Array<{ name: string; at: number }> = [];
    let limited = true;
    const box = outbox(journalPath(), async (p) => {
      if (limited) {
        limited = false;
        throw Object.assign(new Error('rate limited'), {
          code: 'slack_webapi_rate_limited_error',
          retryAfter: 0.3,
        });
      }
      ran.push({ name: p.name, at: Date.now() });
    });
    await box.open();
    const started = Date.now();
    await box.enqueue([job('a1', 'A'), job('b1', 'B'), job('a2', 'A')]);
    box.start();
    await box.idle();
    await box.stop();
    expect(ran.map((r) => r.name)).toEqual(['a1', 'b1', 'a2']);
    expect(ran[0]!.at - started).toBeGreaterThanOrEqual(290);
  });

  it('backs off one key after a 5xx while other keys go on, and drops what resending cannot fix', async () => {
    const ran: string[] = [];
    let failures = 2;
    const box = outbox(journalPath(), async (p) => {
      if (p.name === 'a1' && failures-- > 0) {
        throw Object.assign(new Error('503'), { code: 'slack_webapi_http_error', statusCode: 503 });
      }
      if (p.name === 'bad') {
        throw Object.assign(new Error('x'), {
          code: 'slack_webapi_platform_error',
          data: { error: 'channel_not_found' },
        });
      }
      ran.push(p.name);
    });
    await box.open();
    await box.enqueue([job('a1', 'A'), job('a2', 'A'), job('bad', 'B'), job('b2', 'B')]);
    box.start();
    await box.idle();
    await box.stop();
    expect(ran).toEqual(['b2', 'a1', 'a2']);
  });

  it('gives up on a job whose error is not from Slack after a few tries, so its conversation goes on', async () => {
    const tried: string[] = [];
    const box = outbox(journalPath(), async (p) => {
      tried.push(p.name);
      if (p.name.startsWith('broken'))
        throw new TypeError("Cannot read properties of undefined (reading 'x')");
    });
    await box.open();
    await box.enqueue([job('broken', 'A'), job('after', 'A')]);
    box.start();
    await box.idle();
    expect(tried.filter((name) => name === 'broken')).toHaveLength(NON_SLACK_ATTEMPTS);
    expect(tried.at(-1)).toBe('after');
    // Whoever waits for such a job is told it failed, instead of waiting for ever.
    await expect(box.deliver(job('broken-2', 'B'))).rejects.toThrow('Cannot read properties');
    await box.stop();
  });

  it('replays pending jobs after a crash, in order, with their fencing keys; done ones are not replayed', async () => {
    const path = journalPath();
    // The first process "hangs" on the jobs enqueued just before the crash, so they stay pending
    // whatever the timing.
    let release = () => {};
    const hung = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = outbox(path, async (p) => {
      if (p.name === 'four' || p.name === 'five') await hung;
    });
    await first.open();
    await first.enqueue([job('one', 'A', { fence: 'escalation:1:0:g' }), job('two', 'A'), job('three', 'B')]);
    first.start();
    await first.idle();
    await first.enqueue([job('four', 'A', { fence: 'escalation:1:1:g' }), job('five', 'B')]);
    // "Crash": a new process opens the same journal without the first having stopped.
    const ran: string[] = [];
    const second = outbox(path, async (p) => {
      ran.push(p.name);
    });
    const fences = await second.open();
    // Every fencing key the journal still holds, sent or not: the caller marks them all as sent.
    expect(fences).toEqual(['escalation:1:0:g', 'escalation:1:1:g']);
    expect(second.depth).toBe(2);
    second.start();
    await second.idle();
    await second.stop();
    release();
    await first.stop();
    expect(ran).toEqual(['four', 'five']);
  });

  it('ignores a duplicate id and a pending job of the same coalescing group', async () => {
    const ran: string[] = [];
    const box = outbox(journalPath(), async (p) => {
      ran.push(p.name);
    });
    await box.open();
    await box.enqueue([job('m1', 'A', { coalesce: 'msg:A' }), job('note', 'A')]);
    await box.enqueue([job('m2', 'A', { coalesce: 'msg:A' }), job('note', 'A')]);
    box.start();
    await box.idle();
    await box.stop();
    expect(ran).toEqual(['m1', 'note']);
  });

  it('compacts the journal once the queue is empty and it has grown', async () => {
    const path = journalPath();
    const box = outbox(path, async () => undefined, { compactAfterLines: 5 });
    await box.open();
    await box.enqueue([1, 2, 3, 4].map((n) => job(`j${n}`, `K${n}`)));
    box.start();
    await box.idle();
    // stop() waits for the worker loop, which compacts right after the last job before it looks again.
    await box.stop();
    expect(readFileSync(path, 'utf8')).toBe('');
  });
});

describe('classifySlackError', () => {
  it.each([
    [
      { code: 'slack_webapi_rate_limited_error', retryAfter: 3 },
      { kind: 'rate-limited', retryAfterMs: 3000 },
    ],
    [
      { code: 'slack_webapi_http_error', statusCode: 429, headers: { 'retry-after': '2' } },
      { kind: 'rate-limited', retryAfterMs: 2000 },
    ],
    [
      { code: 'slack_webapi_http_error', statusCode: 502 },
      { kind: 'retry', reason: 'HTTP 502' },
    ],
    [
      { code: 'slack_webapi_http_error', statusCode: 404 },
      { kind: 'drop', reason: 'HTTP 404' },
    ],
    [{ code: 'slack_webapi_request_error' }, { kind: 'retry', reason: 'request failed' }],
    [
      { code: 'slack_webapi_platform_error', data: { error: 'service_unavailable' } },
      { kind: 'retry', reason: 'service_unavailable' },
    ],
    [
      { code: 'slack_webapi_platform_error', data: { error: 'invalid_blocks' } },
      { kind: 'drop', reason: 'invalid_blocks' },
    ],
  ])('%j → %j', (error, expected) => {
    expect(classifySlackError(error)).toEqual(expected);
  });
});
