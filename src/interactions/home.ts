import { z } from 'zod';
import type { HomeService } from '../services/home-service.js';
import { type InteractionSpec, interaction } from './spec.js';

/**
 * Opening the App Home, declared so it takes the same path as every interaction (replay check,
 * metrics, log line). The opener is remembered and sent the Home view (views.publish, through the
 * outbox); the home service republishes it for them whenever what it shows changes.
 */
export function homeInteractions(home: Pick<HomeService, 'opened'>): InteractionSpec[] {
  return [
    interaction({
      kind: 'event',
      id: 'app_home_opened',
      group: 'home',
      name: 'open',
      permission: 'anyone',
      confirm: 'never',
      args: z.object({}),
      run: async (ctx) => {
        await home.opened(ctx.user.id);
        return undefined;
      },
    }),
  ];
}
