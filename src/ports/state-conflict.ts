/**
 * Another writer changed (or created) a shared state object first: re-read and apply the change
 * again. Here, not with the Kubernetes adapter, so services can recognise it without loading it.
 */
export class StateConflict extends Error {
  constructor(readonly objectName: string) {
    super(`state object ${objectName} was changed by another writer`);
    this.name = 'StateConflict';
  }
}
