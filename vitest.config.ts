import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['test/support/fast-check.ts'],
    // Property tests run tens of seconds on a loaded 2-core machine; a hang still fails.
    testTimeout: 60_000,
    // Vitest's default is one worker fewer than the cores: one on CI's two.
    // Many files wait on fsyncs, children and timers: two workers there take
    // the suite from 19 to 12 minutes.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
