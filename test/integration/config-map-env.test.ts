import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '../../common/agent-protocol.ts';
import { ADMIN_TOKEN, DATABASE_KINDS, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimAgent, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * A pod's env read from ConfigMaps, secrets and the pod itself, as agents receive it: fully
 * resolved values. A pod naming a ConfigMap or key that does not exist waits Pending
 * (CreateContainerConfigError) until it is written; one already started keeps the values it was
 * sent when the ConfigMap changes (Kubernetes fixes env at container start).
 */
const NS = '/v1/namespaces/cfg';

const deployment = (name: string, replicas = 1) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'cfg' },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name, tier: 'front' } },
      spec: {
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'web',
            image: 'web:1',
            envFrom: [
              { secretRef: { name: `${name}-secrets` } },
              { prefix: 'OPT_', configMapRef: { name: 'nope', optional: true } },
            ],
            env: [
              { name: 'MODE', valueFrom: { configMapKeyRef: { name: `${name}-config`, key: 'MODE' } } },
              { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'TIER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } },
              { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
              {
                name: 'MEM_MI',
                valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } },
              },
              { name: 'DSN', value: 'postgres://$(DB_USER)@db/$(MODE)' },
            ],
            args: ['--mode=$(MODE)', '--pod=$(POD)', '$$(MODE)'],
            resources: { limits: { memory: '96Mi' } },
          },
        ],
      },
    },
  },
});
const configMap = (name: string, mode: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'cfg' },
  data: { MODE: mode },
});
const secret = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'cfg' },
  data: { DB_USER: Buffer.from('app').toString('base64') },
});

describe.each(DATABASE_KINDS)('env from ConfigMaps, secrets and the pod on %s', (kind) => {
  let t: TestPlane;
  let fleet: SimFleet;
  beforeAll(async () => {
    t = await startTestPlane(kind);
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'cfg',
      options: {
        address: '10.1.2.3',
        // As berth-agent does: a pod its assignment cannot configure is not created.
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

  const apply = async (docs: unknown[]) => {
    const res = await t.plane.app.request('/v1/apply', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(docs),
    });
    return { status: res.status, body: await res.json() };
  };
  const agent = (): SimAgent => fleet.agents[0]!;
  /** The node's assignments as its agent reads them now. */
  const assignments = async () => {
    const res = await t.plane.app.request('/v1/agent/assignments', {
      headers: { authorization: `Bearer ${agent().token}` },
    });
    return ((await res.json()) as { replicas: Assignment[] }).replicas;
  };
  const envOf = (a: Assignment) => Object.fromEntries(a.containers[0]!.env.map((e) => [e.name, e.value]));
  const replicasOf = async (name: string) =>
    (await t.call('GET', `${NS}/replicas?deployment=${name}`)).body.items as {
      id: string;
      phase: string;
      ready: boolean;
      message: string | null;
    }[];

  it('sends every value resolved: ConfigMap key, envFrom secret, pod fields, resources, $(VAR) in env and args', async () => {
    const applied = await apply([
      configMap('full-config', 'prod'),
      secret('full-secrets'),
      deployment('full'),
    ]);
    expect([applied.status, applied.body.warnings]).toEqual([200, undefined]);
    const a = await eventually(async () => (await assignments()).find((x) => x.deployment === 'full'));
    expect(a.configError).toBeUndefined();
    expect(envOf(a)).toEqual({
      DB_USER: 'app',
      MODE: 'prod',
      POD: a.id,
      TIER: 'front',
      NODE: agent().name,
      HOST_IP: '10.1.2.3',
      MEM_MI: '96',
      DSN: 'postgres://app@db/prod',
    });
    expect(a.containers[0]!.args).toEqual(['--mode=prod', `--pod=${a.id}`, '$(MODE)']);
  });

  it('keeps a replica naming a missing ConfigMap Pending, warns, and starts it when the ConfigMap is written', async () => {
    const applied = await apply([secret('waits-secrets'), deployment('waits')]);
    expect(applied.body.warnings).toEqual([
      {
        kind: 'Deployment',
        namespace: 'cfg',
        name: 'waits',
        message:
          'configmap "waits-config" not found: its replicas stay Pending (CreateContainerConfigError) until it exists',
      },
    ]);
    const [pending] = await eventually(async () => {
      const rs = await replicasOf('waits');
      return rs[0]?.phase === 'Pending' ? rs : undefined;
    });
    expect(pending!.message).toBe('CreateContainerConfigError: configmap "waits-config" not found');
    const sent = (await assignments()).find((x) => x.id === pending!.id)!;
    expect([sent.configError, envOf(sent).MODE]).toEqual(['configmap "waits-config" not found', undefined]);

    // Writing it bumps the node's assignments in the same transaction: the agent reads it at once.
    const etag = async () =>
      (
        await t.plane.app.request('/v1/agent/assignments', {
          headers: { authorization: `Bearer ${agent().token}` },
        })
      ).headers.get('etag');
    const before = await etag();
    const put = await t.call('PUT', `${NS}/configmaps/waits-config`, { data: { MODE: 'canary' } });
    expect(put.status).toBe(201);
    expect(await etag()).not.toBe(before);
    const started = await eventually(async () => {
      const a = (await assignments()).find((x) => x.id === pending!.id);
      return a && !a.configError ? a : undefined;
    });
    expect(envOf(started).MODE).toBe('canary');
    await eventually(async () => (await replicasOf('waits'))[0]?.ready);
  });

  it('never changes a started replica’s env when its ConfigMap changes; a new replica reads the new value', async () => {
    expect(
      (await apply([configMap('fixed-config', 'v1'), secret('fixed-secrets'), deployment('fixed')])).status,
    ).toBe(200);
    const first = await eventually(async () => {
      const a = (await assignments()).find((x) => x.deployment === 'fixed');
      return a && !a.configError ? a : undefined;
    });
    await eventually(async () => (await replicasOf('fixed'))[0]?.ready);
    expect(envOf(first).MODE).toBe('v1');

    const etagBefore = (
      await t.plane.app.request('/v1/agent/assignments', {
        headers: { authorization: `Bearer ${agent().token}` },
      })
    ).headers.get('etag');
    expect((await t.call('PUT', `${NS}/configmaps/fixed-config`, { data: { MODE: 'v2' } })).status).toBe(200);
    const after = (await assignments()).find((x) => x.id === first.id)!;
    expect(envOf(after)).toEqual(envOf(first));
    expect(after.containers[0]!.args).toEqual(first.containers[0]!.args);
    // No waiting replica read it: the running one's node was not even woken.
    expect(
      (
        await t.plane.app.request('/v1/agent/assignments', {
          headers: { authorization: `Bearer ${agent().token}` },
        })
      ).headers.get('etag'),
    ).toBe(etagBefore);

    expect((await t.call('PUT', `${NS}/deployments/fixed/scale`, { replicas: 2 })).status).toBe(200);
    const second = await eventually(async () => {
      const a = (await assignments()).find((x) => x.deployment === 'fixed' && x.id !== first.id);
      return a && !a.configError ? a : undefined;
    });
    expect(envOf(second).MODE).toBe('v2');
    expect(envOf((await assignments()).find((x) => x.id === first.id)!).MODE).toBe('v1');
  });
});
