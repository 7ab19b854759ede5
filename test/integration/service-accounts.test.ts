import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '../../common/agent-protocol.ts';
import { ADMIN_TOKEN, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * A pod's ServiceAccount: Kubernetes creates no pod for an account that does not exist; Berth's
 * replica waits Pending with that reason, and starts when the account is created (its node is
 * woken in the same write). The name reaches the containers through env fieldRef.
 */
const NS = '/v1/namespaces/accounts';

const deployment = (name: string, account: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'accounts' },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        serviceAccountName: account,
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'web',
            image: 'web:1',
            env: [{ name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } }],
          },
        ],
      },
    },
  },
});

describe('a pod naming a ServiceAccount', () => {
  let t: TestPlane;
  let fleet: SimFleet;
  beforeAll(async () => {
    t = await startTestPlane('pglite');
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'sa',
      options: {
        observe: (a) =>
          a.configError
            ? { phase: 'Pending', ready: false, message: `CreateContainerConfigError: ${a.configError}` }
            : { phase: 'Running', ready: true },
      },
    });
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.close();
  });
  const apply = (docs: unknown[]) => t.call('POST', '/v1/apply', docs);
  const assignments = async () => {
    const res = await t.plane.app.request('/v1/agent/assignments', {
      headers: { authorization: `Bearer ${fleet.agents[0]!.token}` },
    });
    return ((await res.json()) as { replicas: Assignment[] }).replicas;
  };
  const sa = (a: Assignment) => a.containers[0]!.env.find((e) => e.name === 'SA')?.value;

  it('waits Pending while the account does not exist, and starts once it is created', async () => {
    expect((await apply([deployment('api', 'api')])).status).toBe(200);
    const [pending] = await eventually(async () => {
      const rs = (await t.call('GET', `${NS}/replicas?deployment=api`)).body.items;
      return rs[0]?.phase === 'Pending' && rs[0].message ? rs : undefined;
    });
    expect(pending.message).toBe('CreateContainerConfigError: serviceaccount "api" not found');
    const put = await t.call('PUT', `${NS}/serviceaccounts/api`, {});
    expect(put.status).toBe(201);
    const started = await eventually(async () => {
      const a = (await assignments()).find((x) => x.deployment === 'api');
      return a && !a.configError ? a : undefined;
    });
    expect(sa(started)).toBe('api');
    await eventually(async () => (await t.call('GET', `${NS}/replicas?deployment=api`)).body.items[0]?.ready);
  });

  it('reads "default" for a pod that names none, which always exists', async () => {
    expect((await apply([deployment('plain', 'default')])).status).toBe(200);
    const a = await eventually(async () => (await assignments()).find((x) => x.deployment === 'plain'));
    expect([a.configError, sa(a)]).toEqual([undefined, 'default']);
    // Named outright in a berth.dev/v1 Deployment, where it is kept as written.
    const named = { ...deployment('named', 'default'), apiVersion: 'berth.dev/v1' };
    expect((await apply([named])).status).toBe(200);
    const b = await eventually(async () => (await assignments()).find((x) => x.deployment === 'named'));
    expect([b.configError, sa(b)]).toEqual([undefined, 'default']);
  });
});
