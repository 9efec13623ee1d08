/** A declarative runbook: steps a person (or the bot, step by step) works through in a thread. */
export type RunbookStep =
  | { kind: 'check'; title: string; query: string; expect: string }
  | { kind: 'flag'; title: string; flag: string; enabled: boolean }
  | { kind: 'disable-all'; title: string }
  | { kind: 'rollback'; title: string; deployment: string }
  | { kind: 'rollout-status'; title: string; deployment: string }
  | { kind: 'manual'; title: string; text: string }
  /** Sends `text` as a `status-update` event to the configured webhooks (the status page). */
  | { kind: 'status-update'; title: string; text: string };

export interface Runbook {
  name: string;
  title: string;
  /** Alerts this runbook answers (their `runbook_url` points here). */
  alerts: string[];
  summary: string;
  steps: RunbookStep[];
}

export function findRunbook(runbooks: readonly Runbook[], name: string): Runbook | undefined {
  const wanted = name.trim().toLowerCase().replace(/_/g, '-');
  return runbooks.find(
    (runbook) => runbook.name === wanted || runbook.alerts.some((alert) => alert.toLowerCase() === wanted),
  );
}

/** One line per step, in words, for `show` and for the thread of a run. */
export function describeStep(step: RunbookStep): string {
  switch (step.kind) {
    case 'check':
      return `${step.title}: query \`${step.query}\`, expect ${step.expect}`;
    case 'flag':
      return `${step.title}: turn \`${step.flag}\` ${step.enabled ? 'on' : 'off'}`;
    case 'disable-all':
      return `${step.title}: kill switch (every new feature off)`;
    case 'rollback':
      return `${step.title}: roll back Deployment \`${step.deployment}\``;
    case 'rollout-status':
      return `${step.title}: check the rollout of \`${step.deployment}\``;
    case 'manual':
      return `${step.title}: ${step.text}`;
    case 'status-update':
      return `${step.title}: send to the status page: “${step.text}”`;
  }
}
