/**
 * The App Home as data: what the home service gathers and the messages layer renders. Like the chat
 * port's notices, no Block Kit here.
 */
/** Everything Home shows. No clock in it: every time is absolute, so the same state renders the same view. */
export interface HomeState {
  channel: string;
  phase: {
    current: { number: number; name: string };
    /** Absent after the last phase. */
    next?: { number: number; name: string; checklist: string[]; toEnable: string[] };
    /** Flags of later phases already on. */
    ahead: string[];
  };
  /** Flags whose value differs from their default, with the last change. */
  flags: HomeFlag[];
  /** Alert groups still firing, most severe first. */
  alerts: HomeAlert[];
  /** Phase advance requests waiting for approvals or their gates. */
  approvals: HomeApproval[];
  /** Runbook runs in progress. */
  runbooks: HomeRunbook[];
  escalation: {
    oncall?: string;
    tiers: Array<{ name: string; after: string; notify: string[] }>;
  };
}

export interface HomeFlag {
  key: string;
  enabled: boolean;
  by?: string;
  at?: string;
  reason?: string;
}

export interface HomeAlert {
  title: string;
  severity: 'sev1' | 'sev2' | 'sev3';
  firingCount: number;
  openedAt: number;
  acknowledged?: { by: string; at: number };
  silencedUntil?: number;
  message?: { channel: string; ts: string };
  /** The next escalation tier of an unacknowledged sev1: who is paged, when. */
  nextPage?: { tier: string; notify: string[]; at: number };
}

export interface HomeApproval {
  from: string;
  to: string;
  requester: string;
  approvals: string[];
  required: number;
  status: string;
  expiresAt: string;
  channel: string;
  ts: string;
}

export interface HomeRunbook {
  title: string;
  startedBy: string;
  startedAt: string;
  /** 1-based index of the current step; absent when none is current. */
  step?: number;
  steps: number;
  stepTitle?: string;
  channel: string;
  ts: string;
}

/** Publishes the Home view to users (through the outbox: one pending publish per user, rendered when sent). */
export interface HomePublisher {
  publish(users: readonly string[], why: 'opened' | 'changed'): Promise<void>;
}
