/**
 * The Block Kit builders and text helpers command modules use. They live in the messages layer, the
 * one place that builds Block Kit and escapes outside text; re-exported here so commands read short.
 */
export {
  actions,
  type ButtonSpec,
  button,
  context,
  divider,
  fields,
  header,
  section,
} from '../messages/blocks.js';
export { actorLabel } from '../messages/flags.js';
export { renderChecklist } from '../messages/phase.js';
export { clip, escapeText, inlineCode, mention, plain, slackDate } from '../messages/text.js';
