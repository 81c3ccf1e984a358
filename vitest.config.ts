import { defineConfig } from 'vitest/config';

// One command runs every tier: unit tests beside the source, integration tests that start the
// server on real ports against SQLite and PostgreSQL, and (later) browser tests.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './vitest.summary-reporter.ts'],
    // Each file gets its own throwaway databases and ports, so files may run side by side.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
