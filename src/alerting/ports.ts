/**
 * Moved to `src/ports/alerting.ts` (ports live in `src/ports/`). This re-export keeps the importers
 * of other work in progress building; import the new path and delete this file.
 */
export type * from '../ports/alerting.js';
