import type { ImageOverride } from './apply-manifests.ts';
import { ApiError, type BerthClient } from './client.ts';
import { CliError, EXIT } from './exit-codes.ts';
import type { Container, Deployment } from './resources.ts';

/**
 * `berth set image`: read the deployment, change the images, write it back as a JSON merge patch
 * that carries the resourceVersion just read. A concurrent writer makes that a 409; reading again
 * and reapplying the same change is then correct, so the last push wins without losing the other
 * writer's unrelated edits.
 */

const ATTEMPTS = 5;

export interface SetImageResult {
  deployment: Deployment;
  changed: boolean;
}

export async function setImages(
  client: BerthClient,
  ns: string,
  name: string,
  overrides: ImageOverride[],
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<SetImageResult> {
  for (let attempt = 1; ; attempt++) {
    const current = await client.getDeployment(ns, name);
    const containers: Container[] = structuredClone(current.spec?.template?.spec?.containers ?? []);
    for (const o of overrides) {
      const container = containers.find((c) => c.name === o.container);
      if (!container) {
        const names = containers.map((c) => c.name).join(', ');
        throw new CliError(
          `deployment/${name} has no container "${o.container}" (it has ${names || 'none'})`,
          EXIT.USAGE,
        );
      }
      container.image = o.image;
    }
    const changed = containers.some(
      (c, i) => c.image !== current.spec?.template?.spec?.containers?.[i]?.image,
    );
    if (!changed) return { deployment: current, changed: false };
    try {
      const deployment = await client.patchDeployment(ns, name, {
        metadata: { resourceVersion: current.metadata?.resourceVersion },
        // A merge patch replaces lists whole: send every container, each as read.
        spec: { template: { spec: { containers } } },
      });
      return { deployment, changed: true };
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409) || attempt >= ATTEMPTS) throw err;
      await sleep(50 * attempt + Math.floor(Math.random() * 50));
    }
  }
}
