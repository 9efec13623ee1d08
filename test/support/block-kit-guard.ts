import { afterEach } from 'vitest';
import { liveSlackEmulators } from '../../src/emulators/slack/emulator.js';

/**
 * Wired in vitest.config.ts `setupFiles`: after every test, any message a Slack emulator saw that breaks
 * a Block Kit limit (and that Slack would refuse) fails that test. A test that provokes violations on
 * purpose takes them with `emulator.takeViolations()`.
 */
afterEach(() => {
  const found = liveSlackEmulators().flatMap((emulator) => emulator.takeViolations());
  if (found.length > 0) {
    throw new Error(`Slack would refuse what this test sent (Block Kit violations):\n${found.join('\n')}`);
  }
});
