import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/bot.js';

/**
 * An incident walked in the sandbox page with Debian's Chromium, against the bot as `npm start` runs
 * it (the built bundle, nothing configured): a sev1 alert with its on-call ping and escalation DM, a
 * phase advance approved by two approvers (the requester's own ✅ does not count) against the healthy
 * demo Prometheus, the kill switch refused to a non-operator and confirmed by an operator, and a
 * Deployment rolled back while its thread updates in place. Saves the README's screenshots in docs/.
 * Every wait is for something to appear on the page.
 */
const CHROMIUM = '/usr/bin/chromium';
const WAIT = { timeout: 90_000 };
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) =>
      !/^(SLACK_|FLAG_API_TOKEN|SWITCHYARD_CONFIG|PORT|STATE_DIR|KUBECONFIG|PROMETHEUS_URL|ALERTMANAGER_)/.test(
        key,
      ),
  ),
) as Record<string, string>;

let bot: ChildProcess;
let botExited: Promise<unknown>;
let url: string;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (scripts/test.sh does it)`);
  }
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit' });
  bot = spawn(process.execPath, ['dist/src/main.js'], {
    env: { ...CLEAN_ENV, STATE_DIR: tempDir(), TMPDIR: tempDir('switchyard-tmp-'), PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  botExited = new Promise((resolve) => bot.on('exit', resolve));
  url = await new Promise<string>((resolve, reject) => {
    bot.on('exit', (code) => reject(new Error(`the bot exited with ${code}`)));
    createInterface({ input: bot.stdout! }).on('line', (line) => {
      const match = /"sandbox":"(http:\/\/127\.0\.0\.1:\d+)\/sandbox"/.exec(line);
      if (match) resolve(match[1]!);
    });
  });
  context = await chromium.launchPersistentContext(tempDir('switchyard-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1280, height: 900 },
  });
  page = await context.newPage();
  mkdirSync('docs', { recursive: true });
}, 180_000);

afterAll(async () => {
  await context?.close();
  bot?.kill('SIGTERM');
  await botExited;
});

/** The top-level message whose text contains `text` (threads are inside their parent). */
const message = (text: string | RegExp): Locator =>
  page.locator('#messages > .msg').filter({ hasText: text }).last();

const PEOPLE: Record<string, string> = {
  U0LOCAL: 'local-operator',
  U0APPROVER1: 'approver-1',
  U0APPROVER2: 'approver-2',
  U0VISITOR: 'visitor',
};

/** Switches who the page acts as, and waits until the page says so. */
async function be(person: string): Promise<void> {
  await page.selectOption('#persona', person);
  await page.locator('.topbar .who').getByText(`You are ${PEOPLE[person]} (`).waitFor(WAIT);
}

async function type(command: string): Promise<void> {
  await page.fill('#composer', command);
  await page.press('#composer', 'Enter');
}

describe('the sandbox page in Chromium', () => {
  it('walks an incident: alert, DM, phase approval, kill switch, rollback', async () => {
    await page.goto(`${url}/sandbox`);
    await page.waitForSelector('#app[data-state="ready"]', WAIT);

    // A sev1 alert as Alertmanager sends it: the message pings the on-call group.
    await page.selectOption('#alert-name', 'MessagingSystemDown');
    await page.click('#fire-alert');
    const alert = message('SEV1 firing');
    await alert.waitFor(WAIT);
    await expect.poll(() => alert.locator('.mention').allTextContents()).toContain('@oncall');

    // Unacknowledged, it escalates: tier 1 (the team lead) gets a DM.
    const dm = page.locator('[data-view="D0TEAMLEAD"]');
    await dm.waitFor(WAIT);
    await dm.click();
    await page.locator('#messages .msg').first().waitFor(WAIT);
    await page.screenshot({ path: 'docs/sandbox-escalation-dm.png' });
    await page.click('[data-view="channel"]');
    await alert.waitFor(WAIT);
    await page.screenshot({ path: 'docs/sandbox-alert.png' });

    // The Pre-Deployment checklist, ticked by two people in their own /phase status.
    const checklist = () => page.locator('.ephemeral').filter({ hasText: 'Pre-Deployment checklist' }).last();
    const tick = async (index: number, count: number) => {
      await checklist().locator('input[type="checkbox"]').nth(index).check();
      await checklist().getByText(`(${count}/5 ticked)`).waitFor(WAIT);
    };
    await be('U0LOCAL');
    await type('/phase advance too early');
    await page.locator('.ephemeral').filter({ hasText: 'has 5 items not ticked' }).waitFor(WAIT);
    await type('/phase status');
    await checklist().getByText('(0/5 ticked)').waitFor(WAIT);
    for (const [index, count] of [
      [0, 1],
      [1, 2],
      [2, 3],
    ] as const)
      await tick(index, count);
    await be('U0APPROVER1');
    await type('/phase status');
    await checklist().getByText('(3/5 ticked)').waitFor(WAIT);
    await tick(3, 4);
    await tick(4, 5);
    expect(await checklist().locator('input[type="checkbox"]:checked').count()).toBe(5);
    await page.screenshot({ path: 'docs/sandbox-checklist.png' });

    // A phase advance, approved with ✅ by two approvers; the requester's own ✅ does not count.
    await be('U0LOCAL');
    await type('/phase advance stable for a week');
    const request = message('Phase advance');
    await request.waitFor(WAIT);
    await request.locator('[data-add-reaction="white_check_mark"]').click();
    await request.locator('[data-reaction="white_check_mark"]').getByText('1').waitFor(WAIT);
    await be('U0APPROVER1');
    await request.locator('[data-reaction="white_check_mark"]').click();
    // Two ✅ on the message, one approval: the requester's own did not count.
    await request
      .getByText('Approved by (1/2)')
      .waitFor(WAIT)
      .catch(async (error) => {
        await page.screenshot({ path: '.tmp/sandbox-failure.png' });
        throw error;
      });
    expect(await request.locator('[data-reaction="white_check_mark"]').textContent()).toContain('2');
    await be('U0APPROVER2');
    await request.locator('[data-reaction="white_check_mark"]').click();
    await request.getByText('Advanced to Phase 1').first().waitFor(WAIT);
    await message('advanced the rollout a phase').waitFor(WAIT);
    expect(await page.locator('#messages').textContent()).not.toContain('rolled the rollout back a phase');
    await page.screenshot({ path: 'docs/sandbox-phase-approval.png' });

    // The kill switch from the alert: refused to someone who is not an operator…
    await be('U0VISITOR');
    await alert.locator('[data-action-id="switchyard.alert.kill-switch"]').click();
    await page.locator('.ephemeral').filter({ hasText: 'Only operators may do this' }).waitFor(WAIT);
    // …and pulled by an operator, after the confirmation.
    await be('U0LOCAL');
    await alert.locator('[data-action-id="switchyard.alert.kill-switch"]').click();
    const ask = page.locator('.ephemeral').filter({ hasText: 'Turn off' }).last();
    await ask.waitFor(WAIT);
    await ask.locator('[data-action-id="switchyard.confirm"]').click();
    await message('Kill switch pulled by').waitFor(WAIT);

    // Roll back messaging-core from the alert; the thread's progress message is updated in place.
    await alert.locator('[data-action-id="switchyard.alert.rollback"]').click();
    const confirmRollback = page.locator('.ephemeral').filter({ hasText: 'Roll back messaging-core' }).last();
    await confirmRollback.waitFor(WAIT);
    await confirmRollback.locator('[data-action-id="switchyard.confirm"]').click();
    const rollback = message('Rolling back');
    await rollback.locator('.thread').getByText('Rolled back').waitFor(WAIT);
    const progress = rollback.locator('.thread .msg').filter({ hasText: 'new pods available' });
    expect(await progress.count()).toBe(1);
    await expect.poll(() => progress.locator('.edited').count()).toBe(1);
    await expect.poll(() => progress.textContent()).toContain('successfully rolled out');
    await page.screenshot({ path: 'docs/sandbox-rollback.png' });
  }, 600_000);

  it('shows alert text as text: an alert named <script> is not markup', async () => {
    const name = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    await page.fill('#custom-alert', name);
    await page.click('#fire-custom');
    const alert = message('onerror');
    await alert.waitFor(WAIT);
    expect(await alert.textContent()).toContain(name);
    expect(await page.locator('#messages img, #messages script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  }, 120_000);

  it('answers a mistyped command with the nearest one', async () => {
    await type('/flgs list');
    await page
      .locator('#hint')
      .getByText('`/flgs` is not a Switchyard command. Did you mean `/flags`?')
      .waitFor(WAIT);
  }, 60_000);

  it('shows the App Home tab: the view the bot published for this person, alert text as text', async () => {
    await be('U0LOCAL');
    await page.click('[data-view="home"]');
    const home = page.locator('#home');
    await home.getByText('Open alerts').waitFor(WAIT);
    await home.getByText('SEV1 firing').first().waitFor(WAIT);
    // The same view the emulator recorded for views.publish: one rendered block per block.
    const state = (await (await fetch(`${url}/sandbox/api/state`)).json()) as {
      homeViews: Record<string, { blocks: unknown[] }>;
    };
    const blocks = state.homeViews.U0LOCAL?.blocks ?? [];
    expect(blocks.length).toBeGreaterThan(0);
    expect(await home.locator(':scope > .blk').count()).toBe(blocks.length);
    expect(await home.textContent()).toContain('onerror="window.__pwned=1"');
    expect(await page.locator('#home img, #home script').count()).toBe(0);
    await page.screenshot({ path: 'docs/sandbox-home.png' });
  }, 120_000);
});
