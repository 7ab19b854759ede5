import { readFile, stat } from 'node:fs/promises';
import { atomicWrite } from './state-store.ts';

const JOIN_TOKEN_LINE = /^\s*(export\s+)?BERTH_JOIN_TOKEN\s*=/;

/**
 * The text of an environment file without its BERTH_JOIN_TOKEN line (a comment takes its
 * place, so whoever reads the file later knows where it went); undefined when there is none.
 */
export function withoutJoinToken(text: string, now: Date): string | undefined {
  const lines = text.split('\n');
  if (!lines.some((l) => JOIN_TOKEN_LINE.test(l))) return undefined;
  return lines
    .map((l) =>
      JOIN_TOKEN_LINE.test(l)
        ? `# The join token was removed by berth-agent once the node held its credential (${now.toISOString()}).`
        : l,
    )
    .join('\n');
}

/**
 * Removes the join token from the file the agent's configuration came from (`--env-file`,
 * BERTH_ENV_FILE; install-agent.sh writes /etc/berth/agent.env). Once the node holds its
 * credential the token has no further use on this machine, and a copy left in /etc is a copy
 * someone else could spend. The file is rewritten atomically (temporary file, fsync, rename)
 * with the mode it had. Returns whether a token line was removed.
 */
export async function forgetJoinToken(path: string, now = new Date()): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  const next = withoutJoinToken(text, now);
  if (next === undefined) return false;
  const mode = (await stat(path)).mode & 0o777;
  await atomicWrite(path, next, mode);
  return true;
}
