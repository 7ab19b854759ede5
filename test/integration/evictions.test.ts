import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * A replica its agent evicted (a disk emptyDir past its sizeLimit: Failed, `Evicted: ...`) is
 * replaced by the controller and told to stop, as Kubernetes' ReplicaSet replaces a Failed pod.
 */
const NS = '/v1/namespaces/default';
const MESSAGE = 'Evicted: Usage of EmptyDir volume "cache" exceeds the limit "10Mi".';

describe('evicted replicas', () => {
  let t: TestPlane;
  let fleet: SimFleet;
  const evict = new Set<string>();
  beforeAll(async () => {
    t = await startTestPlane('pglite');
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'ev',
      options: {
        observe: (a) =>
          evict.has(a.id)
            ? { phase: 'Failed', ready: false, message: MESSAGE }
            : { phase: 'Running', ready: true },
      },
    });
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.close();
  });

  it('accepts a disk emptyDir sizeLimit, and replaces a replica evicted for it', async () => {
    const put = await t.call('PUT', `${NS}/deployments/cache`, {
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'cache' } },
        template: {
          metadata: { labels: { app: 'cache' } },
          spec: {
            volumes: [{ name: 'cache', emptyDir: { sizeLimit: '10Mi' } }],
            containers: [{ name: 'c', image: 'c:1', volumeMounts: [{ name: 'cache', mountPath: '/cache' }] }],
          },
        },
      },
    });
    expect(put.status).toBe(201);
    const first = await eventually(async () => {
      const [r] = (await t.call('GET', `${NS}/replicas?deployment=cache`)).body.items;
      return r?.ready ? (r.id as string) : undefined;
    });
    evict.add(first);
    const replacement = await eventually(async () => {
      const items = (await t.call('GET', `${NS}/replicas?deployment=cache`)).body.items as {
        id: string;
        ready: boolean;
      }[];
      return items.find((r) => r.id !== first && r.ready)?.id;
    });
    expect(replacement).not.toBe(first);
    const events = (await t.call('GET', `${NS}/events?object=deployment/cache`)).body.items as {
      reason: string;
      message: string;
    }[];
    expect(events).toContainEqual(
      expect.objectContaining({ reason: 'Evicted', message: `replica ${first}: ${MESSAGE}` }),
    );
    await eventually(async () => {
      const items = (await t.call('GET', `${NS}/replicas?deployment=cache`)).body.items as { id: string }[];
      return items.every((r) => r.id !== first);
    });
  });
});
