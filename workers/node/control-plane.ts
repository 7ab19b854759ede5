import { resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import type { DatabaseHandle } from '../../db/database.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import { openDatabase } from '../../db/node-database.ts';
import { createApp } from '../app.ts';
import type { AppDeps } from '../app-context.ts';
import { type ControlPlaneConfig, parseConfig } from '../config.ts';
import { createReconciler } from '../controller/reconciler.ts';
import { startReconcileLoop } from '../edge/reconcile-loop.ts';
import { createLogger, type Logger } from '../logger.ts';
import { Metrics } from '../metrics.ts';
import { NodeSignals } from '../signals.ts';
import { ensureLocalSecret, makeAdminToken, makeSecretKey } from './local-secrets.ts';

export const ASSIGNMENTS_CHANNEL = 'berth_assignments';
export const VERSION = '0.1.0';

export interface NodeControlPlaneOptions {
  env: Record<string, string | undefined>;
  /** Pre-opened database (tests); otherwise DATABASE_URL or PGlite in BERTH_DATA_DIR. */
  database?: DatabaseHandle;
  log?: Logger;
  configOverrides?: Partial<ControlPlaneConfig>;
  /** Start the periodic safety-net reconcile (off in tests that drive ticks themselves). */
  backgroundLoops?: boolean;
}

/**
 * Everything the Node runtime adds around the app: local secrets, the database (migrated),
 * LISTEN/NOTIFY bridging of agent wake-ups. Used by the `npm start` entry and by tests.
 */
export async function createNodeControlPlane(options: NodeControlPlaneOptions) {
  const env = options.env;
  const log = options.log ?? createLogger((env.BERTH_LOG_LEVEL as 'info') ?? 'info');
  const dataDir = resolve(env.BERTH_DATA_DIR || './.berth');

  const adminToken = env.BERTH_ADMIN_TOKEN
    ? { value: env.BERTH_ADMIN_TOKEN, created: false, path: undefined }
    : ensureLocalSecret(dataDir, 'admin-token', makeAdminToken);
  const secretKey = env.BERTH_SECRET_KEY ?? ensureLocalSecret(dataDir, 'secret-key', makeSecretKey).value;
  const config = await parseConfig(
    { ...env, BERTH_ADMIN_TOKEN: adminToken.value, BERTH_SECRET_KEY: secretKey },
    options.configOverrides,
  );

  const handle = options.database ?? (await openDatabase({ url: env.DATABASE_URL, dataDir }));
  await migrateDatabase(handle);

  const signals = new NodeSignals();
  const unlisten = handle.listen
    ? await handle.listen(ASSIGNMENTS_CHANNEL, (payload) => signals.notify(payload.split(',')))
    : undefined;

  const deps: AppDeps = {
    db: handle.db,
    config,
    runtime: 'node',
    log,
    now: () => new Date(),
    signals,
    publishAssignments: async (nodeIds) => {
      if (nodeIds.length === 0) return;
      signals.notify(nodeIds);
      if (handle.kind !== 'pglite') {
        await handle.db.execute(sql`select pg_notify(${ASSIGNMENTS_CHANNEL}, ${nodeIds.join(',')})`);
      }
    },
    ping: async () => {
      await handle.db.execute(sql`select 1`);
    },
    version: VERSION,
  };
  deps.metrics = new Metrics();
  deps.metrics.gauge(
    'berth_process_resident_memory_bytes',
    'Resident memory of this process',
    () => process.memoryUsage().rss,
  );
  deps.metrics.gauge('berth_agent_long_polls_waiting', 'Agent long-polls held open', () => signals.waiting);
  const reconciler = createReconciler(deps);
  deps.reconciler = reconciler;
  const app = createApp(deps);
  const loop = options.backgroundLoops
    ? startReconcileLoop(reconciler, config.reconcileIntervalMs, log)
    : undefined;

  return {
    app,
    deps,
    handle,
    adminToken,
    dataDir,
    reconciler,
    async close() {
      await loop?.stop();
      await unlisten?.();
      if (!options.database) await handle.close();
    },
  };
}
export type NodeControlPlane = Awaited<ReturnType<typeof createNodeControlPlane>>;
