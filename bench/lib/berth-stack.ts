import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildAgent } from '../../agent/build.ts';
import { freshPostgres, TEST_DATABASE_URL } from '../../test/support/databases.ts';
import { BerthApi } from './berth-api.ts';
import { onCleanup } from './cleanup.ts';
import { removeContainersWithLabel, waitContainerCount } from './engine.ts';
import { type Child, type ControlPlaneProcess, startAgentProcess, startControlPlane } from './processes.ts';

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  onCleanup(`rm -r ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh database on the real PostgreSQL, dropped at cleanup. */
export async function benchDatabase(): Promise<string> {
  const db = await freshPostgres();
  const name = new URL(db.url).pathname.slice(1);
  onCleanup(`drop database ${name}`, () => dropDatabase(name));
  return db.url;
}

/**
 * `drop database ... with (force)`, retried: an autovacuum worker (another role) still busy with
 * the big tables makes the forced drop fail until it finishes.
 */
async function dropDatabase(name: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
    try {
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    } finally {
      await c.end().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

let bundle: Promise<string> | undefined;

/** The agent as installed machines run it: the single-file bundle, built once per run from this tree. */
export async function agentBundle(): Promise<string> {
  // Built into a temporary directory, which a cleanup may have removed since.
  if (bundle && !existsSync(await bundle)) bundle = undefined;
  bundle ??= (async () => {
    const file = join(tempDir('berth-bench-agent'), 'berth-agent.mjs');
    await buildAgent(file);
    return file;
  })();
  return bundle;
}

/**
 * Berth on this machine's Docker Engine: the Node control plane on a fresh real-Postgres
 * database, and one berth-agent process (node `bench-xxxxxx`), registered before any timing.
 */
export interface BerthStack {
  cp: ControlPlaneProcess;
  api: BerthApi;
  agent: Child;
  node: string;
  nodeLabel: string;
  /** Replaces the agent with a fresh process (a new node), e.g. to measure it from a clean start. */
  freshAgent(): Promise<void>;
  /** Deletes the deployment and removes its containers, then waits until its replicas are gone. */
  clear(deployment: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startBerthStack(o: { agentEnv?: Record<string, string> } = {}): Promise<BerthStack> {
  const databaseUrl = await benchDatabase();
  const cp = await startControlPlane({ databaseUrl, dataDir: tempDir('berth-bench-cp') });
  const api = new BerthApi(cp.url, cp.adminToken);
  const startAgent = async () => {
    const node = `bench-${randomBytes(3).toString('hex')}`;
    const nodeLabel = `berth.dev/node=${node}`;
    onCleanup(`remove containers of ${node}`, () => removeContainersWithLabel(nodeLabel).then(() => {}));
    const agent = startAgentProcess({
      entry: await agentBundle(),
      server: cp.url,
      joinToken: await api.joinToken(),
      name: node,
      dataDir: tempDir('berth-bench-agent-data'),
      ...(o.agentEnv ? { env: o.agentEnv } : {}),
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const n = await api.call('GET', `/v1/nodes/${node}`).catch(() => undefined);
      if (n?.status === 'Ready') break;
      if (Date.now() > deadline) throw new Error(`agent ${node} did not register:\n${agent.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { node, nodeLabel, agent };
  };
  let current = await startAgent();
  return {
    cp,
    api,
    get agent() {
      return current.agent;
    },
    get node() {
      return current.node;
    },
    get nodeLabel() {
      return current.nodeLabel;
    },
    async freshAgent() {
      const old = current;
      await old.agent.stop();
      await removeContainersWithLabel(old.nodeLabel);
      await api.call('DELETE', `/v1/nodes/${old.node}`).catch(() => {});
      current = await startAgent();
    },
    async clear(deployment) {
      const { nodeLabel } = current;
      await api.deleteDeployment(deployment).catch(() => {});
      // Removing them at once, as the issue asks, rather than waiting out each drain delay.
      await removeContainersWithLabel([nodeLabel, `berth.dev/deployment=default/${deployment}`]);
      await waitContainerCount(nodeLabel, 0, 30_000);
      const deadline = Date.now() + 30_000;
      while ((await api.replicas(deployment)).length > 0) {
        if (Date.now() > deadline) throw new Error(`replicas of ${deployment} not gone`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      await current.agent.stop();
      await removeContainersWithLabel(current.nodeLabel);
      await cp.stop();
    },
  };
}
