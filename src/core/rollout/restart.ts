import { RESTARTED_AT_ANNOTATION } from './types.js';

/**
 * `kubectl rollout restart`: a strategic merge patch that stamps the pod template with the time, so
 * the Deployment rolls out new pods with the same spec.
 */
export function restartPatch(at: string): Record<string, unknown> {
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: at } } } } };
}
