import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlane, type TestPlane } from '../support/plane.ts';

/**
 * Who may `kubectl exec`: admins; deployers whose token was made with `exec`, within their
 * namespaces; never viewers (a token asking for it is refused at creation).
 */
describe('exec permission', () => {
  let t: TestPlane;
  beforeAll(async () => {
    t = await startTestPlane('postgres');
  });
  afterAll(async () => {
    await t?.close();
  });

  const exec = async (token: string, namespace: string) => {
    const res = await t.plane.app.request(`/api/v1/namespaces/${namespace}/pods/nope/exec?command=sh`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: (await res.json()) as { message: string } };
  };

  it('lets a deployer whose token allows it exec in its namespaces, and no other', async () => {
    const token = async (body: Record<string, unknown>) => {
      const res = await t.call('POST', '/v1/tokens', body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body as { token: string; exec?: true };
    };
    const shell = await token({ name: 'ci-shell', role: 'deployer', namespaces: ['shop'], exec: true });
    expect(shell.exec).toBe(true);
    const plain = await token({ name: 'ci', role: 'deployer', namespaces: ['shop'] });
    expect(plain.exec).toBeUndefined();

    // Past the permission: the pod does not exist.
    expect(await exec(shell.token, 'shop')).toMatchObject({
      status: 404,
      body: { message: 'pods "nope" not found' },
    });
    const outside = await exec(shell.token, 'other');
    expect(outside.status).toBe(403);
    expect(outside.body.message).toContain('cannot create resource "pods/exec"');
    expect((await exec(plain.token, 'shop')).status).toBe(403);

    const viewer = await t.call('POST', '/v1/tokens', {
      name: 'v',
      role: 'viewer',
      namespaces: ['shop'],
      exec: true,
    });
    expect(viewer.status).toBe(422);
    expect(viewer.body.errors[0]).toMatchObject({ path: 'exec' });

    const listed = (await t.call('GET', '/v1/tokens')).body.items as { name: string; exec?: true }[];
    expect(listed.find((x) => x.name === 'ci-shell')?.exec).toBe(true);
    expect(listed.find((x) => x.name === 'ci')?.exec).toBeUndefined();
  });
});
