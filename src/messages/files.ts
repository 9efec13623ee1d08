import type { FileShare } from '../ports/chat.js';
import { postMortemComment, postMortemFilename, renderPostMortem } from './incident.js';

/** A file as Slack takes it: its name, title, bytes (UTF-8 text here) and the message that introduces it. */
export interface RenderedFile {
  filename: string;
  title: string;
  content: string;
  /** Slack mrkdwn, bot-worded. */
  comment: string;
}

export function renderFileShare(file: FileShare): RenderedFile {
  switch (file.kind) {
    case 'post-mortem':
      return {
        filename: postMortemFilename(file.draft),
        title: 'Post-mortem draft',
        content: renderPostMortem(file.draft),
        comment: postMortemComment(file.draft, file.requestedBy),
      };
  }
}
