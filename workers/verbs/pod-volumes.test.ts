import { describe, expect, it } from 'vitest';
import { type PodSpec, PodTemplate } from '../../common/deployment.ts';
import type { replicas } from '../../db/schema/index.ts';
import { toAssignment } from './agents.ts';
import { missingVolumeRefs, resolvePodVolumes, volumeObjectNames } from './pod-volumes.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const secrets = new Map([['tls', { data: { 'tls.crt': 'CERT', 'tls.key': 'KEY' } }]]);
const maps = new Map([
  ['web', { data: { 'app.conf': 'a=1', ünï: 'ç' }, binaryData: { 'logo.png': 'iVBORw==' } }],
]);
const spec = (volumes: PodSpec['volumes']) => ({ volumes });

describe('resolvePodVolumes', () => {
  it("turns a ConfigMap's data and binaryData and a secret's keys into files with the default mode 0644", () => {
    const { volumes, missing } = resolvePodVolumes(
      spec([
        { name: 'cfg', configMap: { name: 'web' } },
        { name: 'tls', secret: { secretName: 'tls', defaultMode: 0o400 } },
        { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
        { name: 'cache', emptyDir: {} },
      ]),
      secrets,
      maps,
    );
    expect(missing).toEqual([]);
    expect(volumes).toEqual([
      {
        name: 'cfg',
        configMap: {
          files: [
            { path: 'app.conf', mode: 0o644, data: b64('a=1') },
            { path: 'logo.png', mode: 0o644, data: 'iVBORw==' },
            { path: 'ünï', mode: 0o644, data: b64('ç') },
          ],
        },
      },
      {
        name: 'tls',
        secret: {
          files: [
            { path: 'tls.crt', mode: 0o400, data: b64('CERT') },
            { path: 'tls.key', mode: 0o400, data: b64('KEY') },
          ],
        },
      },
      { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimitBytes: 64 * 1024 * 1024 } },
      { name: 'cache', emptyDir: { medium: '' } },
    ]);
  });

  it('writes only the items, at their paths and modes', () => {
    const { volumes } = resolvePodVolumes(
      spec([
        {
          name: 'tls',
          secret: { secretName: 'tls', items: [{ key: 'tls.key', path: 'private/key.pem', mode: 0o600 }] },
        },
      ]),
      secrets,
      maps,
    );
    expect(volumes[0]?.secret?.files).toEqual([{ path: 'private/key.pem', mode: 0o600, data: b64('KEY') }]);
  });

  it('says what is missing, unless the volume is optional', () => {
    const missing = resolvePodVolumes(
      spec([
        { name: 'a', configMap: { name: 'nope' } },
        { name: 'b', secret: { secretName: 'gone' } },
        { name: 'c', secret: { secretName: 'tls', items: [{ key: 'ca.crt', path: 'ca' }] } },
        { name: 'd', configMap: { name: 'nope2', optional: true } },
        { name: 'e', secret: { secretName: 'tls', optional: true, items: [{ key: 'ca.crt', path: 'ca' }] } },
      ]),
      secrets,
      maps,
    );
    expect(missing.missing).toEqual([
      'configmap "nope" not found',
      'secret "gone" not found',
      'key "ca.crt" not found in secret "tls"',
    ]);
    expect(missing.volumes[3]).toEqual({ name: 'd', configMap: { files: [] } });
    expect(missing.volumes[4]).toEqual({ name: 'e', secret: { files: [] } });
  });

  it('names the objects the volumes read', () => {
    expect(
      volumeObjectNames(
        spec([
          { name: 'a', configMap: { name: 'web' } },
          { name: 'b', secret: { secretName: 'tls' } },
          { name: 'c', configMap: { name: 'web' } },
          { name: 'd', persistentVolumeClaim: { claimName: 'data' } },
          { name: 'e', persistentVolumeClaim: { claimName: 'data', readOnly: true } },
        ]),
      ),
    ).toEqual({ secrets: ['tls'], configMaps: ['web'], claims: ['data'] });
  });

  it("sends a claim bound to the replica's node by its uid, and names one that is not", () => {
    const volumes = spec([
      { name: 'data', persistentVolumeClaim: { claimName: 'data', readOnly: true } },
      { name: 'gone', persistentVolumeClaim: { claimName: 'gone' } },
    ]);
    const claims = new Map([['data', { uid: 'u-1', namespace: 'shop' }]]);
    expect(resolvePodVolumes(volumes, new Map(), new Map(), claims)).toEqual({
      volumes: [
        {
          name: 'data',
          persistentVolumeClaim: { uid: 'u-1', namespace: 'shop', claimName: 'data', readOnly: true },
        },
      ],
      missing: ['persistentvolumeclaim "gone" not found'],
    });
  });

  it('says the same from key names alone, for the warnings of an apply', () => {
    const keys = (m: Map<string, { data: Record<string, string> }>) => (n: string) => {
      const d = m.get(n)?.data;
      return d ? Object.keys(d) : undefined;
    };
    expect(
      missingVolumeRefs(
        spec([
          { name: 'a', configMap: { name: 'nope' } },
          { name: 'c', secret: { secretName: 'tls', items: [{ key: 'ca.crt', path: 'ca' }] } },
          { name: 'd', configMap: { name: 'nope', optional: true } },
        ]),
        keys(secrets),
        keys(maps),
      ),
    ).toEqual(['configmap "nope" not found', 'key "ca.crt" not found in secret "tls"']);
  });
});

describe('toAssignment with volumes', () => {
  const template = PodTemplate.parse({
    spec: {
      volumes: [
        { name: 'cfg', configMap: { name: 'web' } },
        { name: 'cache', emptyDir: {} },
      ],
      containers: [
        {
          name: 'web',
          image: 'web:1',
          volumeMounts: [
            { name: 'cfg', mountPath: '/etc/web', readOnly: true },
            { name: 'cache', mountPath: '/cache' },
          ],
        },
      ],
    },
  });
  const row = (desired: 'running' | 'stopped') =>
    ({
      id: 'web-abc',
      namespace: 'default',
      deploymentName: 'web',
      revision: 1,
      desired,
      defaultMemoryLimitBytes: null,
      configMapData: null,
      serviceEnv: null,
    }) as typeof replicas.$inferSelect;
  const context = (volumeConfigMaps: typeof maps) => ({
    node: { name: 'n1', address: '10.0.0.1', allocatableCpuMillis: 1000, allocatableMemoryBytes: 2 ** 30 },
    configMaps: new Map(),
    volumeConfigMaps,
  });

  it('carries the volumes with their files and each container its mounts', () => {
    const a = toAssignment(row('running'), template, new Map(), context(maps));
    expect(a.configError).toBeUndefined();
    expect(a.volumes?.map((v) => v.name)).toEqual(['cfg', 'cache']);
    expect(a.volumes?.[0]?.configMap?.files.map((f) => f.path)).toEqual(['app.conf', 'logo.png', 'ünï']);
    expect(a.containers[0]?.volumeMounts).toEqual([
      { name: 'cfg', mountPath: '/etc/web', readOnly: true },
      { name: 'cache', mountPath: '/cache', readOnly: false },
    ]);
  });

  it('keeps a replica whose ConfigMap is missing from starting, with the reason; one told to stop needs none', () => {
    expect(toAssignment(row('running'), template, new Map(), context(new Map())).configError).toBe(
      'configmap "web" not found',
    );
    const stopped = toAssignment(row('stopped'), template, new Map(), context(new Map()));
    expect([stopped.configError, stopped.volumes]).toEqual([undefined, undefined]);
  });
});
