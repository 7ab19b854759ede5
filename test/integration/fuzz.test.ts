import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LogAnswer, RegisterRequest, StatusReport } from '../../common/agent-protocol.ts';
import { DeploymentInput } from '../../common/deployment.ts';
import { SecretInput } from '../../common/secret.ts';
import { ServiceInput } from '../../common/service.ts';
import { rowsOf } from '../../db/rows.ts';
import { JoinTokenCreate, TokenCreate } from '../../workers/verbs/tokens.ts';
import { ADMIN_TOKEN, deploymentBody, startTestPlane, type TestPlane } from '../support/plane.ts';

/**
 * Hostile input against the real app in-process on PGlite: fast-check bodies for every body
 * schema (valid-shaped, and mutated with hostile values, unknown and prototype keys, deleted
 * fields), malformed JSON and YAML (bombs, tags, anchors, 10k-deep nesting), huge and odd
 * numbers, unicode, NUL and lone surrogates, path traversal and over-long names in URLs, wrong
 * methods and odd headers. Thousands of requests: never a 5xx, every error a problem+json of
 * the closed set, no state change from any rejected request (a hash of every table before and
 * after), no prototype pollution, and bounded heap growth.
 */
// The scale and rollback bodies as workers/routes/deployments.ts declares them (not exported there).
const ScaleBody = z.strictObject({ replicas: z.int().min(0).max(10000) });
const RollbackBody = z.strictObject({ toRevision: z.int().min(1).optional() });

const SEED = Number(process.env.BERTH_FUZZ_SEED ?? Date.now() % 1_000_000);
const CODES: Record<string, number> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 422,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

interface Case {
  what: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Known in advance to be invalid: must be answered 4xx. */
  mustReject: boolean;
}

// --- hostile values, as raw JSON text (1e309 and lone surrogates have no JSON.stringify form) ---
const DEEP = 10_000;
const HOSTILE_RAW = [
  '1e309',
  '-1e309',
  '-0',
  '18446744073709551616',
  '9007199254740993',
  '2147483648',
  '-1',
  '0.5',
  '1e-400',
  'null',
  'true',
  '[]',
  '{}',
  '""',
  '"\\u0000"',
  '"a\\u0000b"',
  '"\\ud800"',
  '"x\\udfffy"',
  JSON.stringify('x'.repeat(70_000)),
  JSON.stringify('名前'),
  JSON.stringify('ÑAME'),
  JSON.stringify('🚀'),
  JSON.stringify('\u202e\u200bweb'),
  JSON.stringify('../../etc/passwd'),
  JSON.stringify('..%2F..%2Fetc'),
  JSON.stringify('%00'),
  JSON.stringify("'; drop table deployments; --"),
  JSON.stringify(['$', '{jndi:ldap://x}'].join('')),
  '{"$ne":1}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`,
  `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`,
];
const HOSTILE_KEYS = [
  'unknownField',
  '__proto__',
  'constructor',
  'prototype',
  '',
  '\u0000',
  'k'.repeat(300),
  '名前',
];

// --- valid-shaped bodies ------------------------------------------------------------------
const dns = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,14}[a-z0-9])?$/);
const labelKey = fc.stringMatching(
  /^([a-z0-9]{1,8}\.[a-z]{2,4}\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?$/,
);
const labelValue = fc.stringMatching(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?)?$/);
const labels = fc.dictionary(labelKey, labelValue, { maxKeys: 3 });
/** Mostly ordinary strings, sometimes any code point, NUL or a lone surrogate. */
const text = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '名前', '🚀', '\u202e'),
  },
);
const smallInt = fc.oneof(
  fc.integer({ min: 0, max: 5 }),
  fc.constantFrom(0, 1, 65535, 2147483647, 2 ** 53 - 1),
);
const cpu = fc.oneof(
  fc.constantFrom('250m', '1', '0.5', '2', '100m'),
  fc.integer({ min: 0, max: 2 ** 31 }).map((n) => `${n}m`),
  fc.integer({ min: 0, max: 1e7 }),
);
const memory = fc.oneof(
  fc.constantFrom('128Mi', '1Gi', '64M', '512Ki'),
  fc.integer({ min: 0, max: 2 ** 53 - 1 }),
  fc.integer({ min: 0, max: 1e6 }).map((n) => `${n}Ti`),
);
const probe = fc.oneof(
  fc.record({ httpGet: fc.record({ path: text, port: fc.integer({ min: 1, max: 65535 }) }) }),
  fc.record({ tcpSocket: fc.record({ port: fc.oneof(fc.integer({ min: 1, max: 65535 }), dns) }) }),
  fc.record({ exec: fc.record({ command: fc.array(text, { minLength: 1, maxLength: 3 }) }) }),
);
const container = fc.record(
  {
    name: dns,
    image: fc.constantFrom('nginx:1', 'registry.example.com/team/web:2', 'busybox', 'x@sha256:abc'),
    command: fc.array(text, { maxLength: 3 }),
    args: fc.array(text, { maxLength: 3 }),
    env: fc.array(
      fc.oneof(
        fc.record({ name: fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/), value: text }),
        fc.record({
          name: fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/),
          valueFrom: fc.record({
            secretKeyRef: fc.record({ name: dns, key: fc.stringMatching(/^[a-z]{1,8}$/) }),
          }),
        }),
      ),
      { maxLength: 3 },
    ),
    ports: fc.array(fc.record({ containerPort: fc.integer({ min: 1, max: 65535 }) }), { maxLength: 2 }),
    resources: fc.record(
      { requests: fc.record({ cpu, memory }, { requiredKeys: [] }) },
      { requiredKeys: [] },
    ),
    readinessProbe: probe,
  },
  { requiredKeys: ['name', 'image'] },
);
const deploymentArb = fc.record(
  {
    apiVersion: fc.constant('berth.dev/v1'),
    kind: fc.constant('Deployment'),
    metadata: fc.record(
      { labels, annotations: fc.dictionary(fc.string({ maxLength: 10 }), text, { maxKeys: 2 }) },
      { requiredKeys: [] },
    ),
    spec: fc.record(
      {
        replicas: fc.integer({ min: 0, max: 3 }),
        template: fc.record({
          metadata: fc.record({ labels }),
          spec: fc.record(
            {
              containers: fc.array(container, { minLength: 1, maxLength: 2 }),
              terminationGracePeriodSeconds: smallInt,
              nodeSelector: labels,
            },
            { requiredKeys: ['containers'] },
          ),
        }),
        strategy: fc.oneof(
          fc.constant({ type: 'Recreate' }),
          fc.record({
            type: fc.constant('RollingUpdate'),
            rollingUpdate: fc.record({
              maxSurge: fc.oneof(smallInt, fc.constantFrom('25%', '100%', '0%')),
              maxUnavailable: fc.oneof(smallInt, fc.constantFrom('25%', '50%')),
            }),
          }),
        ),
        minReadySeconds: smallInt,
        progressDeadlineSeconds: smallInt,
        revisionHistoryLimit: smallInt,
        paused: fc.boolean(),
      },
      { requiredKeys: ['template'] },
    ),
  },
  { requiredKeys: ['spec'] },
);
const serviceArb = fc.record(
  {
    metadata: fc.record({ labels }, { requiredKeys: [] }),
    spec: fc.record(
      {
        selector: labels,
        ports: fc.array(
          fc.record(
            {
              name: fc.stringMatching(/^[a-z]([-a-z0-9]{0,8}[a-z0-9])?$/),
              port: fc.integer({ min: 1, max: 65535 }),
              targetPort: fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.stringMatching(/^[a-z]{1,10}$/)),
            },
            { requiredKeys: ['port'] },
          ),
          { minLength: 1, maxLength: 3 },
        ),
        hosts: fc.array(fc.stringMatching(/^(\*\.)?([a-z0-9]{1,10}\.){1,3}[a-z]{2,5}$/), { maxLength: 2 }),
      },
      { requiredKeys: ['selector', 'ports'] },
    ),
  },
  { requiredKeys: ['spec'] },
);
const secretArb = fc.record(
  {
    metadata: fc.record({ labels }, { requiredKeys: [] }),
    type: fc.constantFrom('opaque', 'registry'),
    data: fc.dictionary(fc.stringMatching(/^[-._a-zA-Z0-9]{1,20}$/), text, { maxKeys: 4 }),
  },
  { requiredKeys: [] },
);
const registerArb = (joinToken: string) =>
  fc.record(
    {
      joinToken: fc.constant(joinToken),
      name: dns,
      labels,
      capacity: fc.record({
        cpu: fc.oneof(fc.double({ min: 0.001, max: 4096, noNaN: true }), fc.constantFrom(1, 4096)),
        memoryBytes: fc.integer({ min: 1, max: 2 ** 53 - 1 }),
      }),
      address: text,
      agentVersion: text,
    },
    { requiredKeys: ['joinToken', 'name', 'capacity', 'address'] },
  );
const statusArb = (replicaIds: string[]) =>
  fc.record(
    {
      replicas: fc.array(
        fc.record(
          {
            id: fc.oneof(fc.constantFrom(...replicaIds), text),
            phase: fc.constantFrom('Pulling', 'Starting', 'Running', 'Terminating', 'Succeeded', 'Failed'),
            ready: fc.boolean(),
            message: text,
            containers: fc.array(
              fc.record(
                {
                  name: fc.oneof(dns, text),
                  containerId: text,
                  state: fc.constantFrom('waiting', 'running', 'terminated'),
                  reason: text,
                  exitCode: fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
                  restartCount: fc.oneof(
                    fc.integer({ min: 0, max: 5 }),
                    fc.constantFrom(2 ** 31, 2 ** 53 - 1),
                  ),
                  hostPorts: fc.array(
                    fc.record({
                      containerPort: fc.integer({ min: 1, max: 65535 }),
                      hostPort: fc.integer({ min: 1, max: 65535 }),
                    }),
                    { maxLength: 2 },
                  ),
                },
                { requiredKeys: ['name', 'state', 'restartCount'] },
              ),
              { maxLength: 2 },
            ),
          },
          { requiredKeys: ['id', 'phase', 'ready'] },
        ),
        { maxLength: 3 },
      ),
      capacity: fc.record({ cpu: fc.double({ min: 0, max: 4096, noNaN: true }), memoryBytes: fc.nat() }),
      agentVersion: text,
    },
    { requiredKeys: ['replicas'] },
  );

// --- mutation: one hostile change somewhere in a valid-shaped body ---------------------------
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
function paths(value: Json, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [at];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...paths(v, [...at, i]));
  } else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]));
  return out;
}
const MARK = '"__hostile__"';
const KEY_MARK = '"__key__":"__hostile__"';
function mutate(value: Json, pick: (n: number) => number): string {
  const all = paths(value);
  const target = all[pick(all.length)]!;
  const kind = pick(3);
  const raw = HOSTILE_RAW[pick(HOSTILE_RAW.length)]!;
  if (target.length === 0) return kind === 0 ? raw : `[${JSON.stringify(value)}]`;
  const copy = structuredClone(value) as Json;
  const parent = target.slice(0, -1).reduce<any>((o, k) => o[k], copy);
  const last = target.at(-1)!;
  const node = parent[last];
  if (kind === 1 && node && typeof node === 'object' && !Array.isArray(node)) {
    // An added key; the text is spliced so that "__proto__" arrives as an own property.
    node.__key__ = '__hostile__';
    const key = HOSTILE_KEYS[pick(HOSTILE_KEYS.length)]!;
    return JSON.stringify(copy).replace(KEY_MARK, `${JSON.stringify(key)}:${raw}`);
  }
  if (kind === 2) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
    return JSON.stringify(copy);
  }
  parent[last] = '__hostile__';
  return JSON.stringify(copy).replace(MARK, raw);
}

/** The server decodes bodies as UTF-8 does, dropping a leading byte order mark. */
const decoded = (text: string) => text.replace(/^\ufeff/, '');

function classify(schema: z.ZodType, text: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoded(text));
  } catch {
    return true;
  }
  return !schema.safeParse(parsed).success;
}

function generate<T extends Json>(
  arb: fc.Arbitrary<T>,
  count: number,
  seed: number,
): { body: string; valid: T }[] {
  const rand = fc.sample(fc.tuple(arb, fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), fc.boolean()), {
    numRuns: count,
    seed,
  });
  return rand.map(([valid, picks, mutateIt]) => {
    let i = 0;
    const pick = (n: number) => picks[i++ % picks.length]! % n;
    return { valid, body: mutateIt ? mutate(valid, pick) : JSON.stringify(valid) };
  });
}

// --- malformed documents ---------------------------------------------------------------------
const BILLION_LAUGHS = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
].join('\n');
const MALFORMED_JSON = [
  '',
  ' ',
  '{',
  '{"a":}',
  '{"a":1,}',
  "{'a':1}",
  '{"a":1}{"b":2}',
  '// comment\n{}',
  'NaN',
  '{"a":NaN}',
  '{"a":Infinity}',
  '\ufeff{}',
  '{"a":"\\x41"}',
  '{"a":"\\u12"}',
  '"unterminated',
  '[1,2',
  `${'['.repeat(DEEP)}`,
  `${'['.repeat(DEEP)}${']'.repeat(DEEP - 1)}`,
  '{"a":1e309}',
  '{"a":01}',
  'null',
  '[]',
  '123',
  '"a string"',
  'true',
  `${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}`,
  `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`,
];
const MALFORMED_YAML = [
  BILLION_LAUGHS,
  'a: &x 1\nb: *x\nc: *y',
  'a: !!js/function "function(){return 1}"',
  'a: !!python/object/apply:os.system ["id"]',
  'a: !custom {x: 1}',
  'a: !!binary aGVsbG8=',
  'x: &a\n  b: 1\n<<: *a',
  'apiVersion: apps/v1\napiVersion: apps/v1',
  'key: [unclosed',
  'a:\n\t- tab',
  '- - - -',
  '%YAML 1.1\n---\na: yes',
  '--- !!set\n? a\n? b',
  `${'- '.repeat(1)}${'['.repeat(DEEP)}${']'.repeat(DEEP)}`,
  `${Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i)}a${i}:`).join('\n')} 1`,
  'a: 1e309\nb: -.inf\nc: .nan',
  'apiVersion: berth.dev/v1\nkind: Deployment\nmetadata: {name: "\\0"}\nspec: {}',
  '---\n'.repeat(500),
  'a: "\\ud800"',
  '\u0000',
  'apiVersion: berth.dev/v1\nkind: Deployment\nmetadata:\n  name: "ÑAME"\nspec:\n  template: {spec: {containers: [{name: web, image: x}]}}',
];
const BAD_SEGMENTS = [
  '..%2F..%2Fetc',
  '%2e%2e',
  '..',
  '%00',
  'a%00b',
  '%',
  '%zz',
  '%E0%A4%A',
  '%C0%AF',
  'x'.repeat(10_000),
  'UPPER',
  '名前',
  '%F0%9F%9A%80',
  'a b',
  'a;b',
  '-leading',
  'trailing-',
  'a.b',
  '*',
  "'",
  '%27%20or%201%3D1',
];

describe('hostile input (fuzz) on PGlite', () => {
  let t: TestPlane;
  let nodeToken = '';
  let joinToken = '';
  const replicaIds: string[] = [];
  const results = { requests: 0, rejected: 0, accepted: 0, byStatus: new Map<number, number>() };
  const fiveHundreds: string[] = [];
  const badProblems: string[] = [];

  const errors: unknown[] = [];
  const warnings: string[] = [];
  beforeAll(async () => {
    t = await startTestPlane('pglite');
    // Failures in the background (a reconcile of an accepted write) land in the log, not in a response.
    const log = {
      debug() {},
      info() {},
      warn: (m: string, f?: Record<string, unknown>) => warnings.push(`${m} ${JSON.stringify(f)}`),
      error: (_m: string, f?: Record<string, unknown>) => errors.push(f),
      debugEnabled: false,
    };
    t.plane.deps.log = log;
    // Enough uses for every generated registration to get past the token to what it checks next.
    joinToken = (await t.call('POST', '/v1/join-tokens', { maxUses: 1000 })).body.token;
    const reg = await t.call(
      'POST',
      '/v1/agent/register',
      { joinToken, name: 'fz-node', capacity: { cpu: 64, memoryBytes: 2 ** 40 }, address: '127.0.0.1' },
      null,
    );
    nodeToken = reg.body.nodeToken;
    expect(
      (await t.call('PUT', '/v1/namespaces/default/deployments/fz-base', deploymentBody({ replicas: 2 })))
        .status,
    ).toBe(201);
    await settle();
    const list = (await t.call('GET', '/v1/namespaces/default/replicas?deployment=fz-base')).body.items;
    replicaIds.push(...list.map((r: { id: string }) => r.id));
    expect(list.every((r: { node: string }) => r.node === 'fz-node')).toBe(true);
    expect(
      (
        await t.call('PUT', '/v1/namespaces/default/services/fz-svc', {
          spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
        })
      ).status,
    ).toBe(201);
    expect(
      (await t.call('PUT', '/v1/namespaces/default/secrets/fz-secret', { data: { k: 'v' } })).status,
    ).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Wait for the reconciles accepted writes kicked off. */
  async function settle(): Promise<void> {
    await t.plane.reconciler.reconcileSoon();
    await t.plane.reconciler.reconcileSoon();
  }

  /**
   * A hash of every table (nodes without last_heartbeat: every agent call is a heartbeat, by
   * contract), in one statement: the test takes several hundred of these.
   */
  let dumpQuery: string | undefined;
  async function dump(): Promise<Record<string, string>> {
    if (!dumpQuery) {
      const tables = rowsOf<{ table_name: string }>(
        await t.plane.handle.db.execute(
          "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1" as never,
        ),
      );
      dumpQuery = tables
        .map(
          ({ table_name }) =>
            `select '${table_name}' as t, count(*) as n, md5(coalesce(string_agg((to_jsonb(x) - 'last_heartbeat')::text, '|' order by (to_jsonb(x) - 'last_heartbeat')::text), '')) as h from "${table_name}" x`,
        )
        .join(' union all ');
    }
    const rows = rowsOf<{ t: string; h: string; n: number }>(
      await t.plane.handle.db.execute(dumpQuery as never),
    );
    return Object.fromEntries(rows.map((row) => [row.t, `${row.n}:${row.h}`]));
  }

  async function send(c: Case): Promise<{ status: number; text: string; type: string }> {
    const res = await t.plane.app.request(c.path, {
      method: c.method,
      headers: c.headers ?? {},
      ...(c.body !== undefined ? { body: c.body as BodyInit } : {}),
    });
    const text = c.method === 'HEAD' ? '' : await res.text();
    results.requests++;
    results.byStatus.set(res.status, (results.byStatus.get(res.status) ?? 0) + 1);
    if (res.status >= 400) results.rejected++;
    else results.accepted++;
    const type = res.headers.get('content-type') ?? '';
    const label = `${c.what}: ${c.method} ${c.path.slice(0, 120)} ${typeof c.body === 'string' ? c.body.slice(0, 300) : ''}`;
    if (res.status >= 500) fiveHundreds.push(`${res.status} ${label} -> ${text.slice(0, 300)}`);
    if (res.status >= 400 && c.method !== 'HEAD') {
      let problem: { code?: string; status?: number; detail?: string; requestId?: string } = {};
      try {
        problem = JSON.parse(text);
      } catch {
        // checked below
      }
      if (
        !type.startsWith('application/problem+json') ||
        CODES[problem.code ?? ''] !== res.status ||
        problem.status !== res.status ||
        !problem.requestId ||
        // Internals never leak: no stack frames, no SQL.
        /\bat (file:|\/)|node_modules|Failed query|insert into |delete from |\bfrom "|update "/i.test(text)
      )
        badProblems.push(`${res.status} ${type} ${label} -> ${text.slice(0, 300)}`);
    }
    return { status: res.status, text, type };
  }

  const admin = (type = 'application/json') => ({
    authorization: `Bearer ${ADMIN_TOKEN}`,
    'content-type': type,
  });
  const node = () => ({ authorization: `Bearer ${nodeToken}`, 'content-type': 'application/json' });

  /** Bodies generated per schema: each goes to every route that takes that schema. */
  function bodyCases(): Case[] {
    const cases: Case[] = [];
    const add = (
      what: string,
      schema: z.ZodType,
      items: { body: string }[],
      target: (i: number) => Omit<Case, 'what' | 'body' | 'mustReject'>,
    ) => {
      items.forEach(({ body }, i) => {
        cases.push({ what, ...target(i), body, mustReject: classify(schema, body) });
      });
    };
    add('deployment', DeploymentInput, generate(deploymentArb as fc.Arbitrary<Json>, 500, SEED), (i) => ({
      method: 'PUT',
      path: `/v1/namespaces/${i % 2 ? 'default' : 'fz-ns'}/deployments/fz-d${i % 40}`,
      headers: admin(),
    }));
    add('service', ServiceInput, generate(serviceArb as fc.Arbitrary<Json>, 300, SEED + 1), (i) => ({
      method: 'PUT',
      path: `/v1/namespaces/default/services/fz-s${i % 30}`,
      headers: admin(),
    }));
    add('secret', SecretInput, generate(secretArb as fc.Arbitrary<Json>, 300, SEED + 2), (i) => ({
      method: 'PUT',
      path: `/v1/namespaces/default/secrets/fz-x${i % 30}`,
      headers: admin(),
    }));
    add(
      'register',
      RegisterRequest,
      generate(registerArb(joinToken) as fc.Arbitrary<Json>, 300, SEED + 3),
      () => ({
        method: 'POST',
        path: '/v1/agent/register',
        headers: { 'content-type': 'application/json' },
      }),
    );
    add('status', StatusReport, generate(statusArb(replicaIds) as fc.Arbitrary<Json>, 400, SEED + 4), () => ({
      method: 'POST',
      path: '/v1/agent/status',
      headers: node(),
    }));
    // The same deployment bodies as manifests, JSON and YAML-flavoured (JSON is YAML).
    generate(deploymentArb as fc.Arbitrary<Json>, 200, SEED + 5).forEach(({ body }, i) => {
      const doc = body.startsWith('{') ? `{"metadata":{"name":"fz-a${i % 20}"},${body.slice(1)}` : body;
      let mustReject = true;
      try {
        const parsed = JSON.parse(doc);
        mustReject = !(parsed && typeof parsed === 'object' && DeploymentInput.safeParse(parsed).success);
      } catch {
        // malformed: rejected
      }
      cases.push({
        what: 'apply',
        method: 'POST',
        path: '/v1/apply',
        headers: admin(i % 2 ? 'application/json' : 'application/yaml'),
        body: doc,
        // A manifest names its kind: without it even a valid deployment body is rejected.
        mustReject: mustReject || !doc.includes('"kind":"Deployment"'),
      });
    });
    return cases;
  }

  function corpusCases(): Case[] {
    const cases: Case[] = [];
    type Check = z.ZodType | 'patch' | 'apply';
    const bodyRoutes: [string, string, Record<string, string>, Check, string[]][] = [
      [
        'PUT',
        '/v1/namespaces/default/deployments/fz-base',
        admin(),
        DeploymentInput,
        ['spec', 'metadata', 'status'],
      ],
      ['PUT', '/v1/namespaces/default/deployments/fz-base/scale', admin(), ScaleBody, ['replicas']],
      [
        'PATCH',
        '/v1/namespaces/default/deployments/fz-base',
        admin('application/merge-patch+json'),
        'patch',
        ['spec', 'metadata'],
      ],
      ['POST', '/v1/namespaces/default/deployments/fz-base/rollback', admin(), RollbackBody, ['toRevision']],
      ['PUT', '/v1/namespaces/default/services/fz-svc', admin(), ServiceInput, ['spec', 'metadata']],
      ['PUT', '/v1/namespaces/default/secrets/fz-secret', admin(), SecretInput, ['data', 'type', 'metadata']],
      ['POST', '/v1/tokens', admin(), TokenCreate, ['name', 'role', 'namespaces', 'expiresInSeconds']],
      ['POST', '/v1/join-tokens', admin(), JoinTokenCreate, ['ttlSeconds', 'maxUses']],
      [
        'POST',
        '/v1/agent/register',
        { 'content-type': 'application/json' },
        RegisterRequest,
        ['joinToken', 'name', 'capacity', 'address'],
      ],
      ['POST', '/v1/agent/status', node(), StatusReport, ['replicas', 'capacity', 'allocatable']],
      ['POST', '/v1/agent/logs', node(), LogAnswer, ['id', 'lines', 'error']],
      ['POST', '/v1/apply', admin(), 'apply', ['kind', 'apiVersion', 'spec']],
    ];
    const invalid = (check: Check, body: string, optional: boolean): boolean => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(decoded(body));
      } catch {
        return true;
      }
      // An optional body (join token, rollback) may be null: the defaults apply.
      if (optional && parsed === null) parsed = {};
      if (check === 'patch') return !parsed || typeof parsed !== 'object' || Array.isArray(parsed);
      // A manifest without a known kind is never applied.
      if (check === 'apply') return !/"kind":"(Deployment|Service|Secret)"/.test(body);
      return !check.safeParse(parsed).success;
    };
    for (const [method, path, headers, check, fields] of bodyRoutes) {
      const optional = path.endsWith('/join-tokens') || path.endsWith('/rollback');
      for (const body of MALFORMED_JSON)
        cases.push({
          what: 'malformed JSON',
          method,
          path,
          headers,
          body,
          mustReject: invalid(check, body, optional),
        });
      // Hostile values as the whole body, and in each field the route takes.
      for (const raw of HOSTILE_RAW) {
        cases.push({
          what: 'hostile body',
          method,
          path,
          headers,
          body: raw,
          mustReject: invalid(check, raw, optional),
        });
        for (const field of fields) {
          const body = `{"${field}":${raw}}`;
          cases.push({
            what: `hostile ${field}`,
            method,
            path,
            headers,
            body,
            mustReject: invalid(check, body, optional),
          });
        }
      }
      // Declared lengths that lie, and bodies past 1 MiB.
      cases.push({
        what: 'too large',
        method,
        path,
        headers,
        body: `{"a":"${'x'.repeat(1024 * 1024 + 10)}"}`,
        mustReject: true,
      });
      cases.push({
        what: 'invalid UTF-8',
        method,
        path,
        headers,
        body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
        mustReject: true,
      });
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json-patch+json',
        '',
        ';;;',
      ]) {
        cases.push({
          what: `content-type ${JSON.stringify(type)}`,
          method,
          path,
          headers: { ...headers, 'content-type': type },
          body: '{"replicas":1}',
          mustReject: true,
        });
      }
    }
    for (const yaml of MALFORMED_YAML) {
      cases.push({
        what: 'malformed YAML',
        method: 'POST',
        path: '/v1/apply',
        headers: admin('application/yaml'),
        body: yaml,
        mustReject: true,
      });
    }
    // Path parameters: traversal, NUL, bad percent-encoding, over-long and unicode names.
    const base = [
      'GET /v1/namespaces/{}/deployments',
      'GET /v1/namespaces/default/deployments/{}',
      'DELETE /v1/namespaces/default/deployments/{}',
      'PUT /v1/namespaces/default/deployments/{}',
      'PUT /v1/namespaces/{}/deployments/web',
      'GET /v1/namespaces/default/deployments/{}/revisions',
      'POST /v1/namespaces/default/deployments/{}/pause',
      'GET /v1/namespaces/default/replicas/{}/logs',
      'GET /v1/namespaces/{}/events',
      'GET /v1/namespaces/default/services/{}/endpoints',
      'DELETE /v1/namespaces/default/secrets/{}',
      'GET /v1/nodes/{}',
      'POST /v1/nodes/{}/drain',
      'DELETE /v1/nodes/{}',
      'DELETE /v1/tokens/{}',
      'DELETE /v1/join-tokens/{}',
    ];
    for (const template of base) {
      const [method, path] = template.split(' ') as [string, string];
      for (const seg of BAD_SEGMENTS) {
        cases.push({
          what: 'path parameter',
          method,
          path: path.replace('{}', seg),
          headers: admin(),
          ...(method === 'PUT' ? { body: JSON.stringify(deploymentBody()) } : {}),
          // ".." is resolved by URL parsing before any router sees it: another route answers.
          mustReject: seg !== '..' && seg !== '%2e%2e',
        });
      }
    }
    // Query strings.
    for (const q of [
      'labelSelector=%00',
      'labelSelector=a%20in%20(',
      `labelSelector=${'a,'.repeat(5000)}`,
      'labelSelector=!!!',
      'tail=1e309',
      'tail=-1',
      'tail=abc',
      'tail=99999999999',
      'object=deployment/..%2F',
      'object=%00',
      'limit=1e309',
      'limit=-0',
      'deployment=%00',
    ]) {
      for (const path of [
        '/v1/namespaces/default/deployments',
        '/v1/namespaces/default/events',
        '/v1/namespaces/default/replicas/x/logs',
        '/v1/events',
      ]) {
        cases.push({
          what: 'query',
          method: 'GET',
          path: `${path}?${q}`,
          headers: admin(),
          mustReject: false,
        });
      }
    }
    for (const q of ['wait=1e309', 'wait=-5', 'wait=abc', 'wait=%00', 'wait=99999999']) {
      cases.push({
        what: 'query',
        method: 'GET',
        path: `/v1/agent/assignments?${q}`,
        headers: { ...node(), 'if-none-match': '"nope"' },
        mustReject: false,
      });
    }
    // Odd headers.
    const authForms = [
      'Bearer',
      'Bearer ',
      `Bearer ${'x'.repeat(10_000)}`,
      'Basic YWRtaW46YWRtaW4=',
      `bearer ${ADMIN_TOKEN} extra`,
      `Bearer\t${ADMIN_TOKEN}x`,
      'Bearer berth_n_',
      'Bearer berth_u_\u00ff',
      'Token x',
    ];
    for (const authorization of authForms) {
      cases.push({
        what: 'authorization',
        method: 'GET',
        path: '/v1/tokens',
        headers: { authorization },
        mustReject: true,
      });
      cases.push({
        what: 'authorization',
        method: 'DELETE',
        path: '/v1/namespaces/default/deployments/fz-base',
        headers: { authorization },
        mustReject: true,
      });
    }
    for (const host of [
      '',
      '[::1]',
      'x'.repeat(5000),
      'evil.example.com:99999',
      '..',
      'fz.example.com\t',
      'a..b',
    ]) {
      cases.push({
        what: 'host header',
        method: 'GET',
        path: '/v1/namespaces/default/deployments',
        headers: { ...admin(), host },
        mustReject: false,
      });
    }
    // Header values are bytes: UTF-8 arrives as Latin-1 text.
    for (const id of [
      'x'.repeat(5000),
      Buffer.from('名前').toString('latin1'),
      '\u00ff\u00fe',
      '"><script>',
    ]) {
      cases.push({
        what: 'x-request-id',
        method: 'GET',
        path: '/v1/nope',
        headers: { ...admin(), 'x-request-id': id },
        mustReject: true,
      });
    }
    cases.push({
      what: 'content-length lies',
      method: 'PUT',
      path: '/v1/namespaces/default/deployments/fz-base/scale',
      headers: { ...admin(), 'content-length': '99999999' },
      body: '{"replicas":1}',
      mustReject: true,
    });
    return cases;
  }

  /** Every documented path with every method it does not have. */
  async function methodCases(): Promise<Case[]> {
    const doc = (await t.call('GET', '/openapi.json', undefined, null)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const cases: Case[] = [];
    for (const [template, ops] of Object.entries(doc.paths)) {
      const path = template.replace(/\{(\w+)\}/g, (_, p: string) =>
        p === 'ns' ? 'default' : p === 'id' ? 'x' : 'fz-base',
      );
      for (const method of ['GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND']) {
        if (method.toLowerCase() in ops) continue;
        cases.push({
          what: 'wrong method',
          method,
          path,
          headers: admin(),
          body: method === 'GET' ? undefined : '{}',
          mustReject: true,
        } as Case);
      }
    }
    return cases;
  }

  it('never answers 5xx, always a problem+json, and rejected requests change nothing', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();

    const all = [...bodyCases(), ...corpusCases(), ...(await methodCases())];
    const mustReject = all.filter((c) => c.mustReject);
    const mayAccept = all.filter((c) => !c.mustReject);

    // Everything known to be invalid, in one run between two hashes of the database.
    await settle();
    const before = await dump();
    const accepted: string[] = [];
    for (const c of mustReject) {
      const res = await send(c);
      if (res.status < 400)
        accepted.push(
          `${res.status} ${c.what}: ${c.method} ${c.path.slice(0, 100)} ${String(c.body ?? '').slice(0, 200)}`,
        );
    }
    await settle();
    const after = await dump();

    // Valid-shaped requests may be accepted; those rejected must change nothing either.
    // The state after a rejected request is the one before the next: it is dumped once.
    const changedByRejected: string[] = [];
    let last: string | undefined;
    for (const c of mayAccept) {
      if (last === undefined) {
        await settle();
        last = JSON.stringify(await dump());
      }
      const res = await send(c);
      if (res.status >= 400) {
        await settle();
        const now = JSON.stringify(await dump());
        if (now !== last)
          changedByRejected.push(
            `${res.status} ${c.what}: ${c.method} ${c.path} ${String(c.body ?? '').slice(0, 200)}`,
          );
        last = now;
      } else last = undefined;
    }
    await settle();
    gc();
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    const polluted = ({} as Record<string, unknown>).polluted;

    console.log(
      `fuzz seed ${SEED}: ${results.requests} requests in ${Date.now() - started} ms ` +
        `(${mustReject.length} known invalid, ${mayAccept.length} valid-shaped), ${results.accepted} accepted, ` +
        `${results.rejected} rejected; statuses ${JSON.stringify(Object.fromEntries([...results.byStatus].sort()))}; ` +
        `${fiveHundreds.length} 5xx; heap growth ${heapGrowthMb.toFixed(1)} MB`,
    );
    expect(fiveHundreds.slice(0, 10)).toEqual([]);
    expect(errors.slice(0, 3)).toEqual([]);
    expect(badProblems.slice(0, 10)).toEqual([]);
    expect(accepted.slice(0, 10)).toEqual([]);
    expect(after).toEqual(before);
    expect(changedByRejected.slice(0, 10)).toEqual([]);
    expect(polluted).toBeUndefined();
    // Accepted writes were reconciled without failing in the background.
    expect(warnings.filter((w) => /reconcile|failed/i.test(w)).slice(0, 5)).toEqual([]);
    expect(results.requests).toBeGreaterThan(2000);
    expect(heapGrowthMb).toBeLessThan(64);
    // A fixed number of requests (over 2,000), each compared with the database before and after:
    // about 30 s on a quiet 2-core machine, several times that beside the other test files.
  }, 480_000);
});
