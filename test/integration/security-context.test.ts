import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, deploymentBody, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * securityContext through the API: a hardened Kubernetes manifest applies unchanged and reaches
 * the agent merged; what the namespace policy does not allow (capabilities beyond it, privileged,
 * Unconfined seccomp) is a 422 naming its path, for deployers and admins alike.
 */
const HARDENED = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 2000
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: api
        image: registry.example.com/api:1
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
`;

const withContext = (securityContext: object, podContext?: object) =>
  deploymentBody({
    replicas: 0,
    spec: {
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          ...(podContext ? { securityContext: podContext } : {}),
          containers: [{ name: 'web', image: 'web:1', securityContext }],
        },
      },
    },
  });

describe('securityContext admission and assignment', () => {
  let t: TestPlane;
  let fleet: SimFleet;
  let deployer = '';

  beforeAll(async () => {
    t = await startTestPlane('pglite');
    deployer = (
      await t.call('POST', '/v1/tokens', { name: 'ci', role: 'deployer', namespaces: ['shop', 'lab'] })
    ).body.token;
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'sc',
    });
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.close();
  });

  it('applies the hardened manifest unchanged and sends the agent the merged context', async () => {
    const res = await t.plane.app.request('/v1/apply?namespace=shop', {
      method: 'POST',
      headers: { authorization: `Bearer ${deployer}`, 'content-type': 'application/yaml' },
      body: HARDENED,
    });
    expect(res.status).toBe(200);
    const assigned = await eventually(
      async () => fleet.agents[0]?.assignments.find((a) => a.deployment === 'api'),
      20_000,
      'the assignment',
    );
    expect(assigned.containers[0]?.securityContext).toEqual({
      runAsUser: 10001,
      runAsNonRoot: true,
      fsGroup: 2000,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { add: [], drop: ['ALL'] },
    });
  });

  it.each([
    ['a deployer', () => deployer],
    ['an admin', () => ADMIN_TOKEN],
  ])('refuses what the default policy does not allow, for %s, naming each path', async (_who, token) => {
    const res = await t.call(
      'PUT',
      '/v1/namespaces/shop/deployments/web',
      withContext(
        { capabilities: { add: ['NET_BIND_SERVICE', 'NET_ADMIN'] }, privileged: true },
        { seccompProfile: { type: 'Unconfined' } },
      ),
      token(),
    );
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      {
        path: 'spec.template.spec.securityContext.seccompProfile.type',
        message: expect.stringMatching(/Unconfined seccomp profile is not allowed in namespace "shop"/),
      },
      {
        path: 'spec.template.spec.containers[0].securityContext.capabilities.add[1]',
        message: expect.stringMatching(/capability NET_ADMIN is not allowed in namespace "shop"/),
      },
      {
        path: 'spec.template.spec.containers[0].securityContext.privileged',
        message: expect.stringMatching(/privileged containers are not allowed/),
      },
    ]);
  });

  it('allows what an admin writes into the namespace policy, and only there', async () => {
    const policy = await t.call('PUT', '/v1/namespaces/lab/policy', {
      spec: {
        allowedCapabilities: ['NET_ADMIN', 'NET_BIND_SERVICE'],
        allowPrivileged: true,
        allowUnconfinedSeccomp: true,
      },
    });
    expect(policy.status).toBe(201);
    const body = withContext(
      { capabilities: { add: ['NET_ADMIN'] }, privileged: true },
      { seccompProfile: { type: 'Unconfined' } },
    );
    expect((await t.call('PUT', '/v1/namespaces/lab/deployments/web', body, deployer)).status).toBe(201);
    // The policy reads back with the fields it was given (and none it was not).
    const read = await t.call('GET', '/v1/namespaces/lab/policy');
    expect(read.body.spec).toMatchObject({
      allowedCapabilities: ['NET_ADMIN', 'NET_BIND_SERVICE'],
      allowPrivileged: true,
    });
    expect((await t.call('GET', '/v1/namespaces/shop/policy')).body.spec).not.toHaveProperty(
      'allowedCapabilities',
    );
    // The same deployment in a namespace without that policy stays refused.
    expect((await t.call('PUT', '/v1/namespaces/shop/deployments/web', body, deployer)).status).toBe(422);
  });
});
