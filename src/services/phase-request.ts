/** A phase advance request as stored: data in the core, shown by the messages layer. */
export type { PhaseRequest } from '../core/phases/request.js';

import type { PhaseRequest } from '../core/phases/request.js';

export type PhaseRequests = Record<string, PhaseRequest>;
