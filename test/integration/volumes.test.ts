import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '../../common/agent-protocol.ts';
import { ADMIN_TOKEN, DATABASE_KINDS, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimAgent, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * A pod's configMap and secret volumes as agents receive them: the files resolved. A missing
 * object keeps the replica Pending and is warned about on apply; writing the object wakes the
 * node of every replica that mounts it, running ones included, since their files follow it.
 */
const NS = '/v1/namespaces/vol';

const deployment = (name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'vol' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        automountServiceAccountToken: false,
        volumes: [
          { name: 'config', configMap: { name: `${name}-config` } },
          { name: 'tls', secret: { secretName: `${name}-tls`, defaultMode: 0o400 } },
        ],
        containers: [
          {
            name: 'web',
            image: 'web:1',
            volumeMounts: [
              { name: 'config', mountPath: '/etc/web' },
              { name: 'tls', mountPath: '/etc/tls' },
            ],
          },
        ],
      },
    },
  },
});
const configMap = (name: string, text: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'vol' },
  data: { 'app.conf': text },
});
const secret = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'vol' },
  data: { 'tls.key': Buffer.from('KEY').toString('base64') },
});
const fileOf = (a: Assignment, volume: string, path: string) => {
  const v = a.volumes?.find((x) => x.name === volume);
  const f = (v?.configMap ?? v?.secret)?.files.find((x) => x.path === path);
  return f && { mode: f.mode, text: Buffer.from(f.data, 'base64').toString() };
};

describe.each(DATABASE_KINDS)('configMap and secret volumes on %s', (kind) => {
  let t: TestPlane;
  let fleet: SimFleet;
  beforeAll(async () => {
    t = await startTestPlane(kind);
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'vol',
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

  const apply = async (docs: unknown[]) => {
    const res = await t.plane.app.request('/v1/apply', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(docs),
    });
    return { status: res.status, body: await res.json() };
  };
  const agent = (): SimAgent => fleet.agents[0]!;
  const read = () =>
    t.plane.app.request('/v1/agent/assignments', { headers: { authorization: `Bearer ${agent().token}` } });
  const assignments = async () => ((await (await read()).json()) as { replicas: Assignment[] }).replicas;
  const etag = async () => (await read()).headers.get('etag');

  it('keeps a replica whose ConfigMap is missing Pending, warns, and sends the files once it is written', async () => {
    const applied = await apply([secret('waits-tls'), deployment('waits')]);
    expect(applied.body.warnings).toEqual([
      {
        kind: 'Deployment',
        namespace: 'vol',
        name: 'waits',
        message:
          'configmap "waits-config" not found: its replicas stay Pending (CreateContainerConfigError) until it exists',
      },
    ]);
    const pending = await eventually(async () =>
      (await assignments()).find((x) => x.deployment === 'waits' && x.configError),
    );
    expect(pending.configError).toBe('configmap "waits-config" not found');
    expect(
      (await t.call('PUT', `${NS}/configmaps/waits-config`, { data: { 'app.conf': 'a=1' } })).status,
    ).toBe(201);
    const sent = await eventually(async () =>
      (await assignments()).find((x) => x.id === pending.id && !x.configError),
    );
    expect(fileOf(sent, 'config', 'app.conf')).toEqual({ mode: 0o644, text: 'a=1' });
    expect(fileOf(sent, 'tls', 'tls.key')).toEqual({ mode: 0o400, text: 'KEY' });
  });

  it('wakes the node of a running replica when the ConfigMap it mounts changes, and sends the new files', async () => {
    expect(
      (await apply([configMap('live-config', 'v=1'), secret('live-tls'), deployment('live')])).status,
    ).toBe(200);
    const first = await eventually(async () =>
      (await assignments()).find((x) => x.deployment === 'live' && !x.configError),
    );
    await eventually(
      async () =>
        ((await t.call('GET', `${NS}/replicas?deployment=live`)).body.items as { ready: boolean }[])[0]
          ?.ready,
    );
    const before = await etag();
    expect(
      (await t.call('PUT', `${NS}/configmaps/live-config`, { data: { 'app.conf': 'v=2' } })).status,
    ).toBe(200);
    // Bumped in the write's own transaction: the agent's long-poll answers at once.
    expect(await etag()).not.toBe(before);
    const after = (await assignments()).find((x) => x.id === first.id)!;
    expect(fileOf(after, 'config', 'app.conf')?.text).toBe('v=2');
    // The container configuration is unchanged: only the files differ.
    expect(after.containers).toEqual(first.containers);
  });
});
