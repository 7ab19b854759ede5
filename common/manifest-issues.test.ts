import { describe, expect, it } from 'vitest';
import { normalizeManifests, parseManifestText } from './manifest.ts';
import {
  applyProblemDetail,
  documentIdentity,
  documentLabel,
  manifestFieldErrors,
} from './manifest-issues.ts';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
`;

describe('naming the document a problem is in', () => {
  it('names each problem by document number, kind and name, as the apply answer does', () => {
    const docs = parseManifestText(
      `${DEPLOYMENT}---\n# empty documents are not counted\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 0}]\n`,
      'yaml',
    );
    const { issues } = normalizeManifests(docs);
    const errors = manifestFieldErrors(docs, issues);
    expect(errors).toEqual([
      {
        document: 1,
        kind: 'Service',
        name: 'web',
        path: 'spec.ports[0].port',
        message: expect.stringMatching(/>=1/),
      },
    ]);
    expect(applyProblemDetail(errors)).toMatch(
      /^1 problem in the manifests; nothing was applied\. First: document 2 \(Service "web"\): spec\.ports\[0\]\.port: /,
    );
  });

  it('names the item of a List, and says only what a document gives', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { kind: 'Deployment', metadata: { name: 'a' } },
        { kind: 'Service', metadata: { name: 'b' } },
      ],
    };
    expect(documentIdentity(list, 'items[1].spec.ports')).toEqual({ kind: 'Service', name: 'b' });
    expect(documentIdentity(list, 'items')).toEqual({ kind: 'List' });
    expect(documentIdentity('text', '')).toEqual({});
    expect(documentLabel({ document: 0, kind: 'Pod' })).toBe('document 1 (Pod)');
    expect(documentLabel({ document: 4 })).toBe('document 5');
    expect(documentLabel({})).toBe('the manifests');
  });

  it('counts a duplicate from 1 too', () => {
    const docs = parseManifestText(`${DEPLOYMENT}---\n${DEPLOYMENT}`, 'yaml');
    expect(normalizeManifests(docs).issues[0]?.message).toBe(
      'Deployment "web" appears more than once (first in document 1)',
    );
  });
});
