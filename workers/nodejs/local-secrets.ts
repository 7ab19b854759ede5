import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomToken } from '../crypto.ts';

/**
 * On Node the data dir holds what a single-machine install would otherwise have to be told:
 * the bootstrap admin token and the key for secrets at rest. Both are created once (0600).
 */
export function ensureLocalSecret(
  dataDir: string,
  file: string,
  make: () => string,
): { value: string; created: boolean; path: string } {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, file);
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), created: false, path };
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { value, created: true, path };
}

export const makeAdminToken = () => `berth_admin_${randomToken(24)}`;
export const makeSecretKey = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
