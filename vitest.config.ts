import { defineConfig } from 'vitest/config';

// Three tiers, all required in CI: unit (pure, seconds), integration (the app in-process on
// PGlite and on the real PostgreSQL server), e2e (real processes: server, agents, Docker,
// workerd, Deno, Chromium). e2e files run one at a time: they share one Docker Engine.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{common,workers,agent,cli,action,db,infra}/**/*.test.ts', 'test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
