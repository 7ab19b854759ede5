import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { TestProject } from 'vitest/node';
import { buildAgent } from '../../agent/build.ts';

/**
 * Builds the control plane and the agent once per end-to-end project, as the single files they
 * run as outside a checkout, and names them to the project's files (BERTH_TEST_SERVER_BUNDLE,
 * BERTH_TEST_AGENT_BUNDLE). Starting a process from its bundle costs a third of the CPU time that
 * compiling the sources through tsx costs (1.1 s against 2.8 s for the control plane), and the
 * lanes start such processes a hundred times, beside each other, on two cores.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const tag = `${process.pid}-${project.name}`;
  // What `npm start` builds: packages stay outside, so it lies in dist/ as `npm start`'s own does
  // (the control plane finds db/migrations from there).
  const server = join(root, 'dist', `server-test-${tag}.mjs`);
  const agentDir = mkdtempSync(join(tmpdir(), 'berth-agent-bundle-'));
  const agent = join(agentDir, 'berth-agent.mjs');
  await Promise.all([
    build({
      entryPoints: [join(root, 'workers/entries/node.ts')],
      outfile: server,
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'warning',
    }),
    buildAgent(agent),
  ]);
  project.config.env = {
    ...project.config.env,
    BERTH_TEST_SERVER_BUNDLE: server,
    BERTH_TEST_AGENT_BUNDLE: agent,
  };
  return () => {
    rmSync(server, { force: true });
    rmSync(agentDir, { recursive: true, force: true });
  };
}
