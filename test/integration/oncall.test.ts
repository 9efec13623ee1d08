/**
 * Issue 14 item 4: `/oncall` over signed Slack requests: the escalation chain with role names, user
 * groups resolved to their members through the Slack emulator (usergroups.users.list), and for each
 * open sev1 group who is paged next and when, on the bot's injected clock.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { groupIdOf } from '../../src/ports/alert-groups.js';
import {
  ALERT_TOKEN,
  CHANNEL,
  ONCALL_MEMBER,
  OPERATOR,
  OUTSIDER,
  startTestBot,
  type TestBot,
} from '../support/bot.js';
import { sendJson, textOf } from '../support/http.js';
import { firing, notification } from '../unit/alerts/builders.js';

const MINUTE = 60_000;
const CONFIG = `
access:
  operators: [${OPERATOR}]
escalation:
  oncall: S0ONCALL
  tiers:
    - { after: 15m, notify: [S0LEADS] }
    - { after: 60m, notify: [U0ENGMGR, S0GHOSTS], name: Duty Manager }
    - { after: 4h, notify: [U0VP] }
`;
/** The bot's clock: starts at the wall clock and moves only when the test moves it. */
const clock = { at: Date.now() };
let t: TestBot;

beforeAll(async () => {
  t = await startTestBot({ configYaml: CONFIG, now: () => clock.at });
  t.slack.setUsergroup('S0LEADS', ['U0LEAD1', 'U0LEAD2']);
});
afterAll(async () => {
  await t.stop();
});
afterEach(() => {
  expect(t.slack.violations).toEqual([]);
});

const oncall = async (text = '') =>
  textOf((await t.client.slashCommand({ command: '/oncall', text, userId: OUTSIDER })).body as never);
const date = (ms: number) => `<!date^${Math.floor(ms / 1000)}^`;

function group(alertname: string, severity: string) {
  const labels = { alertname };
  return notification([firing(`${alertname}-1`, clock.at, { alertname, severity })], {
    groupKey: `{}:{alertname="${alertname}"}`,
    groupLabels: labels,
    commonLabels: { ...labels, severity },
    commonAnnotations: { summary: `${alertname} <!channel> & co` },
  });
}
const post = (body: unknown) =>
  sendJson('POST', `${t.url}/alertmanager`, body, { authorization: `Bearer ${ALERT_TOKEN}` });

describe('/oncall', () => {
  it('shows the chain with role names and each user group’s members, and that nobody is paged', async () => {
    const text = await oncall();
    expect(text).toContain(`*On-call engineer* (at once): <!subteam^S0ONCALL> (<@${ONCALL_MEMBER}>)`);
    expect(text).toContain('*Team Lead* (after 15m): <!subteam^S0LEADS> (<@U0LEAD1> <@U0LEAD2>)');
    expect(text).toContain(
      '*Duty Manager* (after 1h): <@U0ENGMGR>, <!subteam^S0GHOSTS> (members unknown: no_such_subteam)',
    );
    expect(text).toContain('*VP Engineering* (after 4h): <@U0VP>');
    expect(text).toContain('No sev1 alert group is open');
    expect(
      t.slack
        .calls('usergroups.users.list')
        .map((call) => call.params.usergroup)
        .sort(),
    ).toEqual(['S0GHOSTS', 'S0LEADS', 'S0ONCALL']);
    // `show` and a bare /oncall are the same; help lists it.
    expect(await oncall('show')).toEqual(text);
    expect(await oncall('help')).toContain('/oncall show');
  });

  it('for an open sev1, says who is paged next and when, from the injected clock', async () => {
    const opened = clock.at;
    expect((await post(group('CoreDown', 'critical'))).status).toBe(200);
    expect((await post(group('SlowQueue', 'warning'))).status).toBe(200);
    let text = await oncall();
    expect(text).toContain('*CoreDown');
    expect(text).not.toContain('SlowQueue'); // sev2: not paged by the chain
    expect(text).toContain(`Next page: *Team Lead* ${date(opened + 15 * MINUTE)}`);
    expect(text).toContain('in 15m: <!subteam^S0LEADS> (<@U0LEAD1> <@U0LEAD2>)');
    expect(text).not.toContain('<!channel>'); // the alert's text is escaped

    clock.at = opened + 5 * MINUTE;
    expect(await oncall()).toContain('in 10m: <!subteam^S0LEADS>');

    // Tier 1 falls due: the escalation timer pages the team lead; next is the duty manager.
    clock.at = opened + 15 * MINUTE;
    await t.logs.waitFor('escalation tiers due: queued');
    text = await oncall();
    expect(text).toContain(`Next page: *Duty Manager* ${date(opened + 60 * MINUTE)}`);
    expect(text).toContain('in 45m: <@U0ENGMGR>, <!subteam^S0GHOSTS>');
  });

  it('says an acknowledged group pages nobody more', async () => {
    const id = groupIdOf('{}:{alertname="CoreDown"}');
    const outcome = await t.bot.alerting.service.acknowledge(id, { id: ONCALL_MEMBER });
    expect(outcome.ok).toBe(true);
    const text = await oncall();
    expect(text).toContain(`Acknowledged by <@${ONCALL_MEMBER}>`);
    expect(text).toContain('nobody more is paged');
    expect(text).not.toContain('Next page');
    expect(t.slack.messages(CHANNEL).length).toBeGreaterThan(0);
  });
});
