import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['test/support/fast-check.ts'],
    // Property tests run seconds on a loaded 2-core machine; a hang still fails.
    testTimeout: 30_000,
  },
});
