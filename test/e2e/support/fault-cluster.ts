import type Docker from 'dockerode';
import pg from 'pg';
import { freshPostgres } from '../../support/databases.ts';
import { dropDatabase, type ServerProcess, startServerProcess, viaPort } from '../../support/processes.ts';
import { startTcpProxy } from '../../support/tcp-proxy.ts';
import { docker, HTTPD_1 } from './agent-harness.ts';

/**
 * What the fault tests share: a control-plane process on its own Postgres database (optionally
 * behind a cuttable TCP proxy), direct SQL beside it, and the checks they all make.
 */
export interface FaultCluster {
  server: ServerProcess;
  /** Present when started with `proxyDatabase`: cut it and the control plane loses Postgres. */
  dbProxy?: Awaited<ReturnType<typeof startTcpProxy>>;
  databaseUrl: string;
  sql<T = Record<string, any>>(text: string, params?: unknown[]): Promise<T[]>;
  joinToken(maxUses?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startFaultCluster(
  o: { proxyDatabase?: boolean; env?: Record<string, string> } = {},
): Promise<FaultCluster> {
  const database = await freshPostgres();
  const dbProxy = o.proxyDatabase
    ? await startTcpProxy(Number(new URL(database.url).port || 5432), new URL(database.url).hostname)
    : undefined;
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  pool.on('error', () => {});
  let server: ServerProcess;
  try {
    server = await startServerProcess({
      databaseUrl: dbProxy ? viaPort(database.url, dbProxy.port) : database.url,
      env: { BERTH_RECONCILE_INTERVAL_MS: '500', ...o.env },
    });
  } catch (e) {
    await pool.end();
    await dbProxy?.close();
    await dropDatabase(database.drop);
    throw e;
  }
  return {
    server,
    ...(dbProxy ? { dbProxy } : {}),
    databaseUrl: database.url,
    sql: async (text, params) => (await pool.query(text, params as unknown[])).rows,
    async joinToken(maxUses) {
      const res = await server.call('POST', '/v1/join-tokens', maxUses ? { maxUses } : {});
      if (res.status !== 201) throw new Error(`join token: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token as string;
    },
    async close() {
      await server.close();
      await pool.end().catch(() => {});
      await dbProxy?.close();
      await dropDatabase(database.drop);
    },
  };
}

/** A deployment of the busybox test image with a readiness probe, as a user would write it. */
export function httpdDeployment(
  replicas: number,
  o: {
    image?: string;
    maxSurge?: number | string;
    maxUnavailable?: number | string;
    nodeSelector?: object;
  } = {},
) {
  return {
    apiVersion: 'berth.dev/v1',
    kind: 'Deployment',
    spec: {
      replicas,
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: o.maxSurge ?? 1, maxUnavailable: o.maxUnavailable ?? 0 },
      },
      template: {
        metadata: { labels: { app: 'fault' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: o.image ?? HTTPD_1,
              ports: [{ name: 'http', containerPort: 8080 }],
              resources: { limits: { memory: '32Mi' } },
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
            },
          ],
          terminationGracePeriodSeconds: 2,
          drainDelaySeconds: 0,
          ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
        },
      },
    },
  };
}

export interface ReplicaView {
  id: string;
  node: string | null;
  phase: string;
  ready: boolean;
  desired: string;
  revision: number;
  hostPorts: { containerPort: number; hostPort: number }[];
  containers: { containerId?: string }[];
}

export async function replicasOf(
  server: ServerProcess,
  name: string,
  ns = 'default',
): Promise<ReplicaView[]> {
  const res = await server.call('GET', `/v1/namespaces/${ns}/replicas?deployment=${name}`);
  if (res.status !== 200) throw new Error(`replicas: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.items;
}

/** The deployment has rolled out completely: `replicas` ready, all of the current revision. */
export async function isComplete(server: ServerProcess, name: string, replicas: number, ns = 'default') {
  const res = await server.call('GET', `/v1/namespaces/${ns}/deployments/${name}`);
  if (res.status !== 200) return false;
  const s = res.body.status;
  const progressing = s.conditions.find((c: { type: string }) => c.type === 'Progressing');
  return (
    s.observedGeneration === res.body.metadata.generation &&
    s.replicas === replicas &&
    s.updatedReplicas === replicas &&
    s.readyReplicas === replicas &&
    progressing?.reason === 'NewRevisionAvailable'
  );
}

/** id → how it was started, for every container of a node: an unchanged map means untouched containers. */
export async function containerSnapshot(node: string, engine: Docker = docker): Promise<Map<string, string>> {
  const list = await engine.listContainers({ all: true, filters: { label: [`berth.dev/node=${node}`] } });
  const out = new Map<string, string>();
  for (const c of list) {
    const info = await engine.getContainer(c.Id).inspect();
    out.set(
      c.Id,
      `${info.Config.Labels['berth.dev/replica']} running=${info.State.Running} started=${info.State.StartedAt} restarts=${info.RestartCount}`,
    );
  }
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Nodes, replicas and recent events, straight from the database: what a failed wait shows. */
export async function describeState(c: Pick<FaultCluster, 'sql'>): Promise<string> {
  const nodes = await c.sql(
    `select name, status, last_heartbeat, status_changed_at, unschedulable from nodes order by name`,
  );
  const replicas = await c.sql(
    `select r.id, r.deployment_name, r.revision, n.name as node, r.desired, r.phase, r.ready, r.message
     from replicas r left join nodes n on n.id = r.node_id order by r.deployment_name, r.id`,
  );
  const events = await c.sql(
    `select created_at, object_kind, object_name, reason, message from events order by id desc limit 25`,
  );
  const line = (r: Record<string, unknown>) =>
    Object.values(r)
      .map((v) => (v instanceof Date ? v.toISOString().slice(11, 23) : String(v)))
      .join(' ');
  return [
    `nodes:\n${nodes.map(line).join('\n')}`,
    `replicas:\n${replicas.map(line).join('\n')}`,
    `events (newest first):\n${events.map(line).join('\n')}`,
  ].join('\n');
}

/**
 * Every heartbeat the database records for each node, sampled every `everyMs` until stopped:
 * what a fault test measures before it picks node timeouts, so that a healthy agent on this
 * machine, as busy as it is right now, never misses them.
 */
export function watchHeartbeats(c: Pick<FaultCluster, 'sql'>, everyMs = 100) {
  const seen = new Map<string, number[]>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const rows = await c
        .sql<{ name: string; hb: Date }>(`select name, last_heartbeat as hb from nodes`)
        .catch(() => []);
      for (const { name, hb } of rows) {
        const list = seen.get(name) ?? [];
        if (list.at(-1) !== hb.getTime()) list.push(hb.getTime());
        seen.set(name, list);
      }
      await sleep(everyMs);
    }
  })();
  return {
    /** The heartbeat times of each node, oldest first. */
    async stop(): Promise<Map<string, number[]>> {
      stopped = true;
      await loop;
      return seen;
    },
  };
}

/** The longest time between two heartbeats of any node recorded at or after `from` (ms). */
export function longestGap(beats: Map<string, number[]>, from = 0): number {
  let longest = 0;
  for (const list of beats.values()) {
    const recent = list.filter((t, i) => t >= from || list[i + 1]! >= from);
    for (let i = 1; i < recent.length; i++) longest = Math.max(longest, recent[i]! - recent[i - 1]!);
  }
  return longest;
}
