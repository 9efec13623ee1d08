import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  classifyDeliveryError,
  DeliveryError,
  MAX_DELIVERY_ATTEMPTS,
} from '../../../src/adapters/notify/delivery.js';
import { FanOutNotifier } from '../../../src/adapters/notify/notifier.js';
import { loadConfig } from '../../../src/config/load.js';
import { applyNotification } from '../../../src/core/alerts/group.js';
import {
  acknowledgeEvent,
  changeEvents,
  dedupKey,
  pagerDutyEvent,
  webhookBody,
} from '../../../src/core/notify/events.js';
import { renderTemplate, unknownPlaceholders } from '../../../src/core/notify/template.js';
import type { AlertNotifier } from '../../../src/ports/alerting.js';
import { tempDir } from '../../support/bot.js';
import { firing, notification, resolved, T0 } from '../alerts/builders.js';

function configFile(text: string): string {
  const path = join(tempDir(), 'switchyard.yml');
  writeFileSync(path, text);
  return path;
}

const values = (fields: Record<string, string>) => ({
  fields: {
    event: '',
    text: '',
    at: '',
    by: '',
    severity: '',
    status: '',
    alertname: '',
    summary: '',
    description: '',
    groupId: '',
    groupKey: '',
    firing: '',
    ...fields,
  },
  labels: { team: 'messaging' },
  annotations: {},
});

describe('webhook templates', () => {
  it('fills placeholders inside strings only; values stay text, whatever they hold', () => {
    const template = {
      title: '{{ alertname }} is {{status}}',
      '{{alertname}}': ['{{labels.team}}', '{{labels.missing}}', 3, true, null],
      nested: { text: '{{summary}}' },
    };
    const hostile = '"}, "url": "http://evil.example", "x": {{event}}';
    const out = renderTemplate(template, values({ alertname: 'Down', status: 'firing', summary: hostile }));
    expect(out).toEqual({
      title: 'Down is firing',
      '{{alertname}}': ['messaging', '', 3, true, null], // keys are never templated
      nested: { text: hostile }, // a value is not expanded again
    });
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });

  it('keeps a __proto__ key a plain key', () => {
    const template = JSON.parse('{"__proto__": {"polluted": "{{event}}"}}');
    const out = renderTemplate(template, values({ event: 'opened' })) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":"opened"}}');
  });

  it('names unknown placeholders', () => {
    expect(unknownPlaceholders({ a: '{{alertname}} {{labels.x}} {{annotations.y}}' })).toEqual([]);
    expect(unknownPlaceholders({ a: ['{{url}}', '{{labels.}}', '{{ constructor }}'] })).toEqual([
      'url',
      'labels.',
      'constructor',
    ]);
  });
});

describe('notify configuration', () => {
  it('defaults to no webhooks and no PagerDuty', () => {
    expect(loadConfig({}).file.notify).toEqual({ webhooks: [] });
  });

  it('fills the defaults of a webhook: every event, sev1 and sev2', () => {
    const config = loadConfig({
      SWITCHYARD_CONFIG: configFile('notify:\n  webhooks:\n    - url: https://status.example.com/hook\n'),
    });
    expect(config.file.notify.webhooks).toEqual([
      {
        url: 'https://status.example.com/hook',
        events: ['opened', 'acknowledged', 'resolved', 'status-update'],
        severities: ['sev1', 'sev2'],
      },
    ]);
  });

  it.each([
    [
      'notify:\n  webhooks:\n    - url: ftp://x.example\n',
      /key notify\.webhooks\.0\.url: expected an http\(s\) URL/,
    ],
    [
      'notify:\n  webhooks:\n    - { url: "https://x.example", events: [fired] }\n',
      /key notify\.webhooks\.0\.events\.0: expected one of opened, acknowledged, resolved, status-update/,
    ],
    [
      'notify:\n  webhooks:\n    - { url: "https://x.example", template: { t: "{{url}}" } }\n',
      /key notify\.webhooks\.0\.template: unknown placeholder \{\{url\}\}/,
    ],
    [
      'notify:\n  pagerduty: { routingKeyEnv: "lower-case" }\n',
      /key notify\.pagerduty\.routingKeyEnv: expected an environment variable name/,
    ],
    [
      'notify:\n  pagerduty: { routingKeyEnv: PD_KEY, severities: [p1] }\n',
      /key notify\.pagerduty\.severities\.0/,
    ],
  ])('refuses %j, naming the key', (yaml, message) => {
    expect(() => loadConfig({ SWITCHYARD_CONFIG: configFile(yaml) })).toThrow(message);
  });

  it('reads the routing key only from the environment variable the config names', () => {
    const path = configFile('notify:\n  pagerduty: { routingKeyEnv: PD_KEY }\n');
    expect(() => loadConfig({ SWITCHYARD_CONFIG: path })).toThrow(
      /key notify\.pagerduty\.routingKeyEnv: environment variable PD_KEY is not set/,
    );
    const config = loadConfig({ SWITCHYARD_CONFIG: path, PD_KEY: 'k'.repeat(32) });
    expect(config.secrets?.pagerdutyRoutingKey).toBe('k'.repeat(32));
    expect(config.file.notify.pagerduty).toEqual({
      routingKeyEnv: 'PD_KEY',
      severities: ['sev1'],
      url: 'https://events.pagerduty.com/v2/enqueue',
    });
    expect(JSON.stringify(config.file)).not.toContain('k'.repeat(32));
  });
});

describe('which events a group change makes', () => {
  const alert = firing('fp', T0);
  const opened = applyNotification(undefined, notification([alert]), T0);
  const group = { id: 'g1', state: opened.state };

  it('opens and resolves only at the target severities', () => {
    expect(changeEvents(opened.state, opened.changes, ['sev1', 'sev2'])).toEqual(['opened']);
    expect(changeEvents(opened.state, opened.changes, ['sev2'])).toEqual([]);
    const again = applyNotification(opened.state, notification([alert]), T0 + 1);
    expect(changeEvents(again.state, again.changes, ['sev1'])).toEqual([]); // a resend
    const done = applyNotification(opened.state, notification([resolved(alert, T0 + 5)]), T0 + 10);
    expect(changeEvents(done.state, done.changes, ['sev1'])).toEqual(['resolved']);
    expect(acknowledgeEvent(opened.state, ['sev1'])).toBe(true);
    expect(acknowledgeEvent(done.state, ['sev1'])).toBe(false);
  });

  it('a group raised into the target severities is news: opened', () => {
    const low = firing('fp', T0, { severity: 'info' });
    const first = applyNotification(undefined, notification([low]), T0);
    expect(changeEvents(first.state, first.changes, ['sev1'])).toEqual([]);
    const raised = applyNotification(
      first.state,
      notification([{ ...low, labels: { ...low.labels, severity: 'critical' } }]),
      T0 + 1,
    );
    expect(changeEvents(raised.state, raised.changes, ['sev1'])).toEqual(['opened']);
  });

  it('builds the default webhook body and the PagerDuty events of one incident', () => {
    expect(webhookBody({ event: 'opened', group, at: T0 })).toMatchObject({
      version: '1',
      event: 'opened',
      at: '2026-01-10T03:00:00.000Z',
      by: null,
      text: '[SEV1] opened: MessagingSystemDown - Messaging system is down',
      group: { id: 'g1', severity: 'sev1', status: 'firing', firing: 1 },
    });
    const trigger = pagerDutyEvent('trigger', group);
    expect(trigger).toMatchObject({
      event_action: 'trigger',
      dedup_key: dedupKey(group),
      payload: { severity: 'critical', summary: '[SEV1] MessagingSystemDown - Messaging system is down' },
    });
    expect(pagerDutyEvent('acknowledge', group)).toEqual({
      event_action: 'acknowledge',
      dedup_key: dedupKey(group),
    });
    expect(pagerDutyEvent('resolve', group).dedup_key).toBe(trigger.dedup_key);
    expect(JSON.stringify(trigger)).not.toContain('routing_key');
  });
});

describe('delivery errors', () => {
  it('retries 5xx and network errors, drops 4xx, waits out 429', () => {
    expect(classifyDeliveryError(new DeliveryError('HTTP 503', 1, 503)).kind).toBe('retry');
    expect(classifyDeliveryError(new DeliveryError('request failed', 1)).kind).toBe('retry');
    expect(classifyDeliveryError(new DeliveryError('HTTP 503', MAX_DELIVERY_ATTEMPTS, 503)).kind).toBe(
      'drop',
    );
    expect(classifyDeliveryError(new DeliveryError('HTTP 400', 1, 400)).kind).toBe('drop');
    expect(classifyDeliveryError(new DeliveryError('HTTP 302', 1, 302)).kind).toBe('drop');
    expect(classifyDeliveryError(new DeliveryError('HTTP 429', 1, 429, 7_000))).toEqual({
      kind: 'rate-limited',
      retryAfterMs: 7_000,
    });
  });
});

describe('the fan-out notifier', () => {
  const record = {
    id: 'g1',
    state: applyNotification(undefined, notification([firing('fp', T0)]), T0).state,
    sentEscalations: [],
  };

  it('tells Slack first and as before; a failure beyond Slack is logged, never thrown', async () => {
    const calls: string[] = [];
    const errors: string[] = [];
    const recorder = (name: string, fail = false) =>
      new Proxy({} as AlertNotifier, {
        get: (_target, method: string) => async () => {
          calls.push(`${name}.${method}`);
          if (fail) throw new Error(`${name} down`);
        },
      });
    const fan = new FanOutNotifier(
      recorder('slack'),
      [recorder('webhooks', true), recorder('pd')],
      (error, method) => errors.push(`${method}: ${(error as Error).message}`),
    );
    await fan.groupChanged(record, [{ kind: 'opened' }]);
    await fan.acknowledged(record, { id: 'U1' });
    expect(calls).toEqual([
      'slack.groupChanged',
      'webhooks.groupChanged',
      'pd.groupChanged',
      'slack.acknowledged',
      'webhooks.acknowledged',
      'pd.acknowledged',
    ]);
    expect(errors).toEqual(['groupChanged: webhooks down', 'acknowledged: webhooks down']);
    // Slack's own failure is the alert's failure, as without the fan-out.
    const failing = new FanOutNotifier(recorder('slack', true), [recorder('pd')], () => undefined);
    await expect(failing.refresh(record)).rejects.toThrow('slack down');
  });
});
