import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestPlane, type TestPlane } from '../support/plane.ts';

/**
 * hostPath volumes only where the namespace policy allows the path: refused for every tenant by
 * default (admins included: what a namespace's containers may do to the node is its policy's),
 * allowed under the prefixes an admin lists, read-only ones only for read-only mounts.
 */
const manifest = (
  name: string,
  path: string,
  readOnly: boolean,
  type = 'DirectoryOrCreate',
) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 0
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      automountServiceAccountToken: false
      volumes:
      - name: logs
        hostPath: {path: "${path}", type: "${type}"}
      containers:
      - name: shipper
        image: shipper:1
        volumeMounts:
        - {name: logs, mountPath: /logs, readOnly: ${readOnly}}
`;

describe('hostPath volumes and the namespace policy', () => {
  let t: TestPlane;
  let deployer = '';
  beforeAll(async () => {
    t = await startTestPlane('pglite');
    deployer = (await t.call('POST', '/v1/tokens', { name: 'ci', role: 'deployer', namespaces: ['logs'] }))
      .body.token;
  });
  afterAll(async () => {
    await t?.close();
  });
  const apply = async (body: string, token = deployer) => {
    const res = await t.plane.app.request('/v1/apply?namespace=logs', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/yaml' },
      body,
    });
    return { status: res.status, body: await res.json() };
  };

  it('refuses every hostPath by default, for deployers and admins alike, naming the volume', async () => {
    for (const token of [deployer, ADMIN_TOKEN]) {
      const res = await apply(manifest('ship', '/var/log', true), token);
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([
        expect.objectContaining({
          path: 'spec.template.spec.volumes[0].hostPath',
          message: expect.stringMatching(
            /^hostPath \/var\/log is not allowed in namespace "logs": .*allows none/,
          ),
        }),
      ]);
    }
  });

  it('allows the prefixes an admin lists, on whole components, read-only ones only read-only', async () => {
    const policy = await t.call('PUT', '/v1/namespaces/logs/policy', {
      spec: { allowedHostPaths: [{ pathPrefix: '/var/log', readOnly: true }, { pathPrefix: '/srv/cache' }] },
    });
    expect(policy.status).toBe(201);
    expect((await apply(manifest('ship', '/var/log/pods', true))).status).toBe(200);
    expect((await apply(manifest('cache', '/srv/cache/app', false))).status).toBe(200);
    const writable = await apply(manifest('ship', '/var/log/pods', false));
    expect(writable.body.errors?.map((e: { path: string }) => e.path)).toEqual([
      'spec.template.spec.containers[0].volumeMounts[0].readOnly',
    ]);
    for (const path of ['/var/logs', '/var/log/../../etc', '/srv'])
      expect((await apply(manifest('other', path, true))).body.errors?.[0]?.path).toBe(
        'spec.template.spec.volumes[0].hostPath',
      );
    const device = await apply(manifest('dev', '/var/log/x', true, 'CharDevice'));
    expect(device.body.errors?.[0]?.path).toBe('spec.template.spec.volumes[0].hostPath.type');
    // A deployer cannot write the policy that would let it in.
    const self = await t.plane.app.request('/v1/namespaces/logs/policy', {
      method: 'PUT',
      headers: { authorization: `Bearer ${deployer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ spec: { allowedHostPaths: [{ pathPrefix: '/' }] } }),
    });
    expect(self.status).toBe(403);
  });
});
