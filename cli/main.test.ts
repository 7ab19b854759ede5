import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from './exit-codes.ts';
import { run } from './main.ts';
import type { Deployment } from './resources.ts';
import { type CapturedIo, captureIo, problem, StubServer } from './testing/stub-server.ts';

const QUICK_START = new URL('../test/fixtures/manifests/quick-start.yaml', import.meta.url).pathname;

function deployment(overrides: Partial<Deployment> = {}, status: Deployment['status'] = {}): Deployment {
  return {
    apiVersion: 'berth.dev/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'default',
      generation: 2,
      resourceVersion: '7',
      createdAt: '2025-01-01T00:00:00Z',
    },
    spec: {
      replicas: 3,
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'web', image: 'web:1', ports: [{ containerPort: 8080 }] },
            { name: 'sidecar', image: 'log:1' },
          ],
        },
      },
    },
    status: {
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      revision: 2,
      conditions: [{ type: 'Progressing', status: 'True', reason: 'NewRevisionAvailable' }],
      ...status,
    },
    ...overrides,
  };
}

let stub: StubServer;
let io: CapturedIo;

beforeEach(async () => {
  stub = await new StubServer().start();
  io = captureIo();
  io.env.BERTH_SERVER = stub.url;
  io.env.BERTH_TOKEN = 'secret-token';
});
afterEach(() => stub.stop());

const berth = (...argv: string[]) => run(argv, io);

describe('apply', () => {
  it('sends the YAML as written and prints one line per object', async () => {
    stub.on('POST', '/v1/apply', {
      body: { items: [{ kind: 'Deployment', namespace: 'default', name: 'flask-app', action: 'created' }] },
    });
    expect(await berth('apply', '-f', QUICK_START)).toBe(EXIT.OK);
    expect(io.output()).toBe('deployment/flask-app created\n');
    const [sent] = stub.sent('POST', '/v1/apply');
    expect(sent!.headers['content-type']).toBe('application/yaml');
    expect(sent!.headers.authorization).toBe('Bearer secret-token');
    expect(sent!.body).toBe(await readFile(QUICK_START, 'utf8'));
  });

  it('prints the warnings of the apply on stderr, as kubectl does, leaving -o json alone', async () => {
    const message =
      'secret "db" not found: its replicas stay Pending (CreateContainerConfigError) until it exists';
    stub.on('POST', '/v1/apply', {
      body: {
        items: [{ kind: 'Deployment', namespace: 'default', name: 'flask-app', action: 'created' }],
        warnings: [{ kind: 'Deployment', namespace: 'default', name: 'flask-app', message }],
      },
    });
    expect(await berth('apply', '-f', QUICK_START)).toBe(EXIT.OK);
    expect(io.output()).toBe('deployment/flask-app created\n');
    expect(io.errors()).toBe(`Warning: deployment/flask-app: ${message}\n`);
    expect(await berth('apply', '-f', QUICK_START, '-o', 'json')).toBe(EXIT.OK);
    expect(JSON.parse(io.output().slice('deployment/flask-app created\n'.length)).items).toHaveLength(1);
  });

  it('reads standard input with -f - and puts documents into the -n namespace', async () => {
    stub.on('POST', '/v1/apply', (req) => {
      expect(req.body).toMatch(/namespace: staging/);
      return { body: [{ kind: 'Service', name: 'web', action: 'unchanged' }] };
    });
    io.readStdin = async () =>
      'apiVersion: berth.dev/v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {a: b}, ports: [{port: 80}]}\n';
    expect(await berth('apply', '-f', '-', '-n', 'staging')).toBe(EXIT.OK);
    expect(io.output()).toBe('service/web unchanged\n');
  });

  it('refuses a document naming another namespace than -n', async () => {
    io.readStdin = async () =>
      'apiVersion: berth.dev/v1\nkind: Secret\nmetadata: {name: s, namespace: prod}\n';
    expect(await berth('apply', '-f', '-', '-n', 'staging')).toBe(EXIT.USAGE);
    expect(io.errors()).toMatch(/names namespace "prod", not "staging"/);
    expect(stub.requests).toHaveLength(0);
  });

  it('prints the server problem and each errors[].path, exit 6', async () => {
    stub.on(
      'POST',
      '/v1/apply',
      problem(422, 'VALIDATION_FAILED', 'the manifest is invalid', [
        { path: 'spec.template.spec.volumes', message: 'volumes is not supported by Berth' },
        { path: 'spec.replicas', message: 'Too small: expected number to be >=0' },
      ]),
    );
    expect(await berth('apply', '-f', QUICK_START)).toBe(EXIT.INVALID);
    expect(io.errors()).toBe(
      [
        'error: the manifest is invalid (VALIDATION_FAILED)',
        '  spec.template.spec.volumes: volumes is not supported by Berth',
        '  spec.replicas: Too small: expected number to be >=0',
        '',
      ].join('\n'),
    );
  });

  it('names the file and document of each field error the server reports by document index', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
    await writeFile(join(dir, 'a.yaml'), 'apiVersion: berth.dev/v1\nkind: Secret\nmetadata: {name: a}\n');
    await writeFile(join(dir, 'b.yaml'), 'apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: Pod\n');
    io.cwd = dir;
    stub.on('POST', '/v1/apply', {
      status: 422,
      body: {
        title: 'Validation failed',
        status: 422,
        code: 'VALIDATION_FAILED',
        detail: '2 problems in the manifests; nothing was applied.',
        errors: [
          { document: 1, path: 'kind', message: 'kind ConfigMap is not supported by Berth' },
          {
            document: 2,
            kind: 'Pod',
            name: 'p',
            path: 'kind',
            message: 'kind Pod is not supported by Berth',
          },
        ],
      },
    });
    expect(await berth('apply', '-f', 'a.yaml', '-f', 'b.yaml')).toBe(EXIT.INVALID);
    // The server counts documents in the request (b.yaml's first is its 2nd); the CLI in each file.
    expect(io.errors()).toBe(
      [
        'error: 2 problems in the manifests; nothing was applied. First: b.yaml (document 1): kind: kind ConfigMap is not supported by Berth (VALIDATION_FAILED)',
        '  b.yaml (document 1): kind: kind ConfigMap is not supported by Berth',
        '  b.yaml (document 2, Pod "p"): kind: kind Pod is not supported by Berth',
        '',
      ].join('\n'),
    );
  });

  it('reports a YAML syntax error with file and line before sending anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
    await writeFile(join(dir, 'bad.yaml'), 'a: 1\nb: [\n');
    io.cwd = dir;
    expect(await berth('apply', '-f', 'bad.yaml')).toBe(EXIT.INVALID);
    expect(io.errors()).toMatch(/^error: bad\.yaml:3: invalid YAML/);
    expect(stub.requests).toHaveLength(0);
  });

  it('applies every manifest of a directory in name order, as one request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
    await writeFile(join(dir, 'b.yaml'), 'apiVersion: berth.dev/v1\nkind: Secret\nmetadata: {name: b}\n');
    await writeFile(
      join(dir, 'a.json'),
      '{"apiVersion":"berth.dev/v1","kind":"Secret","metadata":{"name":"a"}}',
    );
    await writeFile(join(dir, 'notes.txt'), 'not a manifest');
    stub.on('POST', '/v1/apply', { body: { items: [] } });
    expect(await berth('apply', '-f', dir)).toBe(EXIT.OK);
    const body = stub.sent('POST', '/v1/apply')[0]!.body;
    expect(body.indexOf('name: a')).toBeLessThan(body.indexOf('name: b'));
    expect(body.split('---')).toHaveLength(2);
  });

  it('waits for the rollout with --wait', async () => {
    stub.on('POST', '/v1/apply', {
      body: { items: [{ kind: 'Deployment', name: 'web', action: 'configured' }] },
    });
    stub.on('GET', '/v1/namespaces/default/deployments/web', { body: deployment() });
    stub.on('GET', '/v1/namespaces/default/replicas', { body: { items: [] } });
    stub.on('GET', '/v1/namespaces/default/events', { body: { items: [] } });
    expect(await berth('apply', '-f', QUICK_START, '--wait')).toBe(EXIT.OK);
    expect(io.output()).toBe(
      'deployment/web configured\ndeployment "web" successfully rolled out (revision 2)\n',
    );
  });
});

describe('get', () => {
  it('lists deployments as an aligned table', async () => {
    stub.on('GET', '/v1/namespaces/default/deployments', {
      body: {
        items: [
          deployment(),
          deployment(
            { metadata: { name: 'api-gateway', createdAt: '2024-12-30T00:00:00Z' } },
            { readyReplicas: 1 },
          ),
        ],
      },
    });
    expect(await berth('get', 'deployments')).toBe(EXIT.OK);
    expect(io.output()).toBe(
      [
        'NAME          READY   UP-TO-DATE   AVAILABLE   REVISION   AGE',
        'web           3/3     3            3           2          10m',
        'api-gateway   1/3     3            3           2          2d',
        '',
      ].join('\n'),
    );
  });

  it('passes -l as labelSelector and -n as the namespace', async () => {
    stub.on('GET', '/v1/namespaces/prod/deployments', { body: { items: [] } });
    expect(await berth('get', 'deploy', '-l', 'app=web', '-n', 'prod')).toBe(EXIT.OK);
    expect(stub.requests[0]!.query.get('labelSelector')).toBe('app=web');
    expect(io.errors()).toBe('No deployments found in namespace prod.\n');
  });

  it('prints -o json as the server sent it', async () => {
    stub.on('GET', '/v1/namespaces/default/deployments/web', { body: deployment() });
    expect(await berth('get', 'deployment/web', '-o', 'json')).toBe(EXIT.OK);
    expect(JSON.parse(io.output())).toEqual(deployment());
  });

  it('shows images with -o wide', async () => {
    stub.on('GET', '/v1/namespaces/default/deployments', { body: { items: [deployment()] } });
    await berth('get', 'deployments', '-o', 'wide');
    expect(io.output().split('\n')[1]).toMatch(/web,sidecar\s+web:1,log:1\s+app=web$/);
  });

  it('lists replicas of one deployment', async () => {
    stub.on('GET', '/v1/namespaces/default/replicas', {
      body: {
        items: [
          {
            id: 'web-2-abc',
            deployment: 'web',
            revision: 2,
            node: 'n1',
            phase: 'Running',
            ready: true,
            restartCount: 0,
            hostPorts: [{ containerPort: 8080, hostPort: 32768 }],
          },
        ],
      },
    });
    await berth('get', 'replicas', '-d', 'web', '-o', 'wide');
    expect(stub.requests[0]!.query.get('deployment')).toBe('web');
    expect(io.output()).toMatch(
      /web-2-abc\s+web\s+2\s+n1\s+Running\s+true\s+0\s+<unknown>\s+32768->8080\s+<none>/,
    );
  });

  it('lists nodes with their allocation', async () => {
    stub.on('GET', '/v1/nodes', {
      body: {
        items: [
          {
            name: 'n1',
            status: 'Ready',
            unschedulable: true,
            address: '10.0.0.1',
            allocatable: { cpu: 2, memoryBytes: 2147483648 },
            allocated: { cpu: 0.5, memoryBytes: 268435456 },
            agentVersion: '0.1.0',
          },
        ],
      },
    });
    await berth('get', 'nodes');
    expect(io.output()).toMatch(/n1\s+Ready,SchedulingDisabled\s+10\.0\.0\.1\s+0\.5\/2\s+256Mi\/2Gi/);
  });

  const svc = (name: string) => ({
    apiVersion: 'berth.dev/v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', createdAt: '2025-01-01T00:00:00Z' },
    spec: {
      type: 'NodePort',
      clusterIP: '10.96.0.10',
      selector: { app: name },
      ports: [{ port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }],
      hosts: [],
    },
  });
  const endpoints = (service: string) => ({
    service,
    namespace: 'default',
    items: [
      {
        replica: `${service}-1`,
        deployment: service,
        revision: 1,
        node: 'n1',
        address: '10.0.0.1',
        port: 32768,
      },
    ],
  });

  it('lists services and endpoints, one table per kind, with kubectl names (get svc,ep)', async () => {
    stub.on('GET', '/v1/namespaces/default/services', { body: { items: [svc('web')] } });
    stub.on('GET', '/v1/namespaces/default/services/web/endpoints', { body: endpoints('web') });
    expect(await berth('get', 'svc,ep')).toBe(EXIT.OK);
    expect(io.output()).toBe(
      [
        'NAME          TYPE       CLUSTER-IP   EXTERNAL-IP   PORT(S)        AGE',
        'service/web   NodePort   10.96.0.10   <none>        80:30080/TCP   10m',
        '',
        'NAME            ENDPOINTS        AGE',
        'endpoints/web   10.0.0.1:32768   10m',
        '',
      ].join('\n'),
    );
    const io2 = captureIo({ env: { ...io.env } });
    expect(await run(['get', 'services,endpoints', '-o', 'json'], io2)).toBe(EXIT.OK);
    expect(JSON.parse(io2.output()).items).toHaveLength(2);
    expect(await berth('get', 'svc,nope')).toBe(EXIT.USAGE);
  });

  it("reads one service's endpoints, with their nodes in -o wide (get ep NAME)", async () => {
    stub.on('GET', '/v1/namespaces/default/services/web', { body: svc('web') });
    stub.on('GET', '/v1/namespaces/default/services/web/endpoints', { body: endpoints('web') });
    expect(await berth('get', 'ep', 'web', '-o', 'wide')).toBe(EXIT.OK);
    expect(io.output()).toBe(
      ['NAME   ENDPOINTS        AGE   NODES', 'web    10.0.0.1:32768   10m   n1', ''].join('\n'),
    );
  });

  it('exits 4 with the server message when the object is absent', async () => {
    stub.on(
      'GET',
      '/v1/namespaces/default/deployments/nope',
      problem(404, 'NOT_FOUND', 'deployment "nope" not found'),
    );
    expect(await berth('get', 'deployment', 'nope')).toBe(EXIT.NOT_FOUND);
    expect(io.errors()).toBe('error: deployment "nope" not found (NOT_FOUND)\n');
  });

  it('exits 5 on a rejected token, with a hint', async () => {
    stub.on('GET', '/v1/namespaces/default/deployments', problem(401, 'UNAUTHENTICATED', 'unknown token'));
    expect(await berth('get', 'deployments')).toBe(EXIT.DENIED);
    expect(io.errors()).toMatch(/hint: check --token/);
  });

  it('exits 3 with the request id on a server error, after retrying reads', async () => {
    stub.on('GET', '/v1/namespaces/default/deployments', problem(503, 'UNAVAILABLE', 'database unreachable'));
    expect(await berth('get', 'deployments')).toBe(EXIT.UNAVAILABLE);
    expect(stub.requests).toHaveLength(3);
    expect(io.errors()).toMatch(/request id: req-1/);
  });

  it('exits 3 when nothing listens', async () => {
    await stub.stop();
    expect(await berth('get', 'deployments')).toBe(EXIT.UNAVAILABLE);
    expect(io.errors()).toMatch(
      /^error: cannot reach the Berth server at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/,
    );
  });
});

describe('scale, set image, rollout', () => {
  it('scales', async () => {
    stub.on('PUT', '/v1/namespaces/default/deployments/web/scale', { body: deployment() });
    expect(await berth('scale', 'deployment', 'web', '--replicas', '5')).toBe(EXIT.OK);
    expect(stub.requests[0]!.json).toEqual({ replicas: 5 });
    expect(io.output()).toBe('deployment/web scaled\n');
  });

  it('rejects a bad --replicas as a usage error', async () => {
    expect(await berth('scale', 'deployment/web', '--replicas', 'many')).toBe(EXIT.USAGE);
    expect(io.errors()).toMatch(/--replicas must be a whole number/);
  });

  it('sets an image with a merge patch carrying the resourceVersion, retrying on 409', async () => {
    let version = 7;
    stub.on('GET', '/v1/namespaces/default/deployments/web', () => ({
      body: deployment({ metadata: { name: 'web', resourceVersion: String(version) } }),
    }));
    let patches = 0;
    stub.on('PATCH', '/v1/namespaces/default/deployments/web', () => {
      patches++;
      if (patches === 1) {
        version = 8; // someone else wrote in between
        return problem(409, 'CONFLICT', 'resourceVersion 7 is stale');
      }
      return { body: deployment() };
    });
    expect(await berth('set', 'image', 'deployment/web', 'web=web:2')).toBe(EXIT.OK);
    const sent = stub.sent('PATCH', '/v1/namespaces/default/deployments/web').map((r) => r.json);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual({
      metadata: { resourceVersion: '8' },
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'web', image: 'web:2', ports: [{ containerPort: 8080 }] },
              { name: 'sidecar', image: 'log:1' },
            ],
          },
        },
      },
    });
    expect(stub.sent('PATCH', '/v1/namespaces/default/deployments/web')[0]!.headers['content-type']).toBe(
      'application/merge-patch+json',
    );
    expect(io.output()).toBe('deployment/web image updated\n');
  });

  it('names the containers when the one to set does not exist', async () => {
    stub.on('GET', '/v1/namespaces/default/deployments/web', { body: deployment() });
    expect(await berth('set', 'image', 'deployment/web', 'db=x:1')).toBe(EXIT.USAGE);
    expect(io.errors()).toMatch(/has no container "db" \(it has web, sidecar\)/);
  });

  it('follows a rollout to completion, printing each new state once', async () => {
    const states = [
      deployment({}, { observedGeneration: 1 }),
      deployment(
        {},
        {
          updatedReplicas: 1,
          readyReplicas: 0,
          availableReplicas: 0,
          conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }],
        },
      ),
      deployment(
        {},
        {
          updatedReplicas: 1,
          readyReplicas: 0,
          availableReplicas: 0,
          conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }],
        },
      ),
      deployment(
        {},
        {
          replicas: 4,
          updatedReplicas: 3,
          readyReplicas: 3,
          conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }],
        },
      ),
      deployment(),
    ];
    let i = 0;
    stub.on('GET', '/v1/namespaces/default/deployments/web', () => ({
      body: states[Math.min(i++, states.length - 1)],
    }));
    stub.on('GET', '/v1/namespaces/default/replicas', { body: { items: [] } });
    stub.on('GET', '/v1/namespaces/default/events', { body: { items: [] } });
    expect(await berth('rollout', 'status', 'deployment/web')).toBe(EXIT.OK);
    expect(io.output()).toBe(
      [
        'Waiting for deployment "web" spec update to be observed...',
        'Waiting for deployment "web" rollout to finish: 1 of 3 new replicas have been updated...',
        'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
        'deployment "web" successfully rolled out (revision 2)',
        '',
      ].join('\n'),
    );
  });

  it('fails a rollout on an image pull failure, naming replica and node', async () => {
    stub.on('GET', '/v1/namespaces/default/deployments/web', {
      body: deployment({}, { revision: 3, updatedReplicas: 1, readyReplicas: 2 }),
    });
    stub.on('GET', '/v1/namespaces/default/replicas', {
      body: {
        items: [
          {
            id: 'web-3-x',
            revision: 3,
            node: 'n2',
            phase: 'Failed',
            message: 'pull access denied for web:nope',
          },
        ],
      },
    });
    stub.on('GET', '/v1/namespaces/default/events', { body: { items: [] } });
    expect(await berth('rollout', 'status', 'deployment', 'web')).toBe(EXIT.FAILURE);
    expect(io.errors()).toBe(
      'error: deployment "web" rollout failed: image pull failure of replica web-3-x on node n2: pull access denied for web:nope\n',
    );
  });

  it('fails when the deadline passes and when it is rolled back', async () => {
    const stuck = deployment(
      {},
      {
        updatedReplicas: 1,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'replica set "web-3" has timed out progressing',
          },
        ],
      },
    );
    stub.on('GET', '/v1/namespaces/default/deployments/web', { body: stuck });
    stub.on('GET', '/v1/namespaces/default/replicas', { body: { items: [] } });
    // The rollback event appears on the second poll of a watch that began before it.
    let polls = 0;
    stub.on('GET', '/v1/namespaces/default/events', () => ({
      body: {
        items:
          stuck.spec!.autoRollback && polls++ >= 2
            ? [{ id: 9, reason: 'RolledBack', message: 'rolled back to revision 1' }]
            : [],
      },
    }));
    expect(await berth('rollout', 'status', 'deployment/web')).toBe(EXIT.FAILURE);
    expect(io.errors()).toMatch(
      /rollout failed: ProgressDeadlineExceeded: replica set "web-3" has timed out progressing/,
    );

    stuck.spec!.autoRollback = true;
    const io2 = captureIo({ env: { ...io.env } });
    expect(await run(['rollout', 'status', 'deployment/web'], io2)).toBe(EXIT.FAILURE);
    expect(io2.errors()).toMatch(/rollout failed: rolled back: rolled back to revision 1/);
  });

  it('times out with --timeout', async () => {
    stub.on('GET', '/v1/namespaces/default/deployments/web', {
      body: deployment({}, { readyReplicas: 1, availableReplicas: 1 }),
    });
    stub.on('GET', '/v1/namespaces/default/replicas', { body: { items: [] } });
    stub.on('GET', '/v1/namespaces/default/events', { body: { items: [] } });
    io.env.BERTH_POLL_INTERVAL_MS = '1000';
    expect(await berth('rollout', 'status', 'deployment/web', '--timeout', '10s')).toBe(EXIT.FAILURE);
    expect(io.errors()).toMatch(
      /timed out after 10s: Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available/,
    );
  });

  it('undoes to a revision, pauses, resumes and lists history', async () => {
    stub.on('POST', '/v1/namespaces/default/deployments/web/rollback', { body: deployment() });
    stub.on('POST', '/v1/namespaces/default/deployments/web/pause', { body: deployment() });
    stub.on('GET', '/v1/namespaces/default/deployments/web/revisions', {
      body: {
        items: [
          {
            revision: 2,
            createdAt: '2025-01-01T00:09:00Z',
            current: true,
            template: { spec: { containers: [{ name: 'web', image: 'web:2' }] } },
          },
          {
            revision: 1,
            createdAt: '2025-01-01T00:00:00Z',
            template: { spec: { containers: [{ name: 'web', image: 'web:1' }] } },
          },
        ],
      },
    });
    expect(await berth('rollout', 'undo', 'deployment/web', '--to-revision', '1')).toBe(EXIT.OK);
    expect(stub.sent('POST', '/v1/namespaces/default/deployments/web/rollback')[0]!.json).toEqual({
      toRevision: 1,
    });
    expect(await berth('rollout', 'pause', 'deployment/web')).toBe(EXIT.OK);
    expect(await berth('rollout', 'history', 'deployment/web')).toBe(EXIT.OK);
    expect(io.output()).toBe(
      [
        'deployment/web rolled back to revision 1',
        'deployment/web paused',
        'deployment/web',
        'REVISION   IMAGES      AGE   CURRENT',
        '1          web=web:1   10m   <none>',
        '2          web=web:2   60s   yes',
        '',
      ].join('\n'),
    );
  });
});

describe('describe, delete, logs', () => {
  it('describes a deployment with conditions, replicas and events', async () => {
    stub.on('GET', '/v1/namespaces/default/deployments/web', { body: deployment() });
    stub.on('GET', '/v1/namespaces/default/replicas', {
      body: {
        items: [{ id: 'web-2-a', revision: 2, node: 'n1', phase: 'Running', ready: true, restartCount: 1 }],
      },
    });
    stub.on('GET', '/v1/namespaces/default/events', {
      body: {
        items: [
          {
            type: 'Normal',
            reason: 'ScalingReplicaSet',
            message: 'placed 3 replicas',
            createdAt: '2025-01-01T00:09:30Z',
          },
        ],
      },
    });
    expect(await berth('describe', 'deployment', 'web')).toBe(EXIT.OK);
    const text = io.output();
    expect(text).toMatch(/^Name:\s+web$/m);
    expect(text).toMatch(/^Replicas:\s+3 desired \| 3 updated \| 3 ready \| 3 available \| 0 unavailable$/m);
    expect(text).toMatch(/^\s+Progressing\s+True\s+NewRevisionAvailable/m);
    expect(text).toMatch(/^\s+web-2-a\s+2\s+n1\s+Running\s+true\s+1/m);
    expect(text).toMatch(/^\s+30s\s+Normal\s+ScalingReplicaSet\s+placed 3 replicas$/m);
    expect(text).toMatch(/^ {6}Image:\s+web:1$/m);
  });

  it('deletes what a manifest names; 404 is exit 4 unless --ignore-not-found', async () => {
    stub.on('DELETE', '/v1/namespaces/default/deployments/flask-app', problem(404, 'NOT_FOUND', 'not found'));
    expect(await berth('delete', '-f', QUICK_START)).toBe(EXIT.NOT_FOUND);
    expect(io.errors()).toBe('error: deployment/flask-app not found\n');
    expect(await berth('delete', '-f', QUICK_START, '--ignore-not-found')).toBe(EXIT.OK);
    stub.on('DELETE', '/v1/namespaces/default/services/web', { body: {} });
    expect(await berth('delete', 'service', 'web')).toBe(EXIT.OK);
    expect(io.output()).toBe('service/web deleted\n');
  });

  it('prints logs of every replica of a deployment, prefixed', async () => {
    stub.on('GET', '/v1/namespaces/default/replicas', {
      body: {
        items: [
          { id: 'r1', node: 'n1', phase: 'Running' },
          { id: 'r2', node: 'n2', phase: 'Running' },
          { id: 'r3', phase: 'Pending' },
        ],
      },
    });
    stub.on('GET', /\/replicas\/r\d\/logs$/, (req) => ({
      body: { lines: [`hello from ${req.path.split('/')[5]}`] },
    }));
    expect(await berth('logs', 'deployment/web', '--tail', '5')).toBe(EXIT.OK);
    expect(io.output()).toBe('[r1] hello from r1\n[r2] hello from r2\n');
    expect(stub.requests.filter((r) => r.path.endsWith('/logs')).map((r) => r.query.get('tail'))).toEqual([
      '5',
      '5',
    ]);
  });
});

describe('logs -f', () => {
  it("follows every replica's stream, prefixed, with -c and --tail as kubectl sends them", async () => {
    stub.on('GET', '/v1/namespaces/default/replicas', {
      body: {
        items: [
          { id: 'r1', node: 'n1', phase: 'Running' },
          { id: 'r2', node: 'n2', phase: 'Running' },
        ],
      },
    });
    stub.on('GET', /\/api\/v1\/namespaces\/default\/pods\/r\d\/log$/, (req) => ({
      text: `first of ${req.path.split('/')[6]}\nsecond\n`,
    }));
    expect(await berth('logs', 'deployment/web', '-f', '-c', 'web', '--tail', '2')).toBe(EXIT.OK);
    expect(io.output().split('\n').sort()).toEqual([
      '',
      '[r1] first of r1',
      '[r1] second',
      '[r2] first of r2',
      '[r2] second',
    ]);
    const asked = stub.requests.filter((r) => r.path.endsWith('/log'));
    expect(
      asked.map((r) => [r.query.get('follow'), r.query.get('tailLines'), r.query.get('container')]),
    ).toEqual([
      ['true', '2', 'web'],
      ['true', '2', 'web'],
    ]);
  });

  it("prints the Kubernetes face's refusal, and keeps -f meaning files elsewhere", async () => {
    stub.on('GET', '/api/v1/namespaces/default/pods/r9/log', {
      status: 400,
      body: { kind: 'Status', message: 'container "x" in pod "r9" is waiting to start: ContainerCreating' },
      headers: { 'content-type': 'application/json' },
    });
    expect(await berth('logs', 'r9', '-f')).not.toBe(EXIT.OK);
    expect(io.errors()).toContain('is waiting to start: ContainerCreating');
    expect(await berth('logs', 'r9', '-c', 'web')).toBe(EXIT.USAGE);
  });
});

describe('tokens, nodes', () => {
  it('creates a token and prints only the secret on stdout', async () => {
    stub.on('POST', '/v1/tokens', { status: 201, body: { id: 'tok_1', token: 'bt_secret' } });
    expect(
      await berth(
        'token',
        'create',
        'ci',
        '--role',
        'deployer',
        '--namespaces',
        'web,api',
        '--expires',
        '30d',
      ),
    ).toBe(EXIT.OK);
    expect(stub.requests[0]!.json).toEqual({
      name: 'ci',
      role: 'deployer',
      namespaces: ['web', 'api'],
      expiresInSeconds: 2592000,
    });
    expect(io.output()).toBe('bt_secret\n');
  });

  it('creates a join token', async () => {
    stub.on('POST', '/v1/join-tokens', {
      status: 201,
      body: { id: 'j1', token: 'jt_x', expiresAt: '2025-01-02T00:00:00Z' },
    });
    expect(await berth('join-token', 'create', '--ttl', '1h', '--max-uses', '3')).toBe(EXIT.OK);
    expect(stub.requests[0]!.json).toEqual({ ttlSeconds: 3600, maxUses: 3 });
    expect(io.output()).toBe('jt_x\n');
  });

  it('creates a join token bound to a node name and labels', async () => {
    stub.on('POST', '/v1/join-tokens', {
      status: 201,
      body: { id: 'j2', token: 'jt_y', expiresAt: '2025-01-02T00:00:00Z', maxUses: 1, nodeName: 'vm-1' },
    });
    expect(await berth('join-token', 'create', '--name', 'vm-1', '--labels', 'region=eu,disk=ssd')).toBe(
      EXIT.OK,
    );
    expect(stub.requests[0]!.json).toEqual({ nodeName: 'vm-1', labels: { region: 'eu', disk: 'ssd' } });
    expect(io.output()).toBe('jt_y\n');
    expect(io.errors()).toContain('one use');
    expect(io.errors()).toContain('node vm-1 only');
    expect(await berth('join-token', 'create', '--labels', 'region')).toBe(EXIT.USAGE);
  });

  it('resets a node and says how to re-join it', async () => {
    stub.on('POST', '/v1/nodes/vm-1/reset', { body: { name: 'vm-1' } });
    expect(await berth('node', 'reset', 'node/vm-1')).toBe(EXIT.OK);
    expect(stub.requests[0]!.method).toBe('POST');
    expect(io.output()).toBe('node/vm-1 reset: its credential no longer works\n');
    expect(io.errors()).toContain('berth join-token create --name vm-1');
  });

  it('cordons and drains nodes', async () => {
    stub.on('POST', /\/v1\/nodes\/n1\/(cordon|drain)/, { body: {} });
    expect(await berth('node', 'cordon', 'n1')).toBe(EXIT.OK);
    expect(await berth('node', 'drain', 'node/n1')).toBe(EXIT.OK);
    expect(io.output()).toBe('node/n1 cordoned\nnode/n1 drained\n');
  });
});

describe('contexts', () => {
  it('logs in, saves the context with mode 0600, and uses it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-home-'));
    const env = { BERTH_CONFIG: join(dir, 'berth', 'config.json'), BERTH_POLL_INTERVAL_MS: '1' };
    stub.on('GET', '/v1/namespaces/default/deployments', (req) =>
      req.headers.authorization === 'Bearer good'
        ? { body: { items: [] } }
        : problem(401, 'UNAUTHENTICATED', 'unknown token'),
    );
    const io1 = captureIo({ env: { ...env } });
    expect(await run(['login', '--server', stub.url, '--token', 'bad', '--name', 'stub'], io1)).toBe(
      EXIT.DENIED,
    );
    expect(await run(['login', '--server', stub.url, '--token', 'good', '--name', 'stub'], io1)).toBe(
      EXIT.OK,
    );
    expect((await stat(env.BERTH_CONFIG)).mode & 0o777).toBe(0o600);

    const io2 = captureIo({ env: { ...env } });
    expect(await run(['get', 'deployments'], io2)).toBe(EXIT.OK);
    expect(io2.errors()).toBe('No deployments found in namespace default.\n');

    const io3 = captureIo({ env: { ...env } });
    await run(['context', 'list'], io3);
    expect(io3.output()).toMatch(
      new RegExp(`^\\*\\s+stub\\s+${stub.url.replace(/[.]/g, '\\.')}\\s+default$`, 'm'),
    );
  });
});

describe('usage', () => {
  it('rejects unknown commands, flags a command does not take, and missing arguments with exit 2', async () => {
    expect(await berth('deploy')).toBe(EXIT.USAGE);
    expect(await berth('get', 'deployments', '--replicas', '3')).toBe(EXIT.USAGE);
    expect(io.errors()).toMatch(/get does not take --replicas/);
    expect(await berth('scale', 'deployment', 'web')).toBe(EXIT.USAGE);
    expect(await berth('rollout', 'status')).toBe(EXIT.USAGE);
    expect(await berth('apply')).toBe(EXIT.USAGE);
    expect(stub.requests).toHaveLength(0);
  });

  it('prints help for a command with exit 0', async () => {
    expect(await berth('scale', '--help')).toBe(EXIT.OK);
    expect(io.output()).toMatch(/Usage: berth scale deployment NAME --replicas N/);
  });
});

describe('namespace policies', () => {
  const POLICY = '/v1/namespaces/team-a/policy';
  const defaultPolicy = {
    apiVersion: 'berth.dev/v1',
    kind: 'NamespacePolicy',
    metadata: { name: 'team-a', namespace: 'team-a', annotations: { 'berth.dev/default': 'true' } },
    spec: { allowedHostSuffixes: [], allowWildcardHosts: false, quota: {}, defaultLimits: { memory: '1Gi' } },
  };
  const ownPolicy = (resourceVersion: string, spec: Record<string, unknown> = {}) => ({
    apiVersion: 'berth.dev/v1',
    kind: 'NamespacePolicy',
    metadata: {
      name: 'team-a',
      namespace: 'team-a',
      uid: 'p1',
      labels: { team: 'a' },
      resourceVersion,
      generation: 1,
      createdAt: '2025-01-01T00:00:00Z',
      updatedAt: '2025-01-01T00:00:00Z',
    },
    spec: {
      allowedHostSuffixes: ['a.example.com'],
      allowWildcardHosts: false,
      hostPorts: { min: 30000, max: 30010 },
      quota: { replicas: 10, memory: '4Gi' },
      defaultLimits: { memory: '512Mi' },
      ...spec,
    },
  });
  /** The server's answer to a PUT: what was sent, stored. */
  const stored = (req: { json: unknown }) => ({
    status: 200,
    body: { ...ownPolicy('9'), spec: (req.json as { spec: unknown }).spec },
  });

  it('sets a policy on a namespace that has the default: changes what the flags say, keeps the rest', async () => {
    stub.on('GET', POLICY, { body: defaultPolicy });
    stub.on('PUT', POLICY, stored);
    const code = await berth(
      'namespace',
      'set-policy',
      'team-a',
      '--allow-host-suffix',
      'a.example.com',
      '--allow-host-suffix',
      'shop.example.net',
      '--host-ports',
      '30000-30100',
      '--quota-replicas',
      '20',
      '--quota-cpu',
      '4',
    );
    expect(io.errors()).toBe('');
    expect(code).toBe(EXIT.OK);
    // The default carries no version to match and its annotation is the server's: neither is sent.
    expect(stub.sent('PUT', POLICY)[0]!.json).toEqual({
      apiVersion: 'berth.dev/v1',
      kind: 'NamespacePolicy',
      metadata: { name: 'team-a' },
      spec: {
        allowedHostSuffixes: ['a.example.com', 'shop.example.net'],
        allowWildcardHosts: false,
        hostPorts: { min: 30000, max: 30100 },
        quota: { replicas: 20, cpu: '4' },
        defaultLimits: { memory: '1Gi' },
      },
    });
    expect(io.output()).toBe(
      [
        'NAMESPACE   HOST-SUFFIXES                    WILDCARDS   HOST-PORTS    QUOTA               DEFAULT-MEMORY-LIMIT',
        'team-a      a.example.com,shop.example.net   false       30000-30100   replicas=20,cpu=4   1Gi',
        '',
      ].join('\n'),
    );
  });

  it('writes with the resourceVersion it read and, after a conflict, reads again and reapplies the change', async () => {
    let version = 7;
    stub.on('GET', POLICY, () => ({
      body: ownPolicy(String(version), version === 8 ? { allowWildcardHosts: true } : {}),
    }));
    let puts = 0;
    stub.on('PUT', POLICY, (req) => {
      if (++puts === 1) {
        version = 8; // another admin allowed wildcards in between
        return problem(
          409,
          'CONFLICT',
          'namespace policy "team-a" was modified (resourceVersion 8, you sent 7)',
        );
      }
      return stored(req);
    });
    expect(
      await berth('namespace', 'set-policy', 'team-a', '--allow-host-suffix', 'b.example.com', '-o', 'json'),
    ).toBe(EXIT.OK);
    const sent = stub.sent('PUT', POLICY).map((r) => r.json as { metadata: unknown; spec: unknown });
    expect(sent.map((s) => (s.metadata as { resourceVersion: string }).resourceVersion)).toEqual(['7', '8']);
    expect(sent[1]).toEqual({
      apiVersion: 'berth.dev/v1',
      kind: 'NamespacePolicy',
      metadata: { name: 'team-a', labels: { team: 'a' }, resourceVersion: '8' },
      spec: {
        allowedHostSuffixes: ['a.example.com', 'b.example.com'],
        allowWildcardHosts: true,
        hostPorts: { min: 30000, max: 30010 },
        quota: { replicas: 10, memory: '4Gi' },
        defaultLimits: { memory: '512Mi' },
      },
    });
    expect(JSON.parse(io.output()).spec.allowedHostSuffixes).toEqual(['a.example.com', 'b.example.com']);
  });

  it('gives up after a second conflict, exit 1, changing nothing more', async () => {
    stub.on('GET', POLICY, { body: ownPolicy('7') });
    stub.on('PUT', POLICY, problem(409, 'CONFLICT', 'namespace policy "team-a" was modified'));
    expect(await berth('namespace', 'set-policy', 'team-a', '--no-wildcard-hosts')).toBe(EXIT.FAILURE);
    expect(stub.sent('PUT', POLICY)).toHaveLength(2);
    expect(io.errors()).toBe('error: namespace policy "team-a" was modified (CONFLICT)\n');
  });

  it('clears the host suffixes and removes settings given "none"', async () => {
    stub.on('GET', POLICY, { body: ownPolicy('3') });
    stub.on('PUT', POLICY, stored);
    expect(
      await berth(
        'namespace',
        'set-policy',
        'team-a',
        '--clear-host-suffixes',
        '--allow-wildcard-hosts',
        '--host-ports',
        'none',
        '--quota-replicas',
        'none',
        '--quota-memory',
        '8Gi',
        '--default-memory-limit',
        'none',
        '-o',
        'yaml',
      ),
    ).toBe(EXIT.OK);
    expect((stub.sent('PUT', POLICY)[0]!.json as { spec: unknown }).spec).toEqual({
      allowedHostSuffixes: [],
      allowWildcardHosts: true,
      quota: { memory: '8Gi' },
      // null, not absent: "no default limit" where the default policy has one
      defaultLimits: { memory: null },
    });
    expect(io.output()).toMatch(/^ {2}allowedHostSuffixes: \[\]$/m);
  });

  it("shows the API's problem: each errors[].path of a 422, the text of a 403", async () => {
    stub.on('GET', POLICY, { body: defaultPolicy });
    stub.on(
      'PUT',
      POLICY,
      problem(422, 'VALIDATION_FAILED', 'The request is invalid.', [
        { path: 'spec.allowedHostSuffixes[0]', message: 'must be a lowercase domain such as example.com' },
        { path: 'spec.hostPorts.max', message: 'min must not be above max' },
      ]),
    );
    expect(
      await berth(
        'namespace',
        'set-policy',
        'team-a',
        '--allow-host-suffix',
        'Bad_Domain',
        '--host-ports',
        '30010-30000',
      ),
    ).toBe(EXIT.INVALID);
    expect(io.errors()).toBe(
      [
        'error: The request is invalid. (VALIDATION_FAILED)',
        '  spec.allowedHostSuffixes[0]: must be a lowercase domain such as example.com',
        '  spec.hostPorts.max: min must not be above max',
        '',
      ].join('\n'),
    );
    expect(io.output()).toBe('');

    const io2 = captureIo({ env: { ...io.env } });
    stub.on('PUT', POLICY, problem(403, 'FORBIDDEN', 'this action needs an admin token'));
    expect(await run(['namespace', 'set-policy', 'team-a', '--quota-cpu', '2'], io2)).toBe(EXIT.DENIED);
    expect(io2.errors()).toBe('error: this action needs an admin token (FORBIDDEN)\n');
  });

  it('gets the policy in force, saying when it is the default; get policy is the same', async () => {
    stub.on('GET', POLICY, { body: defaultPolicy });
    expect(await berth('namespace', 'get-policy', 'team-a')).toBe(EXIT.OK);
    expect(io.output()).toMatch(/^team-a\s+<none>\s+false\s+<none>\s+<none>\s+1Gi$/m);
    expect(io.errors()).toBe(
      'Namespace team-a has no policy of its own: this is the default (berth namespace set-policy team-a sets one).\n',
    );
    // -n names the namespace when the argument is left out; -o json is what the server sent.
    const io2 = captureIo({ env: { ...io.env } });
    expect(await run(['namespace', 'get-policy', '-n', 'team-a', '-o', 'json'], io2)).toBe(EXIT.OK);
    expect(JSON.parse(io2.output())).toEqual(defaultPolicy);
    expect(io2.errors()).toBe('');
    const io3 = captureIo({ env: { ...io.env } });
    expect(await run(['get', 'policy', 'team-a', '-o', 'name'], io3)).toBe(EXIT.OK);
    expect(io3.output()).toBe('policy/team-a\n');
    expect(stub.requests.every((r) => r.path === POLICY && r.method === 'GET')).toBe(true);
  });

  it('lists every policy that was set (admin), with a hint for a token that may not', async () => {
    stub.on('GET', '/v1/policies', {
      body: {
        apiVersion: 'berth.dev/v1',
        kind: 'NamespacePolicyList',
        items: [
          { ...ownPolicy('3'), spec: { ...ownPolicy('3').spec, acceptServiceTrafficFrom: ['shop', 'jobs'] } },
          {
            ...ownPolicy('1', {
              allowedHostSuffixes: [],
              allowWildcardHosts: true,
              hostPorts: undefined,
              quota: {},
              defaultLimits: { memory: null },
            }),
            metadata: { name: 'team-b', namespace: 'team-b', createdAt: '2025-01-01T00:09:00Z' },
          },
        ],
      },
    });
    expect(await berth('get', 'policies', '-o', 'wide')).toBe(EXIT.OK);
    expect(io.output()).toBe(
      [
        'NAMESPACE   HOST-SUFFIXES   WILDCARDS   HOST-PORTS    QUOTA                    DEFAULT-MEMORY-LIMIT   AGE   SERVICE-TRAFFIC-FROM',
        'team-a      a.example.com   false       30000-30010   replicas=10,memory=4Gi   512Mi                  10m   shop,jobs',
        'team-b      <none>          true        <none>        <none>                   <none>                 60s   *',
        '',
      ].join('\n'),
    );
    stub.on('GET', '/v1/policies', problem(403, 'FORBIDDEN', 'this action needs an admin token'));
    const io2 = captureIo({ env: { ...io.env } });
    expect(await run(['get', 'policies'], io2)).toBe(EXIT.DENIED);
    expect(io2.errors()).toMatch(
      /^error: this action needs an admin token \(FORBIDDEN\)\n {2}hint: .*berth get policy NS/,
    );
  });

  it('deletes a policy; one that is not there is exit 4 unless --ignore-not-found', async () => {
    stub.on('DELETE', POLICY, { body: ownPolicy('3') });
    expect(await berth('namespace', 'delete-policy', 'team-a')).toBe(EXIT.OK);
    expect(io.output()).toBe('policy/team-a deleted: namespace team-a has the default policy\n');
    stub.on('DELETE', POLICY, problem(404, 'NOT_FOUND', 'namespace policy "team-a" not found'));
    expect(await berth('namespace', 'delete-policy', 'team-a')).toBe(EXIT.NOT_FOUND);
    expect(io.errors()).toBe('error: namespace policy "team-a" not found (NOT_FOUND)\n');
    expect(await berth('namespace', 'delete-policy', 'team-a', '--ignore-not-found')).toBe(EXIT.OK);
  });

  it('refuses a set without changes, a bad range, contradicting flags and write flags on reads, sending nothing', async () => {
    expect(await berth('namespace', 'set-policy', 'team-a')).toBe(EXIT.USAGE);
    expect(io.errors()).toMatch(/nothing to change/);
    expect(await berth('namespace', 'set-policy', 'team-a', '--host-ports', '30000:30100')).toBe(EXIT.USAGE);
    expect(io.errors()).toMatch(/--host-ports must be a range such as 30000-30100/);
    expect(
      await berth('namespace', 'set-policy', 'team-a', '--allow-wildcard-hosts', '--no-wildcard-hosts'),
    ).toBe(EXIT.USAGE);
    expect(await berth('namespace', 'set-policy', 'team-a', '--quota-replicas', 'lots')).toBe(EXIT.USAGE);
    expect(await berth('namespace', 'set-policy', '--quota-cpu', '2')).toBe(EXIT.USAGE);
    expect(io.errors()).toMatch(/missing the namespace/);
    expect(await berth('namespace', 'get-policy', 'team-a', '--quota-cpu', '2')).toBe(EXIT.USAGE);
    expect(await berth('namespace', 'rename', 'team-a')).toBe(EXIT.USAGE);
    expect(stub.requests).toHaveLength(0);
  });

  it('explains every flag in its help', async () => {
    expect(await berth('namespace', '--help')).toBe(EXIT.OK);
    for (const flag of [
      '--allow-host-suffix',
      '--clear-host-suffixes',
      '--allow-wildcard-hosts',
      '--host-ports',
      '--quota-replicas',
      '--default-memory-limit',
    ])
      expect(io.output()).toContain(`  ${flag}`);
    expect(await berth('help')).toBe(EXIT.OK);
    expect(io.output()).toMatch(/^ {2}namespace\s+Show, set or remove a namespace's policy/m);
  });
});
