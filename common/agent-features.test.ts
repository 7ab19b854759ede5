import { describe, expect, it } from 'vitest';
import { agentFeatureLabels, featureLabel, POD_FEATURES, placementSelector } from './agent-features.ts';
import { PodSpec } from './deployment.ts';

const pod = (spec: Record<string, unknown>, container: Record<string, unknown> = {}) =>
  PodSpec.parse({ containers: [{ name: 'web', image: 'web:1', ...container }], ...spec });
const features = (spec: PodSpec) =>
  Object.keys(placementSelector(spec))
    .filter((k) => k.startsWith('feature.berth.dev/'))
    .map((k) => k.slice('feature.berth.dev/'.length))
    .sort();

describe('the pod features an agent must honour', () => {
  it('finds each feature where Kubernetes puts it, in app and init containers alike', () => {
    expect(features(pod({}))).toEqual([]);
    expect(features(pod({ initContainers: [{ name: 'init', image: 'x:1' }] }))).toEqual(['init-containers']);
    expect(features(pod({ volumes: [{ name: 'v', emptyDir: {} }] }))).toEqual(['volumes']);
    expect(features(pod({ securityContext: { runAsNonRoot: true } }))).toEqual(['security-context']);
    expect(
      features(
        pod({
          initContainers: [
            { name: 'init', image: 'x:1', securityContext: { allowPrivilegeEscalation: false } },
          ],
        }),
      ),
    ).toEqual(['init-containers', 'security-context']);
    const probe = { grpc: { port: 9000 } };
    expect(features(pod({}, { startupProbe: probe }))).toEqual(['grpc-probes', 'startup-probes']);
    expect(features(pod({}, { lifecycle: { preStop: { sleep: { seconds: 1 } } } }))).toEqual([
      'lifecycle-hooks',
    ]);
  });

  it('keeps the pod node selector beside the features, and an agent of this build carries them all', () => {
    const spec = pod({ nodeSelector: { zone: 'eu' }, volumes: [{ name: 'v', emptyDir: {} }] });
    expect(placementSelector(spec)).toEqual({ zone: 'eu', [featureLabel('volumes')]: 'true' });
    expect(Object.keys(agentFeatureLabels())).toHaveLength(POD_FEATURES.length);
    for (const f of POD_FEATURES) expect(agentFeatureLabels()[featureLabel(f.name)]).toBe('true');
  });
});
