import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseManifestText } from '../common/manifest.ts';
import { parseImageOverrides, prepareApply } from './apply-manifests.ts';
import type { ManifestFile } from './manifest-files.ts';

const file = (source: string, text: string): ManifestFile => ({
  source,
  text,
  format: 'yaml',
  docs: parseManifestText(text, 'yaml'),
});

const deployment = (name: string, namespace?: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}${namespace ? `\n  namespace: ${namespace}` : ''}
spec:
  template:
    spec:
      containers:
      - name: web
        image: web:1
      - name: sidecar
        image: log:1
`;

const sentDocs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS());

describe('parseImageOverrides', () => {
  it('reads CONTAINER=IMAGE entries separated by newlines or commas', () => {
    expect(parseImageOverrides('web=registry.example.com/web:2\n sidecar=log:2 ,')).toEqual([
      { container: 'web', image: 'registry.example.com/web:2' },
      { container: 'sidecar', image: 'log:2' },
    ]);
  });
  it.each(['web', '=img', 'web=', 'web=a b'])('rejects %j', (text) => {
    expect(() => parseImageOverrides(text)).toThrow(/CONTAINER=IMAGE/);
  });
});

describe('prepareApply', () => {
  it('sends a single unedited YAML file byte for byte', () => {
    const text = `# comment kept\n${deployment('web')}`;
    expect(prepareApply([file('web.yaml', text)]).yaml).toBe(text);
  });

  it('joins several files into one multi-document body, in order', () => {
    const prepared = prepareApply([
      file('a.yaml', deployment('a')),
      file('b.yaml', `${deployment('b')}---\n${deployment('c')}`),
    ]);
    expect(sentDocs(prepared.yaml).map((d) => d.metadata.name)).toEqual(['a', 'b', 'c']);
    expect(prepared.sources).toEqual(['a.yaml', 'b.yaml (document 1)', 'b.yaml (document 2)']);
  });

  it('overrides the image of the named container in every Deployment', () => {
    const prepared = prepareApply([file('x.yaml', `${deployment('a')}---\n${deployment('b')}`)], {
      images: [{ container: 'web', image: 'web:2' }],
    });
    for (const doc of sentDocs(prepared.yaml)) {
      expect(doc.spec.template.spec.containers).toEqual([
        { name: 'web', image: 'web:2' },
        { name: 'sidecar', image: 'log:1' },
      ]);
    }
  });

  it('fails when no Deployment has the container to override', () => {
    expect(() =>
      prepareApply([file('x.yaml', deployment('a'))], { images: [{ container: 'api', image: 'x' }] }),
    ).toThrow(/no Deployment, Job or CronJob in the manifests has a container named "api"/);
  });

  it('fills in the namespace, and checks it when strict', () => {
    const docs = sentDocs(
      prepareApply([file('x.yaml', `${deployment('a')}---\n${deployment('b', 'other')}`)], {
        namespace: 'ci',
      }).yaml,
    );
    expect(docs.map((d) => d.metadata.namespace)).toEqual(['ci', 'other']);
    expect(() =>
      prepareApply([file('x.yaml', `${deployment('a')}---\n${deployment('b', 'other')}`)], {
        namespace: 'ci',
        strictNamespace: true,
      }),
    ).toThrow(/x\.yaml \(document 2\): deployment\/b names namespace "other", not "ci"/);
  });

  it('edits the items of a List too', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [parse(deployment('a'))] };
    const yaml = prepareApply([{ source: 'l.json', text: '', format: 'json', docs: [list] }], {
      images: [{ container: 'web', image: 'web:9' }],
    }).yaml;
    expect(sentDocs(yaml)[0].items[0].spec.template.spec.containers[0].image).toBe('web:9');
  });
});
