import { describe, expect, it } from 'vitest';
import type { DeploymentSpec } from './deployment.ts';
import { normalizeManifests, parseManifestText } from './manifest.ts';

const deployment = (pod: string, container = '') => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:${pod}
      containers:
      - name: web
        image: web:1${container}
`;

const apply = (text: string) => normalizeManifests(parseManifestText(text, 'yaml'));
const issuesOf = (text: string) => apply(text).issues.map(({ path, message }) => ({ path, message }));
const POD = 'spec.template.spec';

describe('pod volumes and volumeMounts', () => {
  it('accepts emptyDir, configMap and secret volumes as kubectl prints them, unchanged', () => {
    const { objects, issues } = apply(
      deployment(
        `
      volumes:
      - {name: cache, emptyDir: {}}
      - {name: scratch, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
      - name: config
        configMap: {name: web-config, defaultMode: 420, items: [{key: nginx.conf, path: conf/nginx.conf, mode: 0o600}]}
      - name: tls
        secret: {secretName: web-tls, defaultMode: 256, optional: true}`,
        `
        volumeMounts:
        - {name: cache, mountPath: /var/cache}
        - {name: scratch, mountPath: /tmp}
        - {name: config, mountPath: /etc/nginx/nginx.conf, subPath: conf/nginx.conf, readOnly: true}
        - {name: tls, mountPath: /etc/tls/}`,
      ),
    );
    expect(issues).toEqual([]);
    const spec = (objects[0] as { spec: DeploymentSpec }).spec.template.spec;
    expect(spec.volumes?.map((v) => v.name)).toEqual(['cache', 'scratch', 'config', 'tls']);
    expect(spec.volumes?.[2]?.configMap?.items?.[0]).toEqual({
      key: 'nginx.conf',
      path: 'conf/nginx.conf',
      mode: 0o600,
    });
    expect(spec.containers[0]?.volumeMounts?.[2]).toMatchObject({
      subPath: 'conf/nginx.conf',
      readOnly: true,
    });
  });

  it('reads a mode written with a leading zero as octal, as kubectl does (YAML 1.1)', () => {
    const { objects, issues } = apply(
      deployment(
        '\n      volumes: [{name: tls, secret: {secretName: tls, defaultMode: 0400, items: [{key: k, path: k, mode: 0644}]}}]',
      ),
    );
    expect(issues).toEqual([]);
    const secret = (objects[0] as { spec: DeploymentSpec }).spec.template.spec.volumes?.[0]?.secret;
    expect([secret?.defaultMode, secret?.items?.[0]?.mode]).toEqual([0o400, 0o644]);
  });

  it('keeps a template without volumes as it was (no default appears, so stored hashes hold)', () => {
    const { objects } = apply(deployment('\n      volumes: []', '\n        volumeMounts: []'));
    const spec = (objects[0] as { spec: DeploymentSpec }).spec.template.spec;
    expect(spec).not.toHaveProperty('volumes');
    expect(spec.containers[0]).not.toHaveProperty('volumeMounts');
  });

  it.each([
    [
      'a mount of a volume the pod lacks',
      deployment(
        '\n      volumes: [{name: a, emptyDir: {}}]',
        '\n        volumeMounts: [{name: b, mountPath: /b}]',
      ),
      `${POD}.containers[0].volumeMounts[0].name`,
      'volume "b" not found in volumes',
    ],
    [
      'two volumes of one name',
      deployment('\n      volumes: [{name: a, emptyDir: {}}, {name: a, emptyDir: {}}]'),
      `${POD}.volumes[1].name`,
      'duplicate volume "a"',
    ],
    [
      'two mounts at one path',
      deployment(
        '\n      volumes: [{name: a, emptyDir: {}}, {name: b, emptyDir: {}}]',
        '\n        volumeMounts: [{name: a, mountPath: /d}, {name: b, mountPath: /d/}]',
      ),
      `${POD}.containers[0].volumeMounts[1].mountPath`,
      'must be unique',
    ],
    [
      'a relative mountPath',
      deployment(
        '\n      volumes: [{name: a, emptyDir: {}}]',
        '\n        volumeMounts: [{name: a, mountPath: data}]',
      ),
      `${POD}.containers[0].volumeMounts[0].mountPath`,
      'must be an absolute path',
    ],
    [
      'a subPath through ..',
      deployment(
        '\n      volumes: [{name: a, configMap: {name: c}}]',
        '\n        volumeMounts: [{name: a, mountPath: /d, subPath: x/../../etc}]',
      ),
      `${POD}.containers[0].volumeMounts[0].subPath`,
      "must not contain '..'",
    ],
    [
      'an absolute subPath',
      deployment(
        '\n      volumes: [{name: a, configMap: {name: c}}]',
        '\n        volumeMounts: [{name: a, mountPath: /d, subPath: /etc}]',
      ),
      `${POD}.containers[0].volumeMounts[0].subPath`,
      'must be a relative path',
    ],
    [
      'a subPath into a hostPath',
      deployment(
        '\n      volumes: [{name: a, hostPath: {path: /srv}}]',
        '\n        volumeMounts: [{name: a, mountPath: /d, subPath: x}]',
      ),
      `${POD}.containers[0].volumeMounts[0].subPath`,
      expect.stringMatching(/^subPath is not supported by Berth for a hostPath/),
    ],
    [
      'an item path that climbs out',
      deployment('\n      volumes: [{name: a, configMap: {name: c, items: [{key: k, path: ../k}]}}]'),
      `${POD}.volumes[0].configMap.items[0].path`,
      "must not contain '..'",
    ],
    [
      'an item path starting with ..',
      deployment('\n      volumes: [{name: a, secret: {secretName: s, items: [{key: k, path: ..data}]}}]'),
      `${POD}.volumes[0].secret.items[0].path`,
      "must not start with '..'",
    ],
    [
      'an absolute item path',
      deployment('\n      volumes: [{name: a, secret: {secretName: s, items: [{key: k, path: /k}]}}]'),
      `${POD}.volumes[0].secret.items[0].path`,
      'must be a relative path',
    ],
    [
      'two items at one path',
      deployment(
        '\n      volumes: [{name: a, configMap: {name: c, items: [{key: k, path: p}, {key: j, path: p}]}}]',
      ),
      `${POD}.volumes[0].configMap.items[1].path`,
      'must be unique',
    ],
    [
      'a mode above 0777',
      deployment('\n      volumes: [{name: a, configMap: {name: c, defaultMode: 512}}]'),
      `${POD}.volumes[0].configMap.defaultMode`,
      'must be a file mode between 0 and 0777 (511)',
    ],
    [
      'two sources',
      deployment('\n      volumes: [{name: a, emptyDir: {}, configMap: {name: c}}]'),
      `${POD}.volumes[0]`,
      'must specify exactly one of emptyDir, configMap, secret, persistentVolumeClaim, hostPath',
    ],
    [
      'no source',
      deployment('\n      volumes: [{name: a}]'),
      `${POD}.volumes[0]`,
      'must specify exactly one of emptyDir, configMap, secret, persistentVolumeClaim, hostPath',
    ],
    [
      'a subPath into a persistentVolumeClaim',
      deployment(
        '\n      volumes: [{name: a, persistentVolumeClaim: {claimName: data}}]',
        '\n        volumeMounts: [{name: a, mountPath: /data, subPath: x}]',
      ),
      `${POD}.containers[0].volumeMounts[0].subPath`,
      expect.stringMatching(/^subPath is not supported by Berth for a persistentVolumeClaim/),
    ],
    [
      'a persistentVolumeClaim with an unknown field',
      deployment('\n      volumes: [{name: a, persistentVolumeClaim: {claimName: data, size: 1}}]'),
      `${POD}.volumes[0].persistentVolumeClaim.size`,
      'unknown field "size"',
    ],
    [
      'a projected volume',
      deployment('\n      volumes: [{name: a, projected: {sources: []}}]'),
      `${POD}.volumes[0].projected`,
      'projected is not supported by Berth (use configMap and secret volumes)',
    ],
    [
      'a downwardAPI volume',
      deployment('\n      volumes: [{name: a, downwardAPI: {items: []}}]'),
      `${POD}.volumes[0].downwardAPI`,
      'downwardAPI is not supported by Berth (use env fieldRef)',
    ],
  ])('refuses %s at its path', (_name, text, path, message) => {
    expect(issuesOf(text)).toEqual([{ path, message }]);
  });
});
