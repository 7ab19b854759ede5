import { describe, expect, it } from 'vitest';
import { PodSpec } from './deployment.ts';
import { normalizeHostPath, refusedHostPaths, underPrefix } from './host-path.ts';

const pod = (hostPath: { path: string; type?: string }, readOnly?: boolean) =>
  PodSpec.parse({
    volumes: [{ name: 'h', hostPath }],
    containers: [{ name: 'c', image: 'x:1', volumeMounts: [{ name: 'h', mountPath: '/h', readOnly }] }],
  });

describe('hostPath prefixes', () => {
  it('match whole path components, after .. is resolved', () => {
    expect(underPrefix('/var/log', '/var/log')).toBe(true);
    expect(underPrefix('/var/log/app/', '/var/log')).toBe(true);
    expect(underPrefix('/var/logs', '/var/log')).toBe(false);
    expect(underPrefix('/var/log/../../etc', '/var/log')).toBe(false);
    expect(underPrefix('/srv/../var/log/x', '/var/log/')).toBe(true);
    expect(underPrefix('/anything', '/')).toBe(true);
    expect(normalizeHostPath('//var/./log//app/..')).toBe('/var/log');
    expect(normalizeHostPath('/../..')).toBe('/');
  });

  it('refuse every hostPath where the policy names none, at its path, saying why', () => {
    expect(refusedHostPaths(pod({ path: '/var/log' }), undefined, 'shop')).toEqual([
      {
        path: 'spec.template.spec.volumes[0].hostPath',
        message: expect.stringMatching(
          /^hostPath \/var\/log is not allowed in namespace "shop": a container would reach the node's own files \(its namespace policy allows none; an admin adds a pathPrefix to allowedHostPaths\)$/,
        ),
      },
    ]);
    expect(
      refusedHostPaths(pod({ path: '/var/log/../../etc' }), [{ pathPrefix: '/var/log' }], 'shop')[0]?.message,
    ).toMatch(/^hostPath \/etc is not allowed/);
  });

  it('allow a path under an allowed prefix; a read-only prefix needs read-only mounts', () => {
    expect(refusedHostPaths(pod({ path: '/var/log/app' }), [{ pathPrefix: '/var/log' }], 'shop')).toEqual([]);
    const ro = [{ pathPrefix: '/var/log', readOnly: true }];
    expect(refusedHostPaths(pod({ path: '/var/log/app' }, true), ro, 'shop')).toEqual([]);
    expect(refusedHostPaths(pod({ path: '/var/log/app' }), ro, 'shop')).toEqual([
      {
        path: 'spec.template.spec.containers[0].volumeMounts[0].readOnly',
        message: 'must be true: hostPath /var/log/app is allowed read-only in namespace "shop"',
      },
    ]);
  });

  it('takes the types the kubelet checks, and refuses devices at type', () => {
    for (const type of ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket'])
      expect(() => pod({ path: '/x', type })).not.toThrow();
    const r = PodSpec.safeParse({
      volumes: [{ name: 'h', hostPath: { path: '/dev/sda', type: 'BlockDevice' } }],
      containers: [{ name: 'c', image: 'x:1' }],
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['volumes.0.hostPath.type']);
    const relative = PodSpec.safeParse({
      volumes: [{ name: 'h', hostPath: { path: 'var/log' } }],
      containers: [{ name: 'c', image: 'x:1' }],
    });
    expect(relative.error?.issues.map((i) => i.path.join('.'))).toEqual(['volumes.0.hostPath.path']);
  });
});
