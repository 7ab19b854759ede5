import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { createLogger, type Logger } from '../../common/logger.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import { openDatabase } from '../../db/node-database.ts';
import { createApp } from '../app.ts';
import { type ControlPlaneConfig, parseConfig } from '../config.ts';
import { buildPlane, listenForAssignments } from '../runtime/plane.ts';
import { startReconcileLoop } from '../runtime/reconcile-loop.ts';
import { NodeSignals } from '../signals.ts';
import { EXEC_TAKE_MS, endExecSession } from '../verbs/exec-sessions.ts';
import { ExecRelay, newPreflightSecret } from './exec-relay.ts';
import type { StreamUpgrades } from './ingress-server.ts';
import { ensureLocalSecret, makeAdminToken, makeSecretKey } from './local-secrets.ts';
import { PortForwardRelay } from './port-forward-relay.ts';

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
  const dataDir = resolve(env.BERTH_DATA_DIR || './.berth');

  const adminToken = env.BERTH_ADMIN_TOKEN
    ? { value: env.BERTH_ADMIN_TOKEN, created: false, path: undefined }
    : ensureLocalSecret(dataDir, 'admin-token', makeAdminToken);
  const secretKey = env.BERTH_SECRET_KEY ?? ensureLocalSecret(dataDir, 'secret-key', makeSecretKey).value;
  const config = await parseConfig(
    { ...env, BERTH_ADMIN_TOKEN: adminToken.value, BERTH_SECRET_KEY: secretKey },
    options.configOverrides,
    // The machine's own name reaches this server too.
    [hostname()],
  );
  // Node's HTTPS server (workers/nodejs/certificate-serving.ts) serves Ingresses' Secrets by SNI.
  if (config.tls || config.acme) config.hostCertificates = true;
  const log = options.log ?? createLogger(config.logLevel, undefined, { component: 'control-plane' });

  const handle = options.database ?? (await openDatabase({ url: env.DATABASE_URL, dataDir }));
  await migrateDatabase(handle);

  const signals = new NodeSignals();
  const unlisten = await listenForAssignments(handle, signals);
  const { deps, reconciler } = buildPlane({ runtime: 'node', config, handle, signals, log });
  deps.metrics!.gauge(
    'berth_process_resident_memory_bytes',
    'Resident memory of this process',
    () => process.memoryUsage().rss,
  );
  deps.execPreflight = newPreflightSecret();
  const app = createApp(deps);
  const execRelay = new ExecRelay({
    fetch: (request, env) => app.fetch(request, env),
    secret: deps.execPreflight,
    end: (id) => endExecSession(deps.db, id),
    log,
    takeMs: EXEC_TAKE_MS,
  });
  const portForwardRelay = new PortForwardRelay({
    fetch: (request, env) => app.fetch(request, env),
    secret: deps.execPreflight,
    agentSocket: (id, ms) => execRelay.agentSocket(id, ms),
    end: (id) => endExecSession(deps.db, id),
    log,
    takeMs: EXEC_TAKE_MS,
  });
  const streams: StreamUpgrades = {
    takes: (req) => portForwardRelay.takes(req) || execRelay.takes(req),
    upgrade: (req, socket, head) =>
      (portForwardRelay.takes(req) ? portForwardRelay : execRelay).upgrade(req, socket, head),
  };
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
    execRelay,
    streams,
    async close() {
      portForwardRelay.close();
      execRelay.close();
      await loop?.stop();
      await deps.kubeWatch?.close();
      await unlisten?.();
      if (!options.database) await handle.close();
    },
  };
}
export type NodeControlPlane = Awaited<ReturnType<typeof createNodeControlPlane>>;
