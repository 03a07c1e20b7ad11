import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['test/support/fast-check.ts'],
    // Property tests run tens of seconds on a loaded 2-core machine; a hang still fails.
    testTimeout: 60_000,
    // Vitest's default is one worker fewer than the cores: one on CI's two.
    // Many files wait on fsyncs, children and timers: on a 2-vCPU VM the suite
    // took 19 minutes with one worker, and 5 to 12 with two.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
