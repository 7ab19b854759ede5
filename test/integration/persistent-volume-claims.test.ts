import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment, AssignmentsResponse } from '../../common/agent-protocol.ts';
import { ADMIN_TOKEN, DATABASE_KINDS, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * PersistentVolumeClaims through the API and placement, with simulated agents: a claim binds to
 * the node of its first replica and pins every later one there; a missing claim keeps replicas
 * Pending until it is created; deleting a claim in use leaves it Terminating until its last
 * replica is gone, and then its node is told (only then) to remove the volume.
 */
const NS = 'pvc';
const BASE = `/v1/namespaces/${NS}`;

const claim = (spec: Record<string, unknown> = {}) => ({
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
});

const deployment = (name: string, claimName: string, replicas = 1) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NS },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        // No API token is asked for, so the only warning an apply gives is the claim's.
        automountServiceAccountToken: false,
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }],
        containers: [{ name: 'db', image: 'db:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      },
    },
  },
});

/** The same, as a manifest document of /v1/apply. */
const claimDoc = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  ...claim(spec),
});

interface ReplicaView {
  id: string;
  node: string | null;
  phase: string;
  message?: string;
  ready: boolean;
}

describe.each(DATABASE_KINDS)('PersistentVolumeClaims on %s', (kind) => {
  let t: TestPlane;
  let fleet: SimFleet;
  beforeAll(async () => {
    t = await startTestPlane(kind);
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 3,
      fetch: t.fetch,
      prefix: 'pvc',
    });
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.close();
  });

  const apply = async (docs: unknown[]) => {
    const res = await t.plane.app.request(`/v1/apply?namespace=${NS}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(docs),
    });
    return { status: res.status, body: await res.json() };
  };
  const replicasOf = async (name: string): Promise<ReplicaView[]> =>
    (await t.call('GET', `${BASE}/replicas?deployment=${name}`)).body.items;
  const settle = async (name: string, count: number) =>
    eventually(async () => {
      await t.plane.reconciler.tick();
      const list = await replicasOf(name);
      return list.length === count && list.every((r) => r.node && r.ready) ? list : undefined;
    });
  const agentOf = (node: string) => fleet.agents.find((a) => a.name === node)!;
  const assignmentsOf = async (node: string) =>
    (await (
      await t.plane.app.request('/v1/agent/assignments', {
        headers: { authorization: `Bearer ${agentOf(node).token}` },
      })
    ).json()) as AssignmentsResponse;

  it('creates, reads and lists a claim (Pending until used), grows it, and refuses what it cannot honour', async () => {
    const created = await t.call('PUT', `${BASE}/persistentvolumeclaims/data`, {
      ...claim({ storageClassName: 'local-path' }),
      apiVersion: 'berth.dev/v1',
      metadata: { labels: { app: 'db' } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: NS, labels: { app: 'db' }, resourceVersion: '1' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
        storageClassName: 'local-path',
        volumeMode: 'Filesystem',
      },
      status: { phase: 'Pending' },
    });
    const listed = await t.call('GET', `${BASE}/persistentvolumeclaims?labelSelector=app%3Ddb`);
    expect(listed.body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['data']);

    // Growth is accepted (as Kubernetes); shrinking and other spec changes are not.
    const grown = await t.call('PUT', `${BASE}/persistentvolumeclaims/data`, {
      ...claim({ storageClassName: 'local-path', resources: { requests: { storage: '2Gi' } } }),
      metadata: { labels: { app: 'db' } },
    });
    expect([grown.status, grown.body.spec.resources.requests.storage]).toEqual([200, '2Gi']);
    const shrunk = await t.call('PUT', `${BASE}/persistentvolumeclaims/data`, {
      ...claim({ storageClassName: 'local-path', resources: { requests: { storage: '1Gi' } } }),
    });
    expect([shrunk.status, shrunk.body.errors[0].path]).toEqual([422, 'spec.resources.requests.storage']);
    const changed = await t.call('PUT', `${BASE}/persistentvolumeclaims/data`, {
      ...claim({
        accessModes: ['ReadWriteOncePod'],
        storageClassName: 'other',
        resources: { requests: { storage: '2Gi' } },
      }),
    });
    expect(changed.status).toBe(422);
    expect(changed.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'spec.accessModes',
      'spec.storageClassName',
    ]);

    const refused: [Record<string, unknown>, string, RegExp][] = [
      [{ accessModes: ['ReadWriteMany'] }, 'spec.accessModes[0]', /cannot be shared across nodes/],
      [{ accessModes: ['ReadOnlyMany'] }, 'spec.accessModes[0]', /cannot be shared across nodes/],
      [{ accessModes: [] }, 'spec.accessModes', /at least 1/],
      [{ volumeMode: 'Block' }, 'spec.volumeMode', /Block is not supported/],
      [{ volumeName: 'pv-1' }, 'spec.volumeName', /not supported/],
      [{ selector: { matchLabels: { a: 'b' } } }, 'spec.selector', /not supported/],
      [{ dataSource: { kind: 'VolumeSnapshot', name: 's' } }, 'spec.dataSource', /starts empty/],
      [{ resources: { requests: {} } }, 'spec.resources.requests.storage', /./],
      [{ resources: { requests: { storage: 'lots' } } }, 'spec.resources.requests.storage', /quantity/],
      [
        { resources: { requests: { storage: '1Gi' }, limits: { storage: '2Gi' } } },
        'spec.resources.limits',
        /does not cap/,
      ],
    ];
    for (const [spec, path, message] of refused) {
      const res = await t.call('PUT', `${BASE}/persistentvolumeclaims/bad`, claim(spec));
      expect([res.status, res.body.errors?.[0]?.path], JSON.stringify(spec)).toEqual([422, path]);
      expect(res.body.errors[0].message).toMatch(message);
    }
    // The same through /v1/apply, where the document is named.
    const applied = await apply([claimDoc('bad', { accessModes: ['ReadWriteMany'] })]);
    expect(applied.status).toBe(422);
    expect(applied.body.errors[0]).toMatchObject({ path: 'spec.accessModes[0]', name: 'bad' });
    // A dry run of a good one writes nothing.
    expect(
      (
        await t.plane.app.request(`/v1/apply?namespace=${NS}&dryRun=true`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify([claimDoc('dry')]),
        })
      ).status,
    ).toBe(200);
    expect((await t.call('GET', `${BASE}/persistentvolumeclaims/dry`)).status).toBe(404);
  });

  it('binds a claim where its first replica goes, and keeps every replica that uses it there', async () => {
    // Three replicas of one batch sharing an unbound claim all go where the first one goes.
    const applied = await apply([claimDoc('shared'), deployment('shared', 'shared', 3)]);
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    const placed = await settle('shared', 3);
    const node = placed[0]!.node!;
    expect(placed.map((r) => r.node)).toEqual([node, node, node]);
    const bound = (await t.call('GET', `${BASE}/persistentvolumeclaims/shared`)).body;
    expect(bound.status).toEqual({
      phase: 'Bound',
      nodeName: node,
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
    });
    // The agent is told which volume: the claim's uid names it.
    const sent = (await assignmentsOf(node)).replicas.find((a: Assignment) => a.deployment === 'shared')!;
    expect(sent.volumes).toEqual([
      {
        name: 'data',
        persistentVolumeClaim: {
          uid: bound.metadata.uid,
          namespace: NS,
          claimName: 'shared',
          readOnly: false,
        },
      },
    ]);

    // Scaling out: new replicas follow the claim even though other nodes are emptier.
    expect((await t.call('PUT', `${BASE}/deployments/shared/scale`, { replicas: 5 })).status).toBe(200);
    expect((await settle('shared', 5)).every((r) => r.node === node)).toBe(true);

    // The node cannot take more: the replica waits, naming the claim and the node.
    expect((await t.call('POST', `/v1/nodes/${node}/cordon`)).status).toBe(200);
    expect((await t.call('PUT', `${BASE}/deployments/shared/scale`, { replicas: 6 })).status).toBe(200);
    const waiting = await eventually(async () => {
      await t.plane.reconciler.tick();
      return (await replicasOf('shared')).find((r) => !r.node && r.message);
    });
    expect(waiting.message).toBe(
      `volume node affinity conflict: persistentvolumeclaim "shared" is bound to node "${node}" (0/3 nodes available: 1 unschedulable, 2 do not match nodeSelector)`,
    );
    expect((await t.call('POST', `/v1/nodes/${node}/uncordon`)).status).toBe(200);
    expect((await settle('shared', 6)).every((r) => r.node === node)).toBe(true);
  });

  it('keeps a replica whose claim does not exist Pending, and places it as soon as the claim is created', async () => {
    const applied = await apply([deployment('late', 'late')]);
    expect(applied.status).toBe(200);
    // The apply says so.
    expect(applied.body.warnings).toEqual([
      {
        kind: 'Deployment',
        namespace: NS,
        name: 'late',
        message: 'persistentvolumeclaim "late" not found: its replicas stay Pending until it exists',
      },
    ]);
    const waiting = await eventually(async () => {
      await t.plane.reconciler.tick();
      return (await replicasOf('late')).find((r) => r.message);
    });
    expect([waiting.node, waiting.message]).toEqual([null, 'persistentvolumeclaim "late" not found']);
    // The write wakes the deployment: no tick of ours places it.
    expect((await t.call('PUT', `${BASE}/persistentvolumeclaims/late`, claim())).status).toBe(201);
    const placed = await eventually(
      async () => (await replicasOf('late')).find((r) => r.node && r.ready),
      5000,
    );
    const bound = (await t.call('GET', `${BASE}/persistentvolumeclaims/late`)).body;
    expect(bound.status.nodeName).toBe(placed.node);
  });

  it('keeps a claim in use Terminating, and tells its node to remove the volume once its last replica is gone', async () => {
    expect((await apply([claimDoc('doomed'), deployment('doomed', 'doomed')])).status).toBe(200);
    const [replica] = await settle('doomed', 1);
    const node = replica!.node!;
    const uid = (await t.call('GET', `${BASE}/persistentvolumeclaims/doomed`)).body.metadata.uid as string;

    const deleted = await t.call('DELETE', `${BASE}/persistentvolumeclaims/doomed`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.metadata.deletionTimestamp).toEqual(expect.any(String));
    expect(deleted.body.status.phase).toBe('Bound');
    // Still there, and no word to remove anything.
    expect((await t.call('GET', `${BASE}/persistentvolumeclaims/doomed`)).status).toBe(200);
    expect((await assignmentsOf(node)).releasedClaims).toBeUndefined();
    // A new user of a claim being deleted waits.
    expect((await apply([deployment('doomed-too', 'doomed')])).status).toBe(200);
    const blocked = await eventually(async () => {
      await t.plane.reconciler.tick();
      return (await replicasOf('doomed-too')).find((r) => r.message);
    });
    expect(blocked.message).toBe('persistentvolumeclaim "doomed" is being deleted');
    expect((await t.call('DELETE', `${BASE}/deployments/doomed-too`)).status).toBe(200);

    // The deployment goes; the agent reports its replica gone; the claim goes with it.
    expect((await t.call('DELETE', `${BASE}/deployments/doomed`)).status).toBe(200);
    await eventually(async () => {
      await t.plane.reconciler.tick();
      return (await t.call('GET', `${BASE}/persistentvolumeclaims/doomed`)).status === 404;
    });
    const released = await eventually(async () => (await assignmentsOf(node)).releasedClaims);
    expect(released).toEqual([{ uid, namespace: NS, name: 'doomed', volume: `berth-pvc-${uid}` }]);
    // Only that node is told; another node's confirmation changes nothing.
    const other = fleet.agents.find((a) => a.name !== node)!;
    expect((await assignmentsOf(other.name)).releasedClaims).toBeUndefined();
    const confirm = (token: string) =>
      t.plane.app.request('/v1/agent/released-claims', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ uids: [uid] }),
      });
    expect((await confirm(other.token)).status).toBe(204);
    expect((await assignmentsOf(node)).releasedClaims).toHaveLength(1);
    expect((await confirm(agentOf(node).token)).status).toBe(204);
    expect((await assignmentsOf(node)).releasedClaims).toBeUndefined();

    // A claim never used goes at once, with nothing for any node to remove.
    expect((await t.call('PUT', `${BASE}/persistentvolumeclaims/unused`, claim())).status).toBe(201);
    expect((await t.call('DELETE', `${BASE}/persistentvolumeclaims/unused`)).status).toBe(200);
    expect((await t.call('GET', `${BASE}/persistentvolumeclaims/unused`)).status).toBe(404);
  });

  it('lets viewers read claims and deployers of the namespace write them, and no one else', async () => {
    const token = async (role: string, namespaces: string[]) =>
      (await t.call('POST', '/v1/tokens', { name: `${role}-${namespaces[0]}`, role, namespaces })).body
        .token as string;
    const viewer = await token('viewer', [NS]);
    const deployer = await token('deployer', [NS]);
    const outsider = await token('deployer', ['elsewhere']);
    const path = `${BASE}/persistentvolumeclaims/acl`;
    expect((await t.call('PUT', path, claim(), viewer)).status).toBe(403);
    expect((await t.call('PUT', path, claim(), outsider)).status).toBe(403);
    expect((await t.call('PUT', path, claim(), deployer)).status).toBe(201);
    expect((await t.call('GET', path, undefined, viewer)).status).toBe(200);
    expect((await t.call('GET', `${BASE}/persistentvolumeclaims`, undefined, viewer)).status).toBe(200);
    expect((await t.call('GET', path, undefined, outsider)).status).toBe(403);
    expect((await t.call('DELETE', path, undefined, viewer)).status).toBe(403);
    expect((await t.call('DELETE', path, undefined, outsider)).status).toBe(403);
    expect((await t.call('DELETE', path, undefined, deployer)).status).toBe(200);
  });
});

describe('PersistentVolumeClaims and lost nodes, on pglite', () => {
  let t: TestPlane;
  let fleet: SimFleet;
  beforeAll(async () => {
    t = await startTestPlane('pglite', { BERTH_NODE_GRACE_SECONDS: '1', BERTH_NODE_LOST_SECONDS: '1' });
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 2,
      fetch: t.fetch,
      prefix: 'lost',
      options: { heartbeatMs: 200 },
    });
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.close();
  });

  it("keeps a lost node's claim users waiting for it (their data is there), and places them there when it is back", async () => {
    const docs = [claimDoc('kept'), deployment('kept', 'kept')];
    const res = await t.plane.app.request(`/v1/apply?namespace=${NS}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(docs),
    });
    expect(res.status).toBe(200);
    const replicas = async () =>
      (await t.call('GET', `${BASE}/replicas?deployment=kept`)).body.items as ReplicaView[];
    const [first] = await eventually(async () => {
      await t.plane.reconciler.tick();
      const list = await replicas();
      return list.length === 1 && list[0]!.ready ? list : undefined;
    });
    const node = first!.node!;
    const agent = fleet.agents.find((a) => a.name === node)!;
    await agent.stop();
    // The node goes NotReady then Lost; its replica is replaced, and the replacement waits for it.
    const waiting = await eventually(async () => {
      await t.plane.reconciler.tick();
      return (await replicas()).find((r) => r.node === null && r.message);
    }, 15_000);
    expect(waiting.message).toBe(
      `persistentvolumeclaim "kept" is bound to node "${node}", which is not ready: the replica waits for it (its data is there)`,
    );
    // Never on the other node, however long it waits.
    await t.plane.reconciler.tick();
    expect((await replicas()).every((r) => r.node === null || r.node === node)).toBe(true);
    await agent.start();
    const back = await eventually(async () => {
      await t.plane.reconciler.tick();
      const list = (await replicas()).filter((r) => r.ready);
      return list.length >= 1 ? list : undefined;
    }, 15_000);
    expect(back.every((r) => r.node === node)).toBe(true);
  });

  it('lets only one replica at a time use a ReadWriteOncePod claim', async () => {
    const docs = [claimDoc('solo', { accessModes: ['ReadWriteOncePod'] }), deployment('solo', 'solo', 2)];
    const res = await t.plane.app.request(`/v1/apply?namespace=${NS}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(docs),
    });
    expect(res.status).toBe(200);
    const list = await eventually(async () => {
      await t.plane.reconciler.tick();
      const items = (await t.call('GET', `${BASE}/replicas?deployment=solo`)).body.items as ReplicaView[];
      return items.length === 2 && items.some((r) => r.ready) && items.some((r) => r.message)
        ? items
        : undefined;
    });
    expect(list.filter((r) => r.node).length).toBe(1);
    expect(list.find((r) => !r.node)!.message).toBe(
      'persistentvolumeclaim "solo" is ReadWriteOncePod and another replica uses it',
    );
  });
});
