import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // most test files wait on the CLI child they spawn: one worker per core keeps every core busy
    // (vitest's default, cores − 1, runs one file at a time on a 2-core machine)
    maxWorkers: Math.max(2, availableParallelism()),
  },
});
