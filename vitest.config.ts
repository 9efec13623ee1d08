import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every test fails on a Block Kit violation any live Slack emulator recorded.
    setupFiles: ['test/support/block-kit-guard.ts'],
    // Bounds on a hang, never waited out (tests wait for events). Under `npm run test:stress` on a
    // shared 2-core machine (load average 35) one kube-flags test's 40 round trips took 31 s.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration tests start servers on loopback ports; two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
