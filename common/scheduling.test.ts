import { describe, expect, it } from 'vitest';
import { normalizeManifests, parseManifestText } from './manifest.ts';

const deployment = (extra: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]${extra}
`;
const template = (text: string) => {
  const { objects, issues } = normalizeManifests(parseManifestText(text, 'yaml'));
  expect(issues).toEqual([]);
  return (objects[0] as { spec: { template: unknown } }).spec.template;
};

describe('scheduling fields in Kubernetes manifests', () => {
  it('keeps the template of a manifest with empty scheduling fields as it was stored before they were accepted', () => {
    // kubectl get -o yaml writes them empty; taken out, the stored template (and its hash) is unchanged.
    expect(
      template(
        deployment('\n      affinity: {}\n      tolerations: []\n      topologySpreadConstraints: []'),
      ),
    ).toEqual(template(deployment('')));
  });

  it('keeps the fields that say something', () => {
    const t = template(deployment('\n      tolerations: [{key: dedicated, operator: Exists}]')) as {
      spec: { tolerations?: unknown };
    };
    expect(t.spec.tolerations).toEqual([{ key: 'dedicated', operator: 'Exists' }]);
  });
});
