import { defineConfig } from 'vitest/config';

// Three tiers, all required in CI: unit (pure, seconds), integration (the app in-process on
// PGlite and on the real PostgreSQL server), e2e (real processes: server, agents, Docker,
// workerd, Deno, Chromium). e2e files that use Docker run one at a time: they share one Docker
// Engine; those that do not (e2e-processes) run side by side with the in-process tiers.
// `npm test` (test/run-tiers.sh) runs the Docker files in a Vitest process of their own, beside
// the rest, since one Vitest run would only start them once everything else has finished.
/**
 * End-to-end files that start real processes (servers, workerd, Deno, Chromium, the CLI, simulated
 * agents) but no container: they share no Docker Engine with the others, so they run beside them.
 */
const WITHOUT_DOCKER = [
  'test/e2e/action-deploy.test.ts',
  'test/e2e/action-oidc.test.ts',
  'test/e2e/certificate-renewal.test.ts',
  'test/e2e/certificates-dns01.test.ts',
  'test/e2e/certificates.test.ts',
  'test/e2e/contract.test.ts',
  'test/e2e/fault-control-plane.test.ts',
  'test/e2e/ingress-runtimes.test.ts',
  'test/e2e/kubectl-explain.test.ts',
  'test/e2e/kubectl-read.test.ts',
  'test/e2e/kubectl-write.test.ts',
  'test/e2e/kubectl-watch.test.ts',
  'test/e2e/server-lifecycle.test.ts',
  'test/e2e/ui-runtimes.test.ts',
];

/**
 * End-to-end files that run on a Docker Engine of their project's own (second-engine.setup.ts),
 * one after another, so `npm test` runs them in a lane of their own beside the shared engine's
 * files: the shared engine's files that spend most of their time waiting (back-offs, secrets,
 * Jobs, volumes), and the two-node services test, which starts two more engines. The dashboard's
 * live test (one container, whose logs it follows) and kubectl's logs could use the shared one:
 * they run here because this lane has the time to spare and the others have none.
 */
const OWN_ENGINE = [
  'test/e2e/ui-live.test.ts',
  'test/e2e/services-cluster.test.ts',
  'test/e2e/init-containers.test.ts',
  'test/e2e/jobs.test.ts',
  'test/e2e/secret-waits.test.ts',
  'test/e2e/volumes.test.ts',
  'test/e2e/persistent-volume-claims.test.ts',
  'test/e2e/kubectl-logs.test.ts',
  'test/e2e/kubectl-exec.test.ts',
  'test/e2e/kubectl-port-forward.test.ts',
];

/**
 * Agent faults on an engine the file starts (and restarts) for itself: minutes of waiting out
 * node timeouts measured on the machine, so `npm test` gives it a lane of its own. The CLI's
 * workflow and the dashboard's stub test (no Docker, minutes each) run beside it, then two kubectl
 * files: the three-wide lane has no time to spare, and this one spends most of its time waiting.
 */
const FAULTS = [
  'test/e2e/fault-agent.test.ts',
  'test/e2e/cli-workflow.test.ts',
  'test/e2e/ui-stub.test.ts',
  // No Docker either: kubectl files that would lengthen the busiest lane (unit, integration and
  // the other process files), run here once the CLI and stub files are done.
  'test/e2e/kubectl-create.test.ts',
  'test/e2e/kubectl-ssa.test.ts',
];

/** End-to-end files start the control plane and agents from bundles built once per project. */
const BUNDLES = 'test/setup/bundles.setup.ts';

export default defineConfig({
  test: {
    // Most of an end-to-end file's time is waiting on the processes it started: three workers on
    // two cores keep the machine busy without starving the timing-sensitive files.
    maxWorkers: 3,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{common,workers,agent,cli,action,db,infra}/**/*.test.ts', 'test/unit/**/*.test.ts'],
          testTimeout: 20_000,
          // Pure code: the files share their workers' module graph instead of each importing it
          // again, which was two thirds of this tier's CPU time (50 s → 19 s on two cores).
          isolate: false,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Each file builds its own apps and databases; sharing the module graph across files
          // saves importing the whole control plane again per file.
          isolate: false,
          // Bounds for a loaded two-core CI machine, where a route-wide check has passed 60 s.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: [...WITHOUT_DOCKER, ...OWN_ENGINE, ...FAULTS],
          globalSetup: [BUNDLES],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e-own-engine',
          include: OWN_ENGINE,
          globalSetup: [BUNDLES, 'test/e2e/support/second-engine.setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // One at a time: they share the project's engine.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e-faults',
          include: FAULTS,
          globalSetup: [BUNDLES],
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
      {
        // Real processes, but no Docker Engine: each starts its own servers on its own ports and its
        // own databases, so they run side by side with the in-process tiers.
        test: {
          name: 'e2e-processes',
          include: WITHOUT_DOCKER,
          globalSetup: [BUNDLES],
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
