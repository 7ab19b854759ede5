import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putChallenge } from '../../workers/certificates/store.ts';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.ts';
import { ADMIN_TOKEN, deploymentBody, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * /openapi.json describes every answer the API gives. Each documented route is called with valid
 * fixtures (arranged as access-matrix.test.ts arranges them) and its 2xx JSON body is validated
 * against the response schema the document publishes for that status; then each route is made to
 * fail (no token, a viewer's token, an absent object, an invalid or malformed body, a stale
 * resourceVersion) and every error body is validated against the document's problem schema.
 *
 * The published schemas stay open to new fields (API.md: extend freely), so the test closes them
 * before validating: a field the server sends and the schema does not name fails here, as does a
 * route whose success has no schema at all.
 */

const NS = 'team-a';

interface Call {
  /** `METHOD /template` as /openapi.json lists it. */
  route: string;
  path: string;
  token?: string | null;
  body?: string;
  type?: string;
}

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
  requestBody?: unknown;
}

interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

/**
 * `additionalProperties: false` on every object schema that lists its properties and says nothing
 * of others, and `$ref`s pointed at `$defs`, where one JSON Schema document can hold them.
 */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] =
      k === '$ref' && typeof v === 'string'
        ? v.replace('#/components/schemas/', '#/$defs/')
        : k === 'properties' && v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([name, s]) => [name, closed(s)]))
          : closed(v);
  }
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

describe('/openapi.json describes every response body, on Postgres', () => {
  let t: TestPlane;
  let fleet: SimFleet;
  let doc: OpenApi;
  let ajv: Ajv2020;
  let joinToken = '';
  let replicaId = '';
  let outsiderToken = '';
  let issuer: TestIssuer;
  let identityToken = '';
  const revocable = { token: '', joinToken: '' };
  const compiled = new Map<string, ValidateFunction>();

  beforeAll(async () => {
    issuer = await startTestIssuer();
    t = await startTestPlane('postgres', { BERTH_OIDC_ISSUERS: issuer.url });
    identityToken = await issuer.sign();
    doc = (await t.call('GET', '/openapi.json', undefined, null)).body as OpenApi;
    ajv = new Ajv2020({ allErrors: true, strict: true, formats: { 'date-time': true } });

    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'doc',
    });
    joinToken = (await t.call('POST', '/v1/join-tokens', { maxUses: 100 })).body.token;
    outsiderToken = (
      await t.call('POST', '/v1/tokens', { name: 'outsider', role: 'viewer', namespaces: ['team-b'] })
    ).body.token;
    revocable.token = (await t.call('POST', '/v1/tokens', { name: 'gone', role: 'viewer' })).body.id;
    revocable.joinToken = (await t.call('POST', '/v1/join-tokens', {})).body.id;
    await putChallenge(t.plane.deps.db, 'tok-doc', 'x.doc.test', 'tok-doc.key');

    // What reads find, and what destructive calls remove.
    const put = async (path: string, body: unknown) => {
      const res = await t.call('PUT', path, body);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(201);
    };
    await put(`/v1/namespaces/${NS}/deployments/web`, deploymentBody({ replicas: 1 }));
    await put(`/v1/namespaces/${NS}/deployments/doomed`, deploymentBody({ replicas: 0 }));
    // Two ports, so that endpoints carry their `ports` too.
    const ports = [
      { name: 'http', port: 80, targetPort: 8080 },
      { name: 'metrics', port: 9090, targetPort: 8080 },
    ];
    await put(`/v1/namespaces/${NS}/services/svc`, { spec: { selector: { app: 'web' }, ports } });
    await put(`/v1/namespaces/${NS}/services/doomed`, { spec: { selector: { a: 'b' }, ports } });
    await put(`/v1/namespaces/${NS}/secrets/sec`, { data: { k: 'v' } });
    await put(`/v1/namespaces/${NS}/secrets/doomed`, { data: { k: 'v' } });
    await put(`/v1/namespaces/${NS}/configmaps/cm`, { data: { k: 'v' } });
    await put(`/v1/namespaces/${NS}/configmaps/doomed`, { data: { k: 'v' } });
    // A namespace of its own for the namespace delete: the documented one stays.
    await put('/v1/namespaces/doomed-ns/configmaps/cm', { data: { k: 'v' } });
    const claim = {
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
        storageClassName: 'local',
      },
    };
    await put(`/v1/namespaces/${NS}/persistentvolumeclaims/pvc`, claim);
    await put(`/v1/namespaces/${NS}/persistentvolumeclaims/doomed`, claim);
    await put(`/v1/namespaces/${NS}/serviceaccounts/sa`, {});
    await put(`/v1/namespaces/${NS}/serviceaccounts/doomed`, {});
    const ingress = (host: string) => ({
      spec: {
        rules: [
          {
            host,
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'svc', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    });
    await put(`/v1/namespaces/${NS}/ingresses/ing`, ingress('ing.doc.test'));
    await put(`/v1/namespaces/${NS}/ingresses/doomed`, ingress('doomed.doc.test'));
    for (const name of ['job', 'doomed-job']) await put(`/v1/namespaces/${NS}/jobs/${name}`, JOB);
    for (const name of ['cron', 'doomed-cron']) await put(`/v1/namespaces/${NS}/cronjobs/${name}`, CRON_JOB);
    for (const name of ['rule', 'doomed'])
      await put(`/v1/trustrules/${name}`, {
        spec: { issuer: issuer.url, claims: { repository: 'acme/*' }, role: 'viewer', namespaces: [NS] },
      });
    replicaId = await eventually(async () => {
      await t.plane.reconciler.tick();
      const [r] = (await t.call('GET', `/v1/namespaces/${NS}/replicas?deployment=web`)).body.items;
      return r?.node && r.ready ? (r.id as string) : undefined;
    }, 20_000);
    for (const name of ['spare', 'doomed']) await register(name);
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.close();
    await issuer?.close();
  });

  async function register(name: string) {
    const res = await t.call(
      'POST',
      '/v1/agent/register',
      { joinToken, name, capacity: { cpu: 1, memoryBytes: 2 ** 30 }, address: '10.9.9.9' },
      null,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }

  const json = (v: unknown) => ({ body: JSON.stringify(v), type: 'application/json' });

  /** The successful call of each route: admin, except where the route is someone else's. */
  function success(route: string): Call[] {
    const [method, template] = route.split(' ') as [string, string];
    const names: Record<string, string> = {
      'PUT /v1/namespaces/{ns}/deployments/{name}': 'created',
      'DELETE /v1/namespaces/{ns}/deployments/{name}': 'doomed',
      'PUT /v1/namespaces/{ns}/services/{name}': 'created',
      'DELETE /v1/namespaces/{ns}/services/{name}': 'doomed',
      'GET /v1/namespaces/{ns}/services/{name}': 'svc',
      'GET /v1/namespaces/{ns}/services/{name}/endpoints': 'svc',
      'PUT /v1/namespaces/{ns}/secrets/{name}': 'created',
      'DELETE /v1/namespaces/{ns}/secrets/{name}': 'doomed',
      'GET /v1/namespaces/{ns}/secrets/{name}': 'sec',
      'PUT /v1/namespaces/{ns}/configmaps/{name}': 'created',
      'DELETE /v1/namespaces/{ns}/configmaps/{name}': 'doomed',
      'GET /v1/namespaces/{ns}/configmaps/{name}': 'cm',
      'PUT /v1/namespaces/{ns}/persistentvolumeclaims/{name}': 'created',
      'DELETE /v1/namespaces/{ns}/persistentvolumeclaims/{name}': 'doomed',
      'GET /v1/namespaces/{ns}/persistentvolumeclaims/{name}': 'pvc',
      'PUT /v1/namespaces/{ns}/serviceaccounts/{name}': 'created',
      'DELETE /v1/namespaces/{ns}/serviceaccounts/{name}': 'doomed',
      'GET /v1/namespaces/{ns}/serviceaccounts/{name}': 'sa',
      'PUT /v1/namespaces/{ns}/ingresses/{name}': 'created',
      'DELETE /v1/namespaces/{ns}/ingresses/{name}': 'doomed',
      'GET /v1/namespaces/{ns}/ingresses/{name}': 'ing',
      'PUT /v1/namespaces/{ns}/jobs/{name}': 'created',
      'DELETE /v1/namespaces/{ns}/jobs/{name}': 'doomed-job',
      'GET /v1/namespaces/{ns}/jobs/{name}': 'job',
      'PUT /v1/namespaces/{ns}/cronjobs/{name}': 'created',
      'DELETE /v1/namespaces/{ns}/cronjobs/{name}': 'doomed-cron',
      'GET /v1/namespaces/{ns}/cronjobs/{name}': 'cron',
      'DELETE /v1/nodes/{name}': 'doomed',
      'GET /v1/nodes/{name}': 'doc-1',
      'PUT /v1/trustrules/{name}': 'created',
      'DELETE /v1/trustrules/{name}': 'doomed',
      'GET /v1/trustrules/{name}': 'rule',
    };
    const path = template
      .replace('{ns}', route === 'DELETE /v1/namespaces/{ns}' ? 'doomed-ns' : NS)
      .replace('{name}', names[route] ?? (template.startsWith('/v1/nodes') ? 'spare' : 'web'))
      .replace(
        '{id}',
        route.includes('replicas')
          ? replicaId
          : route.includes('join')
            ? revocable.joinToken
            : revocable.token,
      )
      .replace('{token}', 'tok-doc');
    const node = fleet.agents[0]!.token;
    const bodies: Record<string, Omit<Call, 'route' | 'path'>> = {
      'PUT /v1/namespaces/{ns}/deployments/{name}': json(deploymentBody({ replicas: 0 })),
      'PATCH /v1/namespaces/{ns}/deployments/{name}': {
        body: JSON.stringify({ metadata: { labels: { app: 'web', touched: 'yes' } } }),
        type: 'application/merge-patch+json',
      },
      'PUT /v1/namespaces/{ns}/deployments/{name}/scale': json({ replicas: 1 }),
      'POST /v1/namespaces/{ns}/deployments/{name}/rollback': json({ toRevision: 1 }),
      'PUT /v1/namespaces/{ns}/services/{name}': json({
        spec: { selector: { app: 'web' }, ports: [{ port: 81, targetPort: 8080 }] },
      }),
      'PUT /v1/namespaces/{ns}/secrets/{name}': json({
        type: 'registry',
        data: { server: 's', username: 'u', password: 'p' },
      }),
      // Every optional field of the answer: binaryData and immutable.
      'PUT /v1/namespaces/{ns}/configmaps/{name}': json({
        data: { 'app.conf': 'mode=prod' },
        binaryData: { logo: 'iVBORw0KGgo=' },
        immutable: true,
      }),
      'PUT /v1/namespaces/{ns}/persistentvolumeclaims/{name}': json({
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } },
      }),
      'POST /v1/agent/released-claims': { ...json({ uids: [] }), token: node },
      // Every optional field of the answer.
      'PUT /v1/namespaces/{ns}/serviceaccounts/{name}': json({ automountServiceAccountToken: false }),
      // Every optional field of the answer: the class and a backend port by name.
      'PUT /v1/namespaces/{ns}/ingresses/{name}': json({
        spec: {
          ingressClassName: 'berth',
          rules: [
            {
              host: 'created.doc.test',
              http: {
                paths: [
                  {
                    path: '/m',
                    pathType: 'Exact',
                    backend: { service: { name: 'svc', port: { name: 'metrics' } } },
                  },
                ],
              },
            },
          ],
        },
      }),
      // Every optional field of the answer.
      'PUT /v1/namespaces/{ns}/jobs/{name}': json({
        ...JOB,
        spec: { ...JOB.spec, completions: 2, activeDeadlineSeconds: 60, ttlSecondsAfterFinished: 60 },
      }),
      // Every optional field of the answer.
      'PUT /v1/namespaces/{ns}/cronjobs/{name}': json({
        spec: {
          ...CRON_JOB.spec,
          timeZone: 'Europe/Paris',
          startingDeadlineSeconds: 60,
          jobTemplate: { metadata: { labels: { run: 'nightly' }, annotations: { a: 'b' } }, spec: JOB.spec },
        },
      }),
      'POST /v1/agent/register': {
        ...json({
          joinToken,
          name: 'doc-new',
          capacity: { cpu: 1, memoryBytes: 2 ** 30 },
          address: '10.9.9.8',
        }),
        token: null,
      },
      'GET /v1/agent/assignments': { token: node },
      'GET /v1/agent/certificates': { token: node },
      'GET /v1/agent/acme-challenges/{token}': { token: node },
      'POST /v1/agent/status': { ...json({ replicas: [] }), token: node },
      'POST /v1/agent/logs': { ...json({ id: 'log_nothing', lines: [] }), token: node },
      'POST /v1/tokens': json({
        name: 'new',
        role: 'deployer',
        namespaces: [NS],
        expiresInSeconds: 3600,
        exec: true,
      }),
      'POST /v1/join-tokens': json({ ttlSeconds: 600, maxUses: 2 }),
      // Every optional field of the answer.
      'PUT /v1/trustrules/{name}': json({
        metadata: { labels: { team: 'shop' }, annotations: { owner: 'ops' } },
        spec: {
          issuer: issuer.url,
          claims: {
            repository: 'acme/shop',
            repository_owner: 'acme',
            ref: 'refs/heads/*',
            environment: 'production',
            workflow: 'Deploy',
            job_workflow_ref: 'acme/shop/.github/workflows/deploy.yml@refs/heads/main',
          },
          role: 'deployer',
          namespaces: [NS],
          ttlSeconds: 300,
        },
      }),
      'POST /v1/tokens/exchange': { ...json({ token: identityToken, rule: 'rule' }), token: null },
      // A taint with a value and one without: both shapes of the answer's taints.
      'POST /v1/nodes/{name}/taints': json({
        add: [
          { key: 'dedicated', value: 'docs', effect: 'PreferNoSchedule' },
          { key: 'docs', effect: 'PreferNoSchedule' },
        ],
      }),
      'PUT /v1/namespaces/{ns}/policy': json({
        spec: {
          allowedHostSuffixes: ['example.com'],
          hostPorts: { min: 30000, max: 30100 },
          quota: { replicas: 50 },
        },
      }),
    };
    const call: Call = { route, path, ...bodies[route] };
    if (route === 'POST /v1/apply') {
      const yaml = [
        // Naming a key the secret below lacks: the answer carries warnings too.
        `apiVersion: berth.dev/v1\nkind: Deployment\nmetadata: {name: applied}\nspec:\n  replicas: 0\n  template:\n    spec:\n      containers: [{name: web, image: "x:1", env: [{name: K, valueFrom: {secretKeyRef: {name: applied, key: nope}}}]}]`,
        'apiVersion: v1\nkind: Service\nmetadata: {name: applied}\nspec:\n  selector: {app: applied}\n  ports: [{port: 80}]',
        'apiVersion: berth.dev/v1\nkind: Secret\nmetadata: {name: applied}\ndata: {k: v}',
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\ndata: {k: v}',
        'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: applied}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}',
      ].join('\n---\n');
      const apply = { body: yaml, type: 'application/yaml' };
      return [
        { route, path: `${path}?namespace=${NS}&dryRun=true`, ...apply },
        { route, path: `${path}?namespace=${NS}`, ...apply },
      ];
    }
    // Both answers of an apply: created, then updated.
    if (route.startsWith('PUT') && !route.endsWith('/scale')) return [call, call];
    // Both kinds of caller.
    if (route === 'GET /v1/whoami') return [call, { ...call, token: node }];
    if (method === 'GET' && route.includes('/events')) return [{ ...call, path: `${path}?limit=50` }];
    return [call];
  }

  async function send(call: Call) {
    const headers: Record<string, string> = {};
    const token = call.token === undefined ? ADMIN_TOKEN : call.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (call.type) headers['content-type'] = call.type;
    const res = await t.plane.app.request(call.path, {
      method: call.route.split(' ')[0],
      headers,
      ...(call.body !== undefined ? { body: call.body } : {}),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: the checks below say so
    }
    return { status: res.status, type: res.headers.get('content-type') ?? '', body, text };
  }

  /** The schema /openapi.json gives for this route and status (or its `default`), closed, compiled. */
  function validatorFor(route: string, status: number): { validate?: ValidateFunction; documented: boolean } {
    const [method, template] = route.split(' ') as [string, string];
    const responses = doc.paths[template]?.[method.toLowerCase()]?.responses ?? {};
    const entry = responses[String(status)] ?? (status >= 400 ? responses.default : undefined);
    if (!entry) return { documented: false };
    const media = entry.content?.[status >= 400 ? 'application/problem+json' : 'application/json'];
    if (!media) return { documented: true };
    const key = `${route} ${status}`;
    let validate = compiled.get(key);
    if (!validate) {
      const defs = Object.fromEntries(
        Object.entries(doc.components.schemas).map(([name, s]) => [name, closed(s)]),
      );
      validate = ajv.compile({ ...(closed(media.schema) as object), $defs: defs });
      compiled.set(key, validate);
    }
    return { validate, documented: true };
  }

  const routes = () =>
    Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));

  it('validates every 2xx answer of every documented route against its response schema', async () => {
    const wrong: string[] = [];
    let calls = 0;
    for (const route of routes()) {
      for (const call of success(route)) {
        const res = await send(call);
        calls++;
        const where = `${route} (${call.path}) → ${res.status}`;
        if (res.status >= 300) {
          wrong.push(`${where}: not a success: ${res.text.slice(0, 200)}`);
          continue;
        }
        const { validate, documented } = validatorFor(route, res.status);
        if (!documented) wrong.push(`${where}: this status is not documented`);
        else if (res.status === 204) {
          if (res.text) wrong.push(`${where}: a 204 with a body`);
        } else if (!validate) wrong.push(`${where}: no response schema in /openapi.json`);
        else if (!res.type.startsWith('application/json')) wrong.push(`${where}: content-type ${res.type}`);
        else if (!validate(res.body))
          wrong.push(`${where}: ${ajv.errorsText(validate.errors, { separator: '; ' })}`);
      }
    }
    console.log(
      `openapi responses: ${calls} successful calls over ${routes().length} routes, ${wrong.length} wrong`,
    );
    expect(wrong).toEqual([]);
    // Every route's calls, one after another: 18 s on a loaded machine alone, over 60 s beside
    // the three-wide lane's other files.
  }, 180_000);

  it('validates every error answer against the problem schema', async () => {
    const failing = (route: string): Call[] => {
      const [call] = success(route) as [Call];
      const [method, template] = route.split(' ') as [string, string];
      const out: Call[] = [];
      // No credential: 401 (the public route: a join token that does not exist).
      out.push(
        route === 'POST /v1/tokens/exchange'
          ? { ...call, ...json({ token: 'not-a-jwt' }) }
          : route === 'POST /v1/agent/register'
            ? {
                ...call,
                ...json({
                  joinToken: 'berth_j_nope',
                  name: 'x',
                  capacity: { cpu: 1, memoryBytes: 1 },
                  address: 'a',
                }),
              }
            : { ...call, token: null },
      );
      // The wrong caller (a viewer of another namespace): 403, where any user may not pass.
      // Lists any user may call, filtered to what the token reads (certificates: its namespaces').
      const open = [
        'GET /v1/nodes',
        'GET /v1/nodes/{name}',
        'GET /v1/namespaces',
        'GET /v1/whoami',
        'GET /v1/certificates',
      ];
      if (!template.startsWith('/v1/agent') && !open.includes(route) && route !== 'POST /v1/tokens/exchange')
        out.push({ ...call, token: outsiderToken });
      // An absent object: 404.
      if (/\{(name|id)\}/.test(template) && method !== 'PUT') {
        const absent = template.replace('{ns}', NS).replace('{name}', 'absent-x').replace('{id}', 'absent-x');
        out.push({ ...call, path: absent });
      }
      // A body that is not valid: 422; one that is not JSON: 400; one of the wrong type: 415.
      if (doc.paths[template]?.[method.toLowerCase()]?.requestBody && route !== 'POST /v1/apply') {
        out.push({ ...call, ...json({ surely: 'not a field' }) });
        out.push({ ...call, body: '{"unterminated', type: call.type ?? 'application/json' });
        out.push({ ...call, body: 'x', type: 'text/plain' });
      }
      if (route === 'POST /v1/apply') {
        out.push({ ...call, body: 'a: [unclosed', type: 'application/yaml' });
        out.push({ ...call, body: 'kind: Nonsense\n', type: 'application/yaml' });
      }
      // A write against a resourceVersion that moved on: 409.
      if (method === 'PUT' && template.endsWith('/{name}') && call.body) {
        const body = JSON.parse(call.body) as { metadata?: Record<string, unknown> };
        out.push({
          ...call,
          ...json({ ...body, metadata: { ...body.metadata, resourceVersion: '999999' } }),
        });
      }
      return out;
    };
    const wrong: string[] = [];
    const seen = new Map<number, number>();
    for (const route of routes()) {
      for (const call of failing(route)) {
        const res = await send(call);
        const where = `${route} (${call.token === null ? 'no token' : call.token === outsiderToken ? 'outsider' : 'admin'}, ${call.path}, ${call.type ?? 'no body'}) → ${res.status}`;
        if (res.status < 400) {
          wrong.push(`${where}: expected an error`);
          continue;
        }
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        const { validate, documented } = validatorFor(route, res.status);
        if (!documented) wrong.push(`${where}: this status is not documented`);
        else if (!validate) wrong.push(`${where}: no problem schema in /openapi.json`);
        else if (!res.type.startsWith('application/problem+json'))
          wrong.push(`${where}: content-type ${res.type}`);
        else if (!validate(res.body))
          wrong.push(
            `${where}: ${ajv.errorsText(validate.errors, { separator: '; ' })} in ${res.text.slice(0, 200)}`,
          );
      }
    }
    console.log(
      `openapi errors: ${[...seen].map(([s, n]) => `${n}×${s}`).join(', ')}; ${wrong.length} wrong`,
    );
    expect(wrong).toEqual([]);
    // The errors above really cover the problem schema's range, not one status.
    expect([...seen.keys()].sort()).toEqual(expect.arrayContaining([400, 401, 403, 404, 409, 415, 422]));
  }, 180_000);
});

/** A suspended Job: stored, never run. */
const JOB = {
  spec: {
    suspend: true,
    template: { spec: { restartPolicy: 'Never', containers: [{ name: 'job', image: 'x:1' }] } },
  },
};

/** A suspended CronJob: stored, never run. */
const CRON_JOB = { spec: { schedule: '*/5 * * * *', suspend: true, jobTemplate: { spec: JOB.spec } } };
