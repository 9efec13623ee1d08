/** The action IDs of the bot's buttons and menus: the messages layer puts them in, interactions match them. */

export const ALERT_ACTIONS = {
  acknowledge: 'switchyard.alert.acknowledge',
  silence: 'switchyard.alert.silence',
  unsilence: 'switchyard.alert.unsilence',
  runbook: 'switchyard.alert.runbook',
  /** Starts the bot's own runbook for the alert, in the alert's thread. */
  runRunbook: 'switchyard.alert.run-runbook',
  /** The escalation DM's link to the alert's message. */
  openAlert: 'switchyard.alert.open',
  killSwitch: 'switchyard.alert.kill-switch',
  rollback: 'switchyard.alert.rollback',
} as const;

/** The Silence menu's choices (option value `<groupId>:<duration>`). */
export const SILENCE_CHOICES = [
  { label: '1 hour', value: '1h' },
  { label: '4 hours', value: '4h' },
  { label: '24 hours', value: '24h' },
] as const;

/** The buttons of a runbook step; each click's value is `<run id>:<step index>`. */
export const RUNBOOK_ACTIONS = {
  check: 'switchyard.runbook.check',
  doIt: 'switchyard.runbook.do',
  status: 'switchyard.runbook.status',
  done: 'switchyard.runbook.done',
  skip: 'switchyard.runbook.skip',
  /** A status-update step: send its text to the status page (notify.webhooks). */
  statusUpdate: 'switchyard.runbook.status-update',
} as const;

/**
 * The checkboxes of a checklist. The block carries `checklist:<checklist id>:<mask of the ticks
 * shown>`, each option the item's id: a click changes only what differs from what was shown.
 */
export const CHECKLIST_ACTIONS = {
  toggle: 'switchyard.checklist.toggle',
} as const;

export const CHECKLIST_BLOCK_PREFIX = 'checklist';
