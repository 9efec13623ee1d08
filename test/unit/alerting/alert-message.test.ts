import { describe, expect, it } from 'vitest';
import { parseWebhookPayload } from '../../../src/adapters/alertmanager/webhook-schema.js';
import { applyNotification } from '../../../src/core/alerts/group.js';
import { blockKitViolations } from '../../../src/emulators/slack/block-kit-limits.js';
import { renderAlertMessage } from '../../../src/messages/alert-message.js';
import { changesNote } from '../../../src/messages/alert-notes.js';
import type { GroupRecord } from '../../../src/ports/alert-groups.js';
import { firing, notification, resolved, T0 } from './fixtures.js';

function record(alerts = [firing('a', T0)], extra: Partial<GroupRecord> = {}): GroupRecord {
  const { state } = applyNotification(undefined, notification(alerts), T0 + 1000);
  return { id: 'g1', state, sentEscalations: [], ...extra };
}

const OPTIONS = { oncall: 'S0ONCALL', silences: true, rollback: false };
const actionIds = (blocks: unknown) =>
  [...JSON.stringify(blocks).matchAll(/"action_id":"([^"]+)"/g)].map((m) => m[1]);

describe('renderAlertMessage', () => {
  it('shows a firing sev1 group with the page, and the buttons an operator needs', () => {
    const message = renderAlertMessage(record(), OPTIONS);
    expect(message.text).toBe(
      '<!subteam^S0ONCALL> :red_circle: SEV1 firing (1): MessagingSystemDown (deployment=messaging-core) - Messaging system is down',
    );
    expect(actionIds(message.blocks)).toEqual([
      'switchyard.alert.acknowledge',
      'switchyard.alert.silence',
      'switchyard.alert.runbook',
      'switchyard.alert.kill-switch',
    ]);
    expect(JSON.stringify(message.blocks)).toContain(
      '"url":"https://switchyard.example/runbooks/system-down"',
    );
    expect(blockKitViolations({ text: message.text, blocks: message.blocks })).toEqual([]);
  });

  it('offers Roll back only when enabled and the group names a deployment; no Silence without Alertmanager', () => {
    const ids = actionIds(
      renderAlertMessage(record(), { ...OPTIONS, rollback: true, silences: false }).blocks,
    );
    expect(ids).toContain('switchyard.alert.rollback');
    expect(ids).not.toContain('switchyard.alert.silence');
  });

  it('offers no emergency buttons (Kill switch, Roll back) for a sev3', () => {
    const ids = actionIds(
      renderAlertMessage(record([firing('i', T0, { severity: 'info' })]), { ...OPTIONS, rollback: true })
        .blocks,
    );
    expect(ids).toEqual([
      'switchyard.alert.acknowledge',
      'switchyard.alert.silence',
      'switchyard.alert.runbook',
    ]);
  });

  it('shows a resolved group as resolved, with its duration, and without action buttons', () => {
    const alert = firing('a', T0);
    const { state } = applyNotification(
      record([alert]).state,
      notification([resolved(alert, T0 + 754_000)]),
      T0 + 755_000,
    );
    const message = renderAlertMessage({ id: 'g1', state, sentEscalations: [] }, OPTIONS);
    expect(message.text).toMatch(/^:white_check_mark: SEV1 resolved: .* \(lasted 12m34s\)$/);
    expect(actionIds(message.blocks)).toEqual(['switchyard.alert.runbook']);
  });

  it('stays within Block Kit limits for 500 alerts with huge, hostile annotations', () => {
    const alerts = Array.from({ length: 500 }, (_, i) => {
      const a = firing(`f${i}`, T0 + i, { instance: `<!channel>${'i'.repeat(300)}${i}` });
      return { ...a, annotations: { summary: `${'&<>'.repeat(5000)}`, description: 'd'.repeat(50_000) } };
    });
    const message = renderAlertMessage(
      record(alerts, { state: { ...record(alerts).state, truncatedAlerts: 99 } }),
      OPTIONS,
    );
    expect(blockKitViolations({ text: message.text, blocks: message.blocks })).toEqual([]);
    expect(JSON.stringify(message.blocks)).not.toContain('<!channel>');
    expect(JSON.stringify(message.blocks)).toContain('Alertmanager left 99 alerts');
  });
});

describe('changesNote', () => {
  it('lists new firing alerts (ten at most) and pages on-call when the group turns sev1', () => {
    const first = applyNotification(undefined, notification([firing('w', T0, { severity: 'warning' })]), T0);
    const more = Array.from({ length: 12 }, (_, i) => firing(`n${i}`, T0 + i));
    const next = applyNotification(
      first.state,
      notification([firing('w', T0, { severity: 'warning' }), ...more]),
      T0 + 60_000,
    );
    const note = changesNote({ id: 'g', state: next.state, sentEscalations: [] }, next.changes, 'S0ONCALL')!;
    expect(note.split('\n')[0]).toBe(':fire: Firing (12):');
    expect(note).toContain('…and 2 more');
    expect(note).toContain(':arrow_up: Severity sev2 → sev1. <!subteam^S0ONCALL>');
  });
});

describe('parseWebhookPayload', () => {
  it('accepts a version 4 payload and names the path of a wrong type', () => {
    expect(parseWebhookPayload(notification([firing('a', T0)])).ok).toBe(true);
    const bad = parseWebhookPayload({ ...notification([firing('a', T0)]), truncatedAlerts: 'many' });
    expect(bad).toMatchObject({ ok: false, path: 'truncatedAlerts' });
    expect(parseWebhookPayload([])).toMatchObject({ ok: false, path: '(root)' });
  });
});
