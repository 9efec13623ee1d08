export { firing, GROUP_KEY, notification, resolved, T0 } from '../alerts/builders.js';
export const SECOND_MS = 1_000;
