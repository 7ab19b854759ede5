import type { TestProject } from 'vitest/node';
import { docker as sharedEngine } from './agent-harness.ts';
import { startIsolatedEngine } from './fault-engine.ts';

/**
 * The e2e-own-engine project's Docker Engine: a second engine beside the shared one, loaded with
 * every test image, so that this project's files (which run one at a time) never meet the shared
 * engine's files (which also run one at a time) while both projects run at once. Its files see it
 * as DOCKER_HOST, as do the agents they start; the files that need engines of their own still
 * start them, loading their images from this one.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const images = (await sharedEngine.listImages({ filters: { reference: ['berth-test/*'] } }))
    .flatMap((i) => i.RepoTags ?? [])
    .filter((t) => t.startsWith('berth-test/'));
  const engine = await startIsolatedEngine(images);
  project.config.env = { ...project.config.env, DOCKER_HOST: engine.host };
  return () => engine.close();
}
