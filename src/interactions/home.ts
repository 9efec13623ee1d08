import { z } from 'zod';
import { type InteractionSpec, interaction } from './spec.js';

/**
 * Opening the App Home, declared so it takes the same path as every interaction (replay check,
 * metrics, log line). What the Home tab shows is left to a later issue: for now nothing is
 * published, and Slack shows the app's About page.
 */
export function homeInteractions(): InteractionSpec[] {
  return [
    interaction({
      kind: 'event',
      id: 'app_home_opened',
      group: 'home',
      name: 'open',
      permission: 'anyone',
      confirm: 'never',
      args: z.object({}),
      run: async () => undefined,
    }),
  ];
}
