import { describe, expect, it } from 'vitest';
import { spawnBot, startTestBot, tempDir } from '../support/bot.js';

const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) =>
      !/^(SLACK_|FLAG_API_TOKEN|SWITCHYARD_CONFIG|PORT|STATE_DIR|KUBECONFIG|PROMETHEUS_URL|ALERTMANAGER_)/.test(
        key,
      ),
  ),
) as Record<string, string>;

describe('the /sandbox page', () => {
  it('does not exist in Slack mode', async () => {
    const bot = await startTestBot();
    try {
      for (const path of ['/sandbox', '/sandbox/events', '/sandbox/api/state']) {
        expect((await fetch(`${bot.url}${path}`)).status, path).toBe(404);
      }
      const post = await fetch(`${bot.url}/sandbox/api/command`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'U0OPERATOR', text: '/flags disable-all' }),
      });
      expect(post.status).toBe(404);
    } finally {
      await bot.stop();
    }
  });

  it('is served in local mode, self-contained, and refuses bad requests without acting', async () => {
    const env = { ...CLEAN_ENV, STATE_DIR: tempDir(), TMPDIR: tempDir('switchyard-tmp-'), PORT: '0' };
    const bot = await spawnBot(env, 120_000);
    try {
      const page = await fetch(`${bot.url}/sandbox`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      const html = await page.text();
      expect(html).toContain('<script>');
      // Nothing is fetched from elsewhere: no external script, style or font.
      expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=/i);

      const api = (path: string, body: unknown) =>
        fetch(`${bot.url}/sandbox/api/${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const stranger = await api('command', { user: 'U0NOBODY', text: '/flags disable-all' });
      expect(stranger.status).toBe(400);
      expect(((await stranger.json()) as { error: string }).error).toBe('Unknown person "U0NOBODY".');
      const broken = await api('reaction', { user: 'U0LOCAL', messageId: 'C0INCIDENTS:1.2', name: '<b>' });
      expect(broken.status).toBe(400);
      const state = (await (await fetch(`${bot.url}/sandbox/api/state`)).json()) as { messages: unknown[] };
      expect(state.messages).toEqual([]);

      // A checklist's checkboxes are clickable: the tick is recorded and the reply shows it, with who.
      type Reply = { id: string; text?: string; blocks?: Array<Record<string, unknown>> };
      const shown = (await (await api('command', { user: 'U0LOCAL', text: '/phase status' })).json()) as {
        replies: Reply[];
      };
      const reply = shown.replies[0]!;
      const block = reply.blocks!.find((b) => String(b.block_id).startsWith('checklist:pre-deployment:'))!;
      const element = (block.elements as Array<{ action_id: string; options: Array<{ value: string }> }>)[0]!;
      const ticked = await api('action', {
        user: 'U0LOCAL',
        messageId: reply.id,
        actionId: element.action_id,
        blockId: block.block_id,
        checked: [element.options[0]!.value],
      });
      expect(ticked.status).toBe(200);
      const after = (await (await fetch(`${bot.url}/sandbox/api/state`)).json()) as { messages: Reply[] };
      const view = JSON.stringify(after.messages.find((m) => m.id === reply.id));
      expect(view).toContain('(1/5 ticked)');
      expect(view).toContain('<@U0LOCAL>');
    } finally {
      bot.child.kill('SIGTERM');
      await bot.exited;
    }
  }, 180_000);
});
