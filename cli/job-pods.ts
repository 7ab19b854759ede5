import { ApiError, type BerthClient } from './client.ts';
import { logLines } from './log-lines.ts';
import type { Replica } from './resources.ts';

/**
 * A Job's pods as `logs job/NAME`, `describe job` and `wait` show them: by completion index (an
 * Indexed Job's), then by creation, so a retried index follows its earlier attempt.
 */

export function sortJobPods(pods: Replica[]): Replica[] {
  const index = (p: Replica) => p.completionIndex ?? Number.POSITIVE_INFINITY;
  const created = (p: Replica) => Date.parse(p.createdAt ?? '') || 0;
  return [...pods].sort((a, b) => index(a) - index(b) || created(a) - created(b));
}

/** A pod has logs once it was placed and its containers were created: a finished pod keeps them. */
export function hasLogs(pod: Replica): boolean {
  return Boolean(pod.id && pod.node && pod.phase !== 'Pending' && pod.phase !== 'Scheduled');
}

/** Each pod's last `tail` lines, prefixed `[pod/ID]` when there is more than one pod (or always). */
export async function jobPodLogLines(
  client: BerthClient,
  ns: string,
  pods: Replica[],
  tail: number,
  prefix: 'several' | 'always' = 'several',
): Promise<string[]> {
  const out: string[] = [];
  for (const pod of pods) {
    let lines: string[];
    try {
      lines = logLines(await client.replicaLogs(ns, pod.id!, tail));
    } catch (err) {
      // A pod removed since the list was read (its Job's TTL passed) has nothing more to say.
      if (err instanceof ApiError && err.status === 404) continue;
      throw err;
    }
    const prefixed = prefix === 'always' || pods.length > 1;
    for (const line of lines) out.push(prefixed ? `[pod/${pod.id}] ${line}` : line);
  }
  return out;
}
