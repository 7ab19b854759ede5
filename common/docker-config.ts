import { decodeBase64Text } from './base64.ts';

/**
 * A `kubernetes.io/dockerconfigjson` secret's `.dockerconfigjson`: what `docker login` writes to
 * ~/.docker/config.json and `kubectl create secret docker-registry` prints. Its `auths` map each
 * registry to a username and password (or `auth`, base64 of "username:password"), which agents pass
 * to the Docker Engine for a pull, as Berth's own registry secrets do. Pure.
 */

export interface RegistryAuth {
  server: string;
  username: string;
  password: string;
}

type Parsed = { auths: RegistryAuth[] } | { error: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The credentials a `.dockerconfigjson` holds, or why it cannot be used (for a 422). */
export function parseDockerConfigJson(text: string): Parsed {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    return { error: 'must be JSON (a Docker config.json with "auths")' };
  }
  if (!isObject(config)) return { error: 'must be a JSON object with "auths"' };
  const auths = config.auths ?? {};
  if (!isObject(auths)) return { error: '"auths" must be an object of registry → credentials' };
  const out: RegistryAuth[] = [];
  for (const [server, entry] of Object.entries(auths)) {
    const where = `auths[${JSON.stringify(server)}]`;
    if (!isObject(entry)) return { error: `${where} must be an object` };
    if (entry.identitytoken !== undefined || entry.registrytoken !== undefined)
      return {
        error: `${where}: identity and registry tokens are not supported (use username and password)`,
      };
    let { username, password } = entry;
    if (username === undefined && password === undefined && typeof entry.auth === 'string') {
      const decoded = decodeBase64Text(entry.auth);
      const colon = decoded ? decoded.indexOf(':') : -1;
      if (!decoded || colon < 0) return { error: `${where}.auth must be base64 of "username:password"` };
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
    if (typeof username !== 'string' || typeof password !== 'string')
      return { error: `${where} needs a username and a password (or auth)` };
    out.push({ server, username, password });
  }
  return { auths: out };
}

/** The pull credentials of a stored secret of either registry type (none for other types). */
export function registryAuthsOf(secret: { type: string; data: Record<string, string> }): RegistryAuth[] {
  if (secret.type === 'registry')
    return [
      {
        server: secret.data.server ?? '',
        username: secret.data.username ?? '',
        password: secret.data.password ?? '',
      },
    ];
  if (secret.type === 'kubernetes.io/dockerconfigjson') {
    const parsed = parseDockerConfigJson(secret.data['.dockerconfigjson'] ?? '');
    return 'auths' in parsed ? parsed.auths : [];
  }
  return [];
}
