import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../db/database.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import { MIGRATIONS_FOLDER, openDatabase } from '../../db/node-database.ts';
import { edgeSettings } from '../../workers/runtime/edge-settings.ts';
import { createPlaneApp } from '../../workers/runtime/plane.ts';
import { freshPostgres } from '../support/databases.ts';
import { ADMIN_TOKEN, deploymentBody } from '../support/plane.ts';
import { dropDatabase } from '../support/processes.ts';

/**
 * Workers and Deno never migrate at start: the operator runs `npm run db:migrate`. Forgetting
 * it (or deploying a release before migrating for it) must say so, in /readyz and in every
 * answer that meets the missing schema, instead of a 500 "internal error" per request. The app
 * here is the edge app (the Deno entry's, over node-postgres), as those runtimes build it.
 */
const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as {
  entries: { tag: string }[];
};
const SHIPPED = journal.entries.length;

interface EdgeOnDb {
  app: ReturnType<typeof createPlaneApp>['app'];
  handle: DatabaseHandle;
  url: string;
  close(): Promise<void>;
}

const opened: EdgeOnDb[] = [];
afterAll(async () => {
  for (const o of opened) await o.close();
});

async function edgeOn(prepare: (url: string) => Promise<void>): Promise<EdgeOnDb> {
  const database = await freshPostgres();
  await prepare(database.url);
  const handle = await openDatabase({ url: database.url, dataDir: '.' });
  const settings = await edgeSettings(
    { DATABASE_URL: database.url, BERTH_ADMIN_TOKEN: ADMIN_TOKEN, BERTH_LOG_LEVEL: 'silent' },
    'deno',
  );
  const { app } = createPlaneApp({ runtime: 'deno', config: settings.config, handle });
  const o: EdgeOnDb = {
    app,
    handle,
    url: database.url,
    async close() {
      await handle.close();
      await dropDatabase(database.drop);
    },
  };
  opened.push(o);
  return o;
}

/** The committed migrations but the last `behind`, applied as `npm run db:migrate` would. */
async function migrateAllBut(url: string, behind: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-migrations-'));
  try {
    cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
    const cut = { ...journal, entries: journal.entries.slice(0, SHIPPED - behind) };
    writeFileSync(join(dir, 'meta/_journal.json'), JSON.stringify(cut));
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await migrate(drizzle(pool), {
        migrationsFolder: dir,
        migrationsSchema: 'berth_migrations',
        migrationsTable: 'applied',
      });
    } finally {
      await pool.end();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
async function call(
  o: EdgeOnDb,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = ADMIN_TOKEN,
) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await o.app.request(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
}

/** Every API read of the OpenAPI document, plus writes and the agent's calls. */
function requests(paths: string[]): [string, string, unknown?, (string | null)?][] {
  const out: [string, string, unknown?, (string | null)?][] = [];
  // Agent routes are called below with the credential they take (an admin's is refused first).
  for (const p of paths.filter((p) => !p.startsWith('/v1/agent/'))) {
    out.push(['GET', p.replace('{ns}', 'default').replace('{name}', 'web').replace('{id}', 'x')]);
  }
  out.push(
    ['PUT', '/v1/namespaces/default/deployments/web', deploymentBody({ replicas: 1 })],
    ['POST', '/v1/tokens', { name: 'ci', role: 'deployer', namespaces: ['default'] }],
    ['POST', '/v1/join-tokens', {}],
    [
      'POST',
      '/v1/agent/register',
      {
        joinToken: 'berth_j_unknown-000000000000',
        name: 'n1',
        capacity: { cpu: 1, memoryBytes: 2 ** 30 },
        address: '10.0.0.1',
      },
      null,
    ],
    ['GET', '/v1/whoami', undefined, 'berth_u_some-user-token-000000000000'],
    ['GET', '/v1/agent/assignments', undefined, 'berth_n_some-node-token-000000000000'],
  );
  return out;
}

function expectMigrateAdvice(res: { status: number; headers: Headers; body: any }, what: string) {
  expect(res.status, what).toBe(503);
  expect(res.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
  expect(res.body.code, what).toBe('UNAVAILABLE');
  expect(res.body.detail, what).toContain('npm run db:migrate');
  expect(res.body.detail, what).toContain('DATABASE_URL');
  expect(Number(res.headers.get('retry-after')), what).toBeGreaterThan(0);
}

describe('a database that was never migrated, or not for this release', () => {
  it('answers /readyz and every API request 503 with the command that applies the schema (fresh database)', async () => {
    const o = await edgeOn(async () => {});
    expect((await call(o, 'GET', '/healthz', undefined, null)).status).toBe(200);
    const ready = await call(o, 'GET', '/readyz', undefined, null);
    expectMigrateAdvice(ready, '/readyz');
    expect(ready.body.detail).toContain('no migration applied');
    // The document itself needs no database.
    const doc = await call(o, 'GET', '/openapi.json', undefined, null);
    const reads = Object.entries(doc.body.paths as Record<string, object>)
      .filter(([, ops]) => 'get' in ops)
      .map(([p]) => p);
    const list = requests(reads);
    const answers: string[] = [];
    for (const [method, path, body, token] of list) {
      const res = await call(o, method, path, body, token === undefined ? ADMIN_TOKEN : token);
      answers.push(`${res.status} ${method} ${path}`);
      // The bootstrap admin asking who it is needs no database at all.
      if (path === '/v1/whoami' && token === undefined) expect(res.status).toBe(200);
      else expectMigrateAdvice(res, `${method} ${path}`);
    }
    console.log(
      `fresh database: /readyz 503 "${ready.body.detail}"; ${answers.length} API requests: ` +
        `${answers.filter((a) => a.startsWith('503')).length} answered 503 UNAVAILABLE, the others ${answers.filter((a) => !a.startsWith('503')).join(', ')}`,
    );
  });

  it('reports a database one migration behind in /readyz, and answers 500 to nothing', async () => {
    const o = await edgeOn((url) => migrateAllBut(url, 1));
    const ready = await call(o, 'GET', '/readyz', undefined, null);
    expectMigrateAdvice(ready, '/readyz');
    expect(ready.body.detail).toContain(`${SHIPPED - 1} of ${SHIPPED} migrations applied`);
    const doc = await call(o, 'GET', '/openapi.json', undefined, null);
    const reads = Object.keys(doc.body.paths).filter((p) => 'get' in doc.body.paths[p]);
    const served: string[] = [];
    for (const [method, path, body, token] of requests(reads)) {
      const res = await call(o, method, path, body, token === undefined ? ADMIN_TOKEN : token);
      served.push(`${res.status}`);
      // What the missing migration is not needed for works; what needs it says what to do.
      if (res.status >= 500) expectMigrateAdvice(res, `${method} ${path}`);
    }
    console.log(
      `one migration behind (${journal.entries.at(-1)!.tag} missing): /readyz "${ready.body.detail}"; ` +
        `API answers ${served.join(',')}`,
    );

    // Migrated: ready, and the API answers.
    await migrateDatabase(o.handle);
    expect((await call(o, 'GET', '/readyz', undefined, null)).status).toBe(200);
    expect((await call(o, 'GET', '/v1/namespaces/default/deployments')).status).toBe(200);
  });

  it('names the fix when a column the code reads is missing (42703), not a 500', async () => {
    const o = await edgeOn(async (url) => {
      const handle = await openDatabase({ url, dataDir: '.' });
      try {
        await migrateDatabase(handle);
      } finally {
        await handle.close();
      }
      // What a release whose code expects a newer column meets on the old schema.
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query('alter table deployments rename column generation to generation_old');
      await client.end();
    });
    const res = await call(o, 'GET', '/v1/namespaces/default/deployments');
    expectMigrateAdvice(res, 'GET deployments');
    expect(res.text).not.toContain('generation');
  });
});
