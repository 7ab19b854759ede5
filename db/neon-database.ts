import { Client, type NeonConfig, Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import type { Database, DatabaseHandle } from './database.ts';
import { pooledSession, releaseSafeTransactions } from './pooled-transactions.ts';
import * as schema from './schema/index.ts';

export interface NeonDatabaseOptions {
  /**
   * A WebSocket-to-TCP proxy in front of an ordinary Postgres (local development and tests):
   * `ws://127.0.0.1:8789/v2` or `wss://proxy.example.com/v2`. The driver appends
   * `?address=host:port` of the DATABASE_URL host. Unset: Neon's own endpoint (production).
   */
  webSocketProxy?: string | undefined;
  /** Only where no global WebSocket exists (Node 20): the `ws` package's constructor. */
  webSocketConstructor?: NeonConfig['webSocketConstructor'];
  /** Connections this handle opens at most (a Worker request needs few). */
  maxConnections?: number;
}

/**
 * Postgres over the Neon serverless driver (WebSocket Pool: transactions work). Used on
 * Workers and Deno; imports nothing from node:.
 *
 * On Workers a handle must live within one request or one scheduled invocation (its
 * WebSockets cannot cross requests): open it there and `close()` it through waitUntil.
 */
export function openNeonDatabase(url: string, options: NeonDatabaseOptions = {}): DatabaseHandle {
  const settings = clientSettings(options);
  const pool = new Pool({
    connectionString: url,
    // A connection is a WebSocket, the Postgres start-up and SCRAM in JavaScript, and on Neon
    // possibly a compute waking from zero: seconds on a busy machine. With 5 s, every attempt on a
    // starved host was cut off before it could finish, and none ever did; a down server still
    // fails at once (the WebSocket is refused).
    connectionTimeoutMillis: 15_000,
    max: options.maxConnections ?? 10,
  });
  if (settings) {
    // Per pool rather than the global neonConfig: other handles in the same isolate or process
    // (Neon itself, another proxy) keep their own settings.
    pool.Client = class extends Client {
      constructor(config: ConstructorParameters<typeof Client>[0]) {
        super(config);
        Object.assign(this.neonConfig, settings);
      }
    };
  }
  pool.on('error', () => {});
  const db = drizzle(pool, { schema }) as unknown as Database;
  releaseSafeTransactions(
    db,
    () => pool.connect(),
    (client) => drizzle(client, { schema }) as unknown as Database,
  );
  return {
    db,
    kind: 'neon',
    withSession: pooledSession(
      () => pool.connect(),
      (client) => drizzle(client, { schema }) as unknown as Database,
    ),
    close: () => pool.end(),
  };
}

function clientSettings(options: NeonDatabaseOptions): Partial<NeonConfig> | undefined {
  const settings: Partial<NeonConfig> = {};
  if (options.webSocketConstructor) settings.webSocketConstructor = options.webSocketConstructor;
  const proxy = options.webSocketProxy?.trim();
  if (proxy) {
    const match = /^(wss?):\/\/(.+)$/i.exec(proxy);
    if (!match) throw new Error(`BERTH_NEON_WS_PROXY must be a ws:// or wss:// URL (got "${proxy}")`);
    settings.useSecureWebSocket = match[1]!.toLowerCase() === 'wss';
    settings.wsProxy = match[2]!;
    // A plain Postgres behind the proxy authenticates with SCRAM, which cannot be pipelined
    // (pipelining assumes Neon's cleartext-password flow); TLS, if any, is the proxy's business.
    settings.pipelineConnect = false;
    settings.forceDisablePgSSL = true;
  }
  return Object.keys(settings).length ? settings : undefined;
}
