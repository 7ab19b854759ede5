import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, DATABASE_KINDS, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

const QUICKSTART = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: flask-app
spec:
  replicas: 3
  selector:
    matchLabels:
      app: flask-app
  template:
    metadata:
      labels:
        app: flask-app
    spec:
      containers:
      - name: flask-app
        image: your-docker-image
        ports:
        - containerPort: 80
`;

describe.each(DATABASE_KINDS)('POST /v1/apply and secrets on %s', (kind) => {
  let t: TestPlane;
  let fleet: SimFleet;
  beforeAll(async () => {
    t = await startTestPlane(kind);
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 2,
      fetch: t.fetch,
      prefix: 'ap',
    });
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.close();
  });
  const apply = (body: string, type = 'application/yaml', query = '') =>
    t.plane.app.request(`/v1/apply${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': type },
      body,
    });

  it('applies the Kubernetes quick-start unchanged, runs it, and re-apply is unchanged', async () => {
    const first = await apply(QUICKSTART);
    expect(first.status).toBe(200);
    expect((await first.json()).items).toEqual([
      { kind: 'Deployment', namespace: 'default', name: 'flask-app', action: 'created' },
    ]);
    await eventually(async () => {
      const d = (await t.call('GET', '/v1/namespaces/default/deployments/flask-app')).body;
      return d.status.readyReplicas === 3;
    });
    const again = await apply(QUICKSTART);
    expect((await again.json()).items[0].action).toBe('unchanged');
    const revisions = (await t.call('GET', '/v1/namespaces/default/deployments/flask-app/revisions')).body
      .items;
    expect(revisions).toHaveLength(1);
    const changed = await apply(QUICKSTART.replace('your-docker-image', 'your-docker-image:2'));
    expect((await changed.json()).items[0].action).toBe('configured');
  });

  it('rejects an unsupported Kubernetes field with its exact path, applying nothing of the request', async () => {
    const good = QUICKSTART.replace(/flask-app/g, 'other-app');
    const bad = `${QUICKSTART.replace(/flask-app/g, 'vol-app').replace('      containers:', '      volumes:\n      - name: data\n        nfs: {server: nas, path: /srv}\n      containers:')}`;
    const res = await apply(`${good}---\n${bad}`);
    expect(res.status).toBe(422);
    const body = await res.json();
    expect(body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'spec.template.spec.volumes[0].nfs', document: 1 }),
      ]),
    );
    expect((await t.call('GET', '/v1/namespaces/default/deployments/other-app')).status).toBe(404);
  });

  it('rejects a selector that does not match the template labels', async () => {
    const res = await apply(
      QUICKSTART.replace('      app: flask-app\n  template', '      app: other\n  template'),
    );
    expect(res.status).toBe(422);
    expect((await res.json()).errors[0].path).toBe('spec.selector.matchLabels.app');
  });

  it('answers malformed YAML with 400 and a wrong type with 415', async () => {
    expect((await apply('a: [1, 2\nb: }')).status).toBe(400);
    expect((await apply('{}', 'text/plain')).status).toBe(415);
    expect((await apply('x: !!js/function "function () {}"')).status).toBe(400);
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 60; i++)
      bomb.push(
        `${String.fromCharCode(98 + (i % 20))}${i}: &r${i} [*${i === 0 ? 'a' : `r${i - 1}`}, *${i === 0 ? 'a' : `r${i - 1}`}]`,
      );
    const res = await apply(bomb.join('\n'));
    expect(res.status).toBe(400);
  });

  it('applies a berth Secret whose values never come back and are not stored in plaintext', async () => {
    const res = await apply(
      JSON.stringify([
        {
          apiVersion: 'berth.dev/v1',
          kind: 'Secret',
          metadata: { name: 'db' },
          type: 'opaque',
          data: { password: 'hunter2-very-secret' },
        },
      ]),
      'application/json',
    );
    expect(res.status).toBe(200);
    const read = await t.call('GET', '/v1/namespaces/default/secrets/db');
    expect(read.body.keys).toEqual(['password']);
    expect(JSON.stringify(read.body)).not.toContain('hunter2');
    const list = await t.call('GET', '/v1/namespaces/default/secrets');
    expect(JSON.stringify(list.body)).not.toContain('hunter2');
    const raw = await t.plane.handle.db.execute('select * from secrets' as never);
    expect(JSON.stringify(raw)).not.toContain('hunter2');
  });

  it('delivers secret values only to the node running a replica that uses them', async () => {
    await t.call('PUT', '/v1/namespaces/default/secrets/api', {
      type: 'opaque',
      data: { key: 'sk-live-123456' },
    });
    await t.call('PUT', '/v1/namespaces/default/deployments/uses-secret', {
      spec: {
        replicas: 1,
        template: {
          metadata: { labels: { app: 's' } },
          spec: {
            containers: [
              {
                name: 'c',
                image: 'x:1',
                env: [{ name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'api', key: 'key' } } }],
              },
            ],
          },
        },
      },
    });
    const holder = await eventually(async () => {
      const r = (await t.call('GET', '/v1/namespaces/default/replicas?deployment=uses-secret')).body.items[0];
      return r?.node ?? undefined;
    });
    for (const agent of fleet.agents) {
      const res = await t.plane.app.request('/v1/agent/assignments', {
        headers: { authorization: `Bearer ${agent.token}` },
      });
      const text = await res.text();
      if (agent.name === holder) expect(text).toContain('sk-live-123456');
      else expect(text).not.toContain('sk-live-123456');
    }
    const events = await t.call('GET', '/v1/namespaces/default/events');
    expect(JSON.stringify(events.body)).not.toContain('sk-live-123456');
    if (t.databaseUrl) {
      const c = new pg.Client({ connectionString: t.databaseUrl });
      await c.connect();
      const dump = JSON.stringify((await c.query('select * from secrets')).rows);
      await c.end();
      expect(dump).not.toContain('sk-live-123456');
    }
  });

  it('forbids a viewer to read secrets and a deployer outside its namespace to apply', async () => {
    const viewer = (
      await t.call('POST', '/v1/tokens', { name: 'v', role: 'viewer', namespaces: ['default'] })
    ).body.token;
    expect((await t.call('GET', '/v1/namespaces/default/secrets', undefined, viewer)).status).toBe(403);
    const deployer = (
      await t.call('POST', '/v1/tokens', { name: 'd', role: 'deployer', namespaces: ['team'] })
    ).body.token;
    const res = await t.plane.app.request('/v1/apply', {
      method: 'POST',
      headers: { authorization: `Bearer ${deployer}`, 'content-type': 'application/yaml' },
      body: QUICKSTART.replace(/flask-app/g, 'sneaky'),
    });
    expect(res.status).toBe(403);
    const ok = await t.plane.app.request('/v1/apply?namespace=team', {
      method: 'POST',
      headers: { authorization: `Bearer ${deployer}`, 'content-type': 'application/yaml' },
      body: QUICKSTART.replace(/flask-app/g, 'allowed'),
    });
    expect(ok.status).toBe(200);
  });
});
