import type { AccessControl } from './access.js';
import type { FlagService } from './flag-service.js';

/** What command handlers may use. Built once in main.ts; tests build their own. */
export interface Services {
  flags: FlagService;
  access: AccessControl;
  /** The channel announcements go to. */
  channel: string;
}
