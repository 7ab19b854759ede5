import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ManifestObject, normalizeManifests, parseManifestText } from './manifest.ts';
import { parseCpu, parseMemory } from './quantity.ts';

/**
 * Manifests as Kubernetes users write them (test/fixtures/manifests/k8s: guestbooks, demo shops,
 * a service mesh's sample, sidecars, RBAC-carrying packages): every one applies with no issue,
 * unchanged. A field in them that Berth stops honouring fails here first.
 */

const DIR = join(import.meta.dirname, '../test/fixtures/manifests/k8s');
const files = readdirSync(DIR)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort();

function load(file: string) {
  const text = readFileSync(join(DIR, file), 'utf8');
  return normalizeManifests(parseManifestText(text, file.endsWith('.json') ? 'json' : 'yaml'));
}

type Deployment = Extract<ManifestObject, { kind: 'Deployment' }>;
type Service = Extract<ManifestObject, { kind: 'Service' }>;

describe('the Kubernetes manifest suite', () => {
  it.each(files)('%s applies with no issue', (file) => {
    const { objects, issues } = load(file);
    expect(issues).toEqual([]);
    const deployments = objects.filter((o): o is Deployment => o.kind === 'Deployment');
    const services = objects.filter((o): o is Service => o.kind === 'Service');
    // Each Service selects the pods of a Deployment beside it.
    for (const service of services) {
      const selected = deployments.filter(
        (d) =>
          (d.namespace ?? '') === (service.namespace ?? '') &&
          Object.entries(service.spec.selector ?? {}).every(
            ([k, v]) => d.spec.template.metadata.labels[k] === v,
          ),
      );
      expect(
        selected.map((d) => d.name),
        `Service ${service.name}`,
      ).not.toEqual([]);
    }
    for (const d of deployments) {
      // Every quantity reads as a number, as the scheduler and the agent read it.
      for (const c of d.spec.template.spec.containers) {
        for (const list of [c.resources.requests, c.resources.limits]) {
          if (list?.cpu !== undefined) expect(parseCpu(list.cpu), `${d.name} cpu`).toBeTypeOf('number');
          if (list?.memory !== undefined)
            expect(parseMemory(list.memory), `${d.name} memory`).toBeTypeOf('number');
        }
      }
      // The only fields taken out are the service-account ones, each said in a warning.
      for (const w of d.warnings ?? [])
        expect(w).toMatch(/^spec\.template\.spec\.(serviceAccountName|automountServiceAccountToken)/);
    }
  });

  it('holds at least 40 Deployments with their Services, and the no-op kinds beside them', () => {
    const objects = files.flatMap((f) => load(f).objects);
    const count = (kind: string) => objects.filter((o) => o.kind === kind).length;
    expect(count('Deployment')).toBeGreaterThanOrEqual(40);
    expect(count('Service')).toBeGreaterThanOrEqual(30);
    for (const kind of [
      'ServiceAccount',
      'Role',
      'RoleBinding',
      'ClusterRole',
      'ClusterRoleBinding',
      'PodDisruptionBudget',
    ])
      expect(count(kind), kind).toBeGreaterThan(0);
  });
});
