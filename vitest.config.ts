import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    globalSetup: ['./test/support/wasmSetup.ts'],
    reporters: ['default', './test/support/summaryReporter.ts'],
  },
});
