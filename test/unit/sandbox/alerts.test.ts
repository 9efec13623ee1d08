import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { webhookPayloadSchema } from '../../../src/adapters/alertmanager/webhook-schema.js';
import { alertmanagerPayload, chooseAlert, SEED_ALERTS } from '../../../src/sandbox/alerts.js';

interface Rule {
  alert: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const rules = (
  parse(readFileSync('deploy/prometheus/alerting_rules.yml', 'utf8')) as { groups: Array<{ rules: Rule[] }> }
).groups.flatMap((group) => group.rules);

describe('the sandbox alerts', () => {
  it("are the seed's alerting rules: names, labels, summaries and runbooks", () => {
    expect(SEED_ALERTS.map((a) => a.name)).toEqual(rules.map((rule) => rule.alert));
    for (const rule of rules) {
      const alert = SEED_ALERTS.find((a) => a.name === rule.alert)!;
      const { severity, ...labels } = rule.labels;
      expect(alert.severity, rule.alert).toBe(severity);
      expect(alert.labels, rule.alert).toEqual(labels);
      expect(alert.summary, rule.alert).toBe(rule.annotations.summary);
      expect(alert.runbookUrl, rule.alert).toBe(rule.annotations.runbook_url);
    }
  });

  it('are sent as Alertmanager version 4 payloads the webhook accepts, firing then resolved', () => {
    const alert = SEED_ALERTS[2]!;
    const start = new Date('2026-01-01T00:00:00Z');
    const firing = alertmanagerPayload(alert, 'firing', start);
    const resolved = alertmanagerPayload(alert, 'resolved', new Date('2026-01-01T00:05:00Z'), start);
    for (const payload of [firing, resolved])
      expect(webhookPayloadSchema.safeParse(payload).success).toBe(true);
    expect(firing.alerts[0]!.endsAt).toBe('0001-01-01T00:00:00Z');
    expect(resolved.alerts[0]!.startsAt).toBe(firing.alerts[0]!.startsAt);
    expect(resolved.alerts[0]!.fingerprint).toBe(firing.alerts[0]!.fingerprint);
    expect(resolved.groupKey).toBe(firing.groupKey);
  });

  it('refuses a mistyped name with the nearest seed alert, and takes one of your own with a severity', () => {
    expect(chooseAlert('messagingsystemdown')).toMatchObject({
      ok: true,
      alert: { name: 'MessagingSystemDown' },
    });
    const typo = chooseAlert('MessagingHighLatncy');
    expect(typo.ok).toBe(false);
    expect(!typo.ok && typo.error).toContain('Did you mean MessagingHighLatency?');
    expect(chooseAlert('<script>', 'critical')).toMatchObject({ ok: true, alert: { name: '<script>' } });
    expect(chooseAlert('x', 'urgent')).toEqual({
      ok: false,
      error: '--severity: expected critical, warning or info, got "urgent"',
    });
  });
});
