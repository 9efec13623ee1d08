/** Where the alert buttons' handlers have always found these; the message itself is in `src/messages/`. */
export { ALERT_ACTIONS, alertNameOf, deploymentOf, SILENCE_CHOICES } from '../../messages/alert-message.js';
