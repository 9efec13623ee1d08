import { FlagCatalog } from '../../src/core/flags/catalog.js';
import { type AuditEntry, type FlagState, initialFlagState } from '../../src/core/flags/state.js';
import type { FlagStore } from '../../src/ports/flag-store.js';
import { AccessControl } from '../../src/services/access.js';
import { FlagService } from '../../src/services/flag-service.js';
import type { Services } from '../../src/services/services.js';

/** A flag store in memory, for tests of commands and rendering without the disk. */
export class MemoryFlagStore implements FlagStore {
  state: FlagState;
  entries: AuditEntry[] = [];

  constructor(catalog: FlagCatalog) {
    this.state = initialFlagState(catalog);
  }
  async load() {
    return this.state;
  }
  async commit(state: FlagState, entries: readonly AuditEntry[], applyExternally?: () => Promise<void>) {
    await applyExternally?.();
    this.entries.push(...entries);
    this.state = state;
  }
  async history(filter: { flag?: string; limit: number }) {
    return this.entries
      .filter((entry) => !filter.flag || entry.flag === filter.flag)
      .reverse()
      .slice(0, filter.limit);
  }
  async checkWritable() {}
}

/** Services over an in-memory store, with U0OPERATOR as the only operator and a settable clock. */
export function memoryServices(now: () => Date = () => new Date()) {
  const catalog = new FlagCatalog();
  const store = new MemoryFlagStore(catalog);
  const access = new AccessControl(
    { operators: ['U0OPERATOR'], approvers: [] },
    { usergroupMembers: async () => [] },
  );
  const services: Services = { flags: new FlagService(catalog, store, now), access, channel: 'C0INCIDENTS' };
  return { services, store };
}
