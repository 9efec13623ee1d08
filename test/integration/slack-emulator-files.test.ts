/**
 * The Slack emulator's `files.uploadV2` flow (files.getUploadURLExternal → POST the bytes to the
 * one-use upload_url → files.completeUploadExternal), driven by Slack's own SDK, with Slack's refusals.
 */
import { webApi } from '@slack/bolt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { slackJobExecutor } from '../../src/adapters/slack/alert-jobs.js';
import type { SlackJob } from '../../src/adapters/slack/outbox-chat.js';
import { SlackWebChat } from '../../src/adapters/slack/web-chat.js';
import { draftPostMortem } from '../../src/core/incidents/post-mortem.js';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import { createLogger } from '../../src/logger.js';
import type { GroupStore } from '../../src/ports/alert-groups.js';

const CHANNELS = [
  { id: 'C1', name: 'incidents', botMember: true },
  { id: 'C2', name: 'elsewhere', botMember: false },
];
const CONTENT = '# Post-mortem draft\n\nÜmlaut and emoji ✅ count as bytes, not characters.\n';

const slackError = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (err: { data?: { error?: string } }) => err.data?.error,
  );

describe('SlackEmulator file uploads (files.uploadV2)', () => {
  const emu = new SlackEmulator({ channels: CHANNELS });
  let web: webApi.WebClient;
  beforeAll(async () => {
    await emu.start();
    web = new webApi.WebClient('xoxb-local', {
      slackApiUrl: emu.apiUrl,
      logLevel: webApi.LogLevel.ERROR,
      retryConfig: { retries: 0 },
    });
  });
  afterAll(() => emu.stop());
  afterEach(() => {
    expect(emu.violations).toEqual([]);
    emu.reset();
  });

  /** Step 2 as the SDK does it: the raw bytes in a POST. */
  const put = (url: string, body: string | Buffer) =>
    fetch(url, { method: 'POST', body: new Uint8Array(Buffer.from(body)) });

  it("accepts the SDK's own filesUploadV2 and shares the file in the channel with its comment", async () => {
    const result = await web.filesUploadV2({
      channel_id: 'C1',
      content: CONTENT,
      filename: 'draft.md',
      title: 'Draft',
      initial_comment: 'Here is the draft',
    });
    expect(result.ok).toBe(true);
    const [file] = emu.files();
    expect(file).toMatchObject({ filename: 'draft.md', title: 'Draft', completed: true, channels: ['C1'] });
    expect(file!.length).toBe(Buffer.byteLength(CONTENT));
    expect(file!.content!.toString('utf8')).toBe(CONTENT);
    const [message] = emu.messages('C1');
    expect(message).toMatchObject({
      text: 'Here is the draft',
      files: [{ id: file!.id, name: 'draft.md', title: 'Draft' }],
    });
    expect(emu.calls().map((c) => c.method)).toEqual([
      'files.getUploadURLExternal',
      'upload_url',
      'files.completeUploadExternal',
    ]);
  });

  it('refuses what Slack refuses: no filename, no length, a file never uploaded or unknown, bad files, a channel name or one the bot is not in', async () => {
    expect(await slackError(web.files.getUploadURLExternal({ filename: '', length: 10 }))).toBe(
      'invalid_arguments',
    );
    expect(await slackError(web.files.getUploadURLExternal({ filename: 'a.md', length: 0 }))).toBe(
      'missing_argument',
    );
    expect(
      await slackError(web.apiCall('files.getUploadURLExternal', { filename: 'a.md', length: 'ten' })),
    ).toBe('invalid_arguments');
    const ticket = await web.files.getUploadURLExternal({ filename: 'a.md', length: 5 });
    expect(ticket).toMatchObject({ ok: true, file_id: expect.stringMatching(/^F\d+$/) });
    const complete = (channel_id: string | undefined, id = ticket.file_id!) =>
      slackError(web.files.completeUploadExternal({ files: [{ id }], ...(channel_id && { channel_id }) }));
    // Completed before its bytes arrived, or a file nobody announced.
    expect(await complete('C1')).toBe('file_not_found');
    expect(await complete('C1', 'F999')).toBe('file_not_found');
    expect(
      await slackError(web.apiCall('files.completeUploadExternal', { files: 'not json', channel_id: 'C1' })),
    ).toBe('invalid_arguments');
    expect(
      await slackError(web.apiCall('files.completeUploadExternal', { files: '[]', channel_id: 'C1' })),
    ).toBe('invalid_arguments');
    // The wrong number of bytes is refused by the upload service; the right ones once, then the URL is spent.
    expect((await put(ticket.upload_url!, 'toolong')).status).toBe(400);
    const uploaded = await put(ticket.upload_url!, 'hello');
    expect(uploaded.status).toBe(200);
    expect(await uploaded.text()).toBe('OK - 5');
    expect((await put(ticket.upload_url!, 'hello')).status).toBe(404);
    expect((await put(`${emu.url}/upload/v1/unknown`, 'hello')).status).toBe(404);
    // channel_id takes an id, never a name; and the bot must be a member.
    expect(await complete('incidents')).toBe('channel_not_found');
    expect(await complete('C2')).toBe('not_in_channel');
    expect(emu.messages()).toEqual([]);
    expect(await complete('C1')).toBe('no error');
    expect(emu.messages('C1')).toHaveLength(1);
    expect(
      await slackError(
        new webApi.WebClient('', {
          slackApiUrl: emu.apiUrl,
          retryConfig: { retries: 0 },
        }).files.getUploadURLExternal({ filename: 'a', length: 1 }),
      ),
    ).toBe('not_authed');
  });

  it('shares a file job once: a replay that may have reached Slack finds the share and adopts it', async () => {
    const T0 = Date.parse('2026-12-04T03:00:00Z');
    const execute = slackJobExecutor({
      web: new SlackWebChat(web, undefined, createLogger('silent')),
      store: {} as GroupStore,
      channel: '#incidents',
      message: () => ({ silences: false, rollback: false }),
      log: createLogger('silent'),
    });
    const job: SlackJob = {
      kind: 'file',
      channel: '#incidents',
      file: {
        kind: 'post-mortem',
        draft: draftPostMortem([], { since: T0 - 3_600_000, until: T0 }, T0),
        requestedBy: 'U0OPERATOR',
      },
    };
    const first = await execute(job, { id: 'job-1', uncertain: false });
    expect(first).toEqual({ channel: 'C1', fileId: emu.files()[0]!.id });
    // The answer was lost (a crash, a timeout): the job runs again, uncertain.
    expect(await execute(job, { id: 'job-1', uncertain: true })).toEqual(first);
    expect(emu.files()).toHaveLength(1);
    expect(emu.messages('C1').filter((m) => m.files)).toHaveLength(1);
    // A different draft is a different file.
    const later = {
      ...job,
      file: { ...job.file, draft: { ...job.file.draft, generatedAt: T0 + 1_000 } },
    } as SlackJob;
    await execute(later, { id: 'job-2', uncertain: true });
    expect(emu.files()).toHaveLength(2);
  });
});
