import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../../src/adapters/slack/outbox.js';
import { classifySlackError } from '../../../src/adapters/slack/outbox-errors.js';
import { type OutboxJob, OutboxJournal } from '../../../src/adapters/slack/outbox-journal.js';
import { createLogger } from '../../../src/logger.js';

type Payload = { name: string };
const log = createLogger('silent');
const journalPath = () => join(mkdtempSync(join(tmpdir(), 'switchyard-outbox-')), 'outbox.jsonl');
const job = (name: string, key: string, extra: Partial<OutboxJob<Payload>> = {}): OutboxJob<Payload> => ({
  id: name,
  key,
  priority: 0,
  payload: { name },
  ...extra,
});
const slackError = (error: string) =>
  Object.assign(new Error(error), { code: 'slack_webapi_platform_error', data: { error } });

function outbox(path: string, execute: (p: Payload) => Promise<unknown>) {
  return new Outbox<Payload>({
    journal: new OutboxJournal(path),
    execute,
    classify: classifySlackError,
    log,
    baseBackoffMs: 10,
    // One at a time: these tests are about which job goes first.
    concurrency: 1,
  });
}

describe('Outbox.deliver', () => {
  it('resolves with what the call returned (a thread parent’s ts), after a retry if need be', async () => {
    let tries = 0;
    const box = outbox(journalPath(), async (p) => {
      tries += 1;
      if (tries === 1) throw slackError('internal_error');
      return { ts: `ts-of-${p.name}` };
    });
    await box.open();
    box.start();
    await expect(box.deliver(job('parent', 'channel:C'))).resolves.toEqual({ ts: 'ts-of-parent' });
    expect(tries).toBe(2);
    await box.stop();
  });

  it('rejects with Slack’s error when the post is dropped, and the journal no longer holds it', async () => {
    const path = journalPath();
    const box = outbox(path, async () => {
      throw slackError('channel_not_found');
    });
    await box.open();
    box.start();
    await expect(box.deliver(job('lost', 'channel:C'))).rejects.toThrow('channel_not_found');
    await box.stop();
    const again = outbox(path, async () => undefined);
    await again.open();
    expect(again.depth).toBe(0);
  });

  it('keeps a job it could not send yet for the next process, which sends it without anyone waiting', async () => {
    const path = journalPath();
    let tried!: () => void;
    const triedOnce = new Promise<void>((resolve) => {
      tried = resolve;
    });
    const first = outbox(path, async () => {
      tried();
      throw slackError('service_unavailable');
    });
    await first.open();
    first.start();
    const waiting = first.deliver(job('pending', 'channel:C'));
    waiting.catch(() => undefined);
    await triedOnce; // journalled, tried, refused
    await first.stop(); // the process ends with the job still queued
    const sent: string[] = [];
    const second = outbox(path, async (p) => {
      sent.push(p.name);
    });
    await second.open();
    second.start();
    await second.idle();
    await second.stop();
    expect(sent).toEqual(['pending']);
  });

  it('raises a queued refresh to the priority of a change that coalesces into it', async () => {
    const ran: string[] = [];
    const box = outbox(journalPath(), async (p) => {
      ran.push(p.name);
    });
    await box.open();
    await box.enqueue([
      job('refresh-a', 'group:a', { priority: 0, coalesce: 'message:a' }),
      job('post-b', 'group:b', { priority: 1 }),
    ]);
    // A change to group a: its message job coalesces into the queued refresh, which must not wait.
    await box.enqueue([job('change-a', 'group:a', { priority: 3, coalesce: 'message:a' })]);
    box.start();
    await box.idle();
    await box.stop();
    expect(ran).toEqual(['refresh-a', 'post-b']);
  });
});

describe('Outbox priorities', () => {
  it('sends an escalation queued behind a group’s refresh before the refreshes of other groups', async () => {
    const ran: string[] = [];
    const box = outbox(journalPath(), async (p) => {
      ran.push(p.name);
    });
    await box.open();
    await box.enqueue([
      job('refresh-a', 'group:a'),
      job('refresh-b', 'group:b'),
      job('refresh-c', 'group:c'),
      job('escalation-c', 'group:c', { priority: 3 }),
    ]);
    box.start();
    await box.idle();
    await box.stop();
    // Order within group c is kept: its refresh, then its escalation; both before a and b.
    expect(ran).toEqual(['refresh-c', 'escalation-c', 'refresh-a', 'refresh-b']);
  });
});
