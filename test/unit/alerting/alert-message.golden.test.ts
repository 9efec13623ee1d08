/**
 * The alert group message, checked against golden files (test/fixtures/golden/alert-message.*.json):
 * what the on-call engineer sees, diffed in review. Fixed times, so the goldens are stable.
 * Regenerate with `UPDATE_GOLDEN=1 npx vitest run test/unit/alerting/alert-message.golden.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { acknowledge, applyNotification, recordSilence } from '../../../src/core/alerts/group.js';
import type { Alert } from '../../../src/core/alerts/types.js';
import { blockKitViolations } from '../../../src/emulators/slack/block-kit-limits.js';
import { type AlertMessageOptions, renderAlertMessage } from '../../../src/messages/alert-message.js';
import type { GroupRecord } from '../../../src/ports/alert-groups.js';
import { expectGolden } from '../../support/golden.js';
import { firing, HOUR, MINUTE, notification, resolved, T0 } from '../alerts/builders.js';

/** The seed's runbooks answer these alert names (as `/runbook run <alertname>` resolves them). */
const RUNBOOKS: Record<string, string> = {
  MessagingSystemDown: 'system-down',
  MessagingHighLatency: 'high-latency',
};
const OPTIONS: AlertMessageOptions = {
  oncall: 'S0ONCALL',
  silences: true,
  rollback: true,
  handles: new Map([['S0ONCALL', 'messaging-oncall']]),
  runbookFor: (alertName) => RUNBOOKS[alertName],
};
const ID = 'c0ffee0123456789abcdef01';

/** The labels every alert shares, as Alertmanager computes `commonLabels`. */
function commonLabelsOf(alerts: readonly Alert[]): Record<string, string> {
  const [first, ...rest] = alerts;
  return Object.fromEntries(
    Object.entries(first?.labels ?? {}).filter(([name, value]) =>
      rest.every((a) => a.labels[name] === value),
    ),
  );
}

function recordOf(
  alerts: Alert[],
  overrides: Parameters<typeof notification>[1] = {},
  receivedAt = T0 + MINUTE,
): GroupRecord {
  const payload = notification(alerts, { commonLabels: commonLabelsOf(alerts), ...overrides });
  const { state } = applyNotification(undefined, payload, receivedAt);
  return { id: ID, state, sentEscalations: [] };
}

const grouped = (alertname: string) => ({ groupLabels: { alertname, deployment: 'messaging-core' } });

function golden(name: string, record: GroupRecord, options: AlertMessageOptions = OPTIONS) {
  const message = renderAlertMessage(record, options);
  expect(blockKitViolations({ text: message.text, blocks: message.blocks })).toEqual([]);
  expectGolden(`alert-message.${name}`, message);
  return message;
}

describe('alert message goldens', () => {
  it('sev1 firing: pages on-call, every button; a resolved alert of the group keeps its tag', () => {
    const settled = resolved(firing('a333', T0 - 5 * MINUTE), T0 + 30_000);
    golden('sev1-firing', recordOf([firing('a1', T0), firing('a22', T0 + 20_000), settled]));
  });

  it('sev1 received 5 hours after it started: says so, and that escalation counts from receipt', () => {
    golden('sev1-received-late', recordOf([firing('a1', T0)], {}, T0 + 5 * HOUR));
  });

  it('sev2 firing: on-call named by its handle, not paged', () => {
    const alert = (fp: string) => {
      const a = firing(fp, T0, { alertname: 'MessagingHighLatency', severity: 'warning' });
      return {
        ...a,
        annotations: {
          summary: 'p99 delivery latency above 2s',
          description: `p99 latency on ${a.labels.instance} is 2.7s (threshold 2s)`,
          runbook_url: 'https://switchyard.example/runbooks/high-latency',
        },
      };
    };
    golden(
      'sev2-firing',
      recordOf([alert('w1')], {
        ...grouped('MessagingHighLatency'),
        commonAnnotations: { summary: 'p99 delivery latency above 2s' },
      }),
    );
  });

  it('sev3 firing: quiet', () => {
    const a = firing('i1', T0, { alertname: 'RetryQueueGrowing', severity: 'info' });
    const alert = {
      ...a,
      annotations: { summary: 'Retry queue above 1,000 messages for 10 minutes' },
    };
    golden(
      'sev3-firing',
      recordOf([alert], {
        ...grouped('RetryQueueGrowing'),
        commonAnnotations: { summary: 'Retry queue above 1,000 messages for 10 minutes' },
      }),
    );
  });

  it('acknowledged: who and when, no Acknowledge button', () => {
    const record = recordOf([firing('a1', T0)]);
    golden('sev1-acknowledged', {
      ...record,
      state: acknowledge(record.state, 'U0OPERATOR', T0 + 4 * MINUTE),
    });
  });

  it('silenced: who and until when, Unsilence instead of Silence', () => {
    const record = recordOf([firing('a1', T0)]);
    const state = recordSilence(record.state, {
      id: 'silence-1',
      by: 'U0OPERATOR',
      until: T0 + 5 * MINUTE + HOUR,
    });
    golden('sev1-silenced', { ...record, state });
  });

  it('resolved: with its duration, no action buttons', () => {
    const a1 = firing('a1', T0);
    const opened = recordOf([a1]);
    const { state } = applyNotification(
      acknowledge(opened.state, 'U0OPERATOR', T0 + 4 * MINUTE),
      notification([resolved(a1, T0 + 12 * MINUTE + 34_000)], { commonLabels: commonLabelsOf([a1]) }),
      T0 + 13 * MINUTE,
    );
    golden('sev1-resolved', {
      ...opened,
      state,
      message: { channel: 'C0INCIDENTS', ts: '1768014060.000100' },
    });
  });

  it('300 alerts with 20,000-character descriptions: summarised within Block Kit limits', () => {
    const description = `Target down. ${'x'.repeat(20_000 - 13)}`;
    const alerts = Array.from({ length: 300 }, (_, i) => {
      const alert = firing(`big-${String(i).padStart(3, '0')}`, T0 + i * 1_000, {
        instance: `10.1.${Math.floor(i / 250)}.${i % 250}:9090`,
      });
      return { ...alert, annotations: { ...alert.annotations, description } };
    });
    expect(description).toHaveLength(20_000);
    golden('sev1-300-alerts', recordOf(alerts, { truncatedAlerts: 40 }));
  });
});
