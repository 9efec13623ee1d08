import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every test fails on a Block Kit violation any live Slack emulator recorded.
    setupFiles: ['test/support/block-kit-guard.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start servers on loopback ports; two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
