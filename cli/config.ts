import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Flags } from './args.ts';
import { CliError, EXIT, UsageError } from './exit-codes.ts';

/**
 * Where the server is and which token to send. Precedence: flags, then BERTH_SERVER/BERTH_TOKEN,
 * then the current context of the config file, then the local quick start (localhost:8080 with
 * the admin token the server wrote into its data directory).
 */

export const DEFAULT_SERVER = 'http://localhost:8080';

export interface ContextEntry {
  server: string;
  token?: string;
  namespace?: string;
}

export interface ConfigFile {
  current?: string;
  contexts: Record<string, ContextEntry>;
}

export interface Connection {
  server: string;
  token?: string;
  namespace: string;
  /** Where the token came from, for error hints ("--token", "BERTH_TOKEN", "context prod", ...). */
  tokenSource?: string;
}

type Env = Record<string, string | undefined>;

export function configPath(env: Env): string {
  if (env.BERTH_CONFIG) return env.BERTH_CONFIG;
  return join(env.HOME || homedir(), '.config', 'berth', 'config.json');
}

export async function readConfig(env: Env): Promise<ConfigFile> {
  const path = configPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: {} };
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`, EXIT.USAGE);
  }
  try {
    const parsed = JSON.parse(text) as Partial<ConfigFile>;
    return { current: parsed.current, contexts: parsed.contexts ?? {} };
  } catch {
    throw new CliError(`${path} is not valid JSON`, EXIT.USAGE);
  }
}

/** Written atomically and readable only by its owner: it holds tokens. */
export async function writeConfig(env: Env, config: ConfigFile): Promise<string> {
  const path = configPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  return path;
}

function sameServer(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function isLocal(server: string): boolean {
  try {
    return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(server).hostname);
  } catch {
    return false;
  }
}

export async function resolveConnection(flags: Flags, env: Env, cwd: string): Promise<Connection> {
  const config = await readConfig(env);
  const contextName = flags.context ?? env.BERTH_CONTEXT ?? config.current;
  const context = contextName ? config.contexts[contextName] : undefined;
  if (contextName && !context && (flags.context || env.BERTH_CONTEXT)) {
    throw new UsageError(`no context named "${contextName}" (see berth context list)`);
  }
  const server = flags.server ?? env.BERTH_SERVER ?? context?.server ?? DEFAULT_SERVER;
  try {
    const url = new URL(server);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw new UsageError(`the server must be an http(s) URL, got "${server}"`);
  }
  const namespace = flags.namespace ?? env.BERTH_NAMESPACE ?? context?.namespace ?? 'default';

  if (flags.token) return { server, namespace, token: flags.token, tokenSource: '--token' };
  if (env.BERTH_TOKEN) return { server, namespace, token: env.BERTH_TOKEN, tokenSource: 'BERTH_TOKEN' };
  // A context's token is only ever sent to that context's server.
  if (context?.token && sameServer(context.server, server)) {
    return { server, namespace, token: context.token, tokenSource: `context ${contextName}` };
  }
  if (isLocal(server)) {
    const file = resolve(cwd, env.BERTH_DATA_DIR || './.berth', 'admin-token');
    const token = await readFile(file, 'utf8').then(
      (t) => t.trim(),
      () => undefined,
    );
    if (token) return { server, namespace, token, tokenSource: file };
  }
  return { server, namespace };
}
