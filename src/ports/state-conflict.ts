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

/**
 * Waits a random while before attempt `attempt + 1` after a conflict (as client-go's
 * RetryOnConflict): replicas that collided would otherwise retry in lockstep and collide again.
 */
export function conflictBackoff(attempt: number): Promise<void> {
  const ceiling = Math.min(5 * 2 ** attempt, 200);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
