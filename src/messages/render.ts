import type { Notice } from '../ports/chat.js';
import type { RenderedMessage } from './blocks.js';
import { renderFlagsChanged } from './flags.js';
import { renderPhaseOutcome, renderPhaseRequest } from './phase.js';
import { announcement, progressMessage, resultMessage } from './rollback.js';
import { renderRunHeader, renderStep } from './runbook.js';
import { plain } from './text.js';

/** Any notice a use-case hands to the chat port, as Slack shows it. */
export function renderNotice(notice: Notice): RenderedMessage {
  switch (notice.kind) {
    case 'note':
      return { text: plain(notice.text) };
    case 'flags-changed':
      return renderFlagsChanged(notice);
    case 'phase-request':
      return renderPhaseRequest(notice.request);
    case 'phase-outcome':
      return renderPhaseOutcome(notice.request);
    case 'rollback-started':
      return announcement(notice.headline);
    case 'rollback-progress':
      return progressMessage(notice.deployment, notice.status, notice.elapsedMs);
    case 'rollback-result':
      return resultMessage(notice.result);
    case 'runbook-header':
      return renderRunHeader(notice.runbook, notice.run, notice.now);
    case 'runbook-step': {
      const step = notice.runbook.steps[notice.index];
      return step
        ? renderStep(notice.runbook, notice.run, notice.index, step)
        : { text: `Step ${notice.index + 1} of ${plain(notice.runbook.title, 200)}` };
    }
  }
}
