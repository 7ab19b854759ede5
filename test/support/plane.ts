import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../common/logger.ts';
import { createNodeControlPlane, type NodeControlPlane } from '../../workers/nodejs/control-plane.ts';
import { freshPostgres } from './databases.ts';
import { seedPglite } from './pglite-template.ts';
import type { FetchLike } from './sim-agents.ts';

export type DatabaseKind = 'pglite' | 'postgres';
export const DATABASE_KINDS: DatabaseKind[] = ['pglite', 'postgres'];

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestPlane {
  plane: NodeControlPlane;
  /** In-process fetch against the app, usable by SimAgent. */
  fetch: FetchLike;
  server: string;
  /** JSON request with the admin token (or `token`). */
  call: (
    method: string,
    path: string,
    body?: unknown,
    token?: string | null,
  ) => Promise<{ status: number; body: any; headers: Headers }>;
  databaseUrl?: string;
  close: () => Promise<void>;
}

/** The real Node control plane in-process, on embedded PGlite or a fresh real Postgres database. */
export async function startTestPlane(
  kind: DatabaseKind,
  env: Record<string, string> = {},
): Promise<TestPlane> {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-test-'));
  const pgdb = kind === 'postgres' ? await freshPostgres() : undefined;
  if (!pgdb && !env.DATABASE_URL) await seedPglite(dataDir);
  const plane = await createNodeControlPlane({
    env: {
      BERTH_DATA_DIR: dataDir,
      BERTH_ADMIN_TOKEN: ADMIN_TOKEN,
      ...(pgdb ? { DATABASE_URL: pgdb.url } : {}),
      ...env,
    },
    log: createLogger('silent'),
    backgroundLoops: env.BERTH_BACKGROUND === '1',
  });
  const server = 'http://berth.test';
  const fetchLike: FetchLike = async (url, init) => plane.app.request(url.replace(server, ''), init);
  const call: TestPlane['call'] = async (method, path, body, token = ADMIN_TOKEN) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await plane.app.request(path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    plane,
    fetch: fetchLike,
    server,
    call,
    ...(pgdb ? { databaseUrl: pgdb.url } : {}),
    async close() {
      await plane.close();
      await pgdb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function deploymentBody(
  overrides: {
    replicas?: number;
    image?: string;
    labels?: Record<string, string>;
    spec?: Record<string, unknown>;
  } = {},
) {
  return {
    apiVersion: 'berth.dev/v1',
    kind: 'Deployment',
    metadata: { labels: overrides.labels ?? { app: 'web' } },
    spec: {
      replicas: overrides.replicas ?? 3,
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: overrides.image ?? 'registry.example.com/web:1',
              ports: [{ containerPort: 8080 }],
            },
          ],
        },
      },
      ...overrides.spec,
    },
  };
}
