import { ConfigError, type ControlPlaneConfig, parseConfig } from '../config.ts';

/**
 * What the edge entries (Workers, Deno) need from their environment: the shared control-plane
 * configuration plus the database and cron settings only they have. Workers hand the values
 * in as bindings and secrets on every call; Deno reads Deno.env once. Neither has a data dir,
 * so the admin token and the database must be given.
 */
export interface EdgeSettings {
  config: ControlPlaneConfig;
  databaseUrl: string;
  /** BERTH_NEON_WS_PROXY: a ws(s):// proxy in front of a plain Postgres (development, tests). */
  webSocketProxy: string | undefined;
  /** Batches (of BERTH_RECONCILE_BATCH deployments) one cron invocation reconciles at most. */
  cronMaxBatches: number;
}

export type Runtime = 'workers' | 'deno';

/** Bindings are parsed and validated once per isolate: the runtime passes the same env object each time. */
const cache = new WeakMap<object, Promise<EdgeSettings>>();

export function edgeSettings(env: object, runtime: Runtime): Promise<EdgeSettings> {
  let settings = cache.get(env);
  if (!settings) {
    settings = parseEdgeSettings(stringBindings(env), runtime);
    cache.set(env, settings);
  }
  return settings;
}

async function parseEdgeSettings(env: Record<string, string>, runtime: Runtime): Promise<EdgeSettings> {
  const problems: string[] = [];
  const databaseUrl = env.DATABASE_URL?.trim() ?? '';
  if (!databaseUrl) problems.push('  DATABASE_URL: required (a postgres:// URL; Neon in production)');
  else if (!/^postgres(ql)?:\/\//.test(databaseUrl))
    problems.push('  DATABASE_URL: must be a postgres:// URL');
  // No data dir to generate one into: without it nobody could create the first token.
  if (!env.BERTH_ADMIN_TOKEN)
    problems.push('  BERTH_ADMIN_TOKEN: required on this runtime (at least 16 characters)');
  const proxy = env.BERTH_NEON_WS_PROXY?.trim() || undefined;
  if (proxy && !/^wss?:\/\/\S+$/i.test(proxy))
    problems.push('  BERTH_NEON_WS_PROXY: must be a ws:// or wss:// URL');
  const cronMaxBatches = Number(env.BERTH_CRON_MAX_BATCHES ?? 10);
  if (!Number.isInteger(cronMaxBatches) || cronMaxBatches < 1 || cronMaxBatches > 1000) {
    problems.push('  BERTH_CRON_MAX_BATCHES: an integer from 1 to 1000');
  }

  let config: ControlPlaneConfig | undefined;
  try {
    // Workers cannot hold a request open for a long-poll (and are billed for it): agents are
    // answered at once and told their poll interval instead.
    config = await parseConfig(
      env,
      runtime === 'workers' ? { longPollMaxSeconds: 0 } : {},
      // The platform's own names for the deployment reach the API whatever BERTH_PUBLIC_URL says.
      runtime === 'workers' ? ['*.workers.dev'] : ['*.deno.dev', '*.deno.net'],
    );
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.message.split('\n').slice(1));
  }
  if (problems.length || !config) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  return { config, databaseUrl, webSocketProxy: proxy, cronMaxBatches };
}

/** Workers bindings also hold non-string objects (KV, queues); configuration is only the strings. */
function stringBindings(env: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (typeof value === 'string') out[key] = value;
  return out;
}
