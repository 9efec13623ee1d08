/**
 * Moved to `src/services/alert-service.ts` (use-cases live in `src/services/`). This re-export keeps
 * the importers of other work in progress building; import the new path and delete this file.
 */
export * from '../services/alert-service.js';
