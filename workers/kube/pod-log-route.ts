import type { Context } from 'hono';
import { stream } from 'hono/streaming';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { can } from '../auth/authorize.ts';
import { DomainError } from '../errors.ts';
import { requestLogs } from '../verbs/replicas.ts';
import type { KubeObject } from './objects.ts';
import {
  LogCursor,
  logText,
  MAX_LOG_LINES,
  parsePodLogQuery,
  podLogContainer,
  splitStamp,
} from './pod-logs.ts';
import { KUBE_SOURCES } from './sources.ts';
import { KubeStatusError } from './status.ts';

/**
 * How often a follow asks the agent again. A log read travels with the node's assignments (the
 * agent's long poll is woken, it reads the engine and posts the lines back), so each round costs
 * a few writes and the agent's wake-up: a line reaches `kubectl logs -f` within about this plus
 * that round trip.
 */
export const FOLLOW_POLL_MS = 1000;
/**
 * A stream's lines must reach the client as they are written: a platform that compresses text on
 * its way out (Workers, `wrangler dev`) would hold them until its buffer fills. Marked as sent
 * unencoded and not to be transformed, no layer compresses it.
 */
export const STREAMED = {
  'cache-control': 'no-cache, no-transform',
  'content-encoding': 'identity',
} as const;

/** How often an idle follow checks that its pod still runs (it ends with it, as Kubernetes' does). */
const FOLLOW_CHECK_MS = 5000;

/**
 * `GET /api/v1/namespaces/{ns}/pods/{name}/log`: the replica's logs through the same verb as
 * `GET /v1/.../replicas/{id}/logs` (the same read right on replicas), one container at a time,
 * as text. `follow=true` streams: it asks the agent again every FOLLOW_POLL_MS from the stamp of
 * the last line it sent, until the client goes away or the pod ends.
 */
export async function podLog(c: Context<AppEnv>, deps: AppDeps): Promise<Response> {
  const namespace = c.req.param('ns') ?? '';
  const name = c.req.param('name') ?? '';
  const principal = c.get('principal');
  if (!can(principal, 'read', 'replicas', namespace)) {
    const user = principal.kind === 'user' ? principal.name : `node:${principal.nodeName}`;
    throw new KubeStatusError(
      'FORBIDDEN',
      `pods "${name}" is forbidden: User "${user}" cannot get resource "pods/log" in API group "" in the namespace "${namespace}"`,
      { name, group: '', kind: 'pods' },
    );
  }
  const q = parsePodLogQuery(c.req.query(), deps.now());
  const pod = await findPod(deps, namespace, name);
  if (!pod)
    throw new KubeStatusError('NOT_FOUND', `pods "${name}" not found`, { name, group: '', kind: 'pods' });
  const container = podLogContainer(pod, q.container);
  if (q.previous)
    throw new KubeStatusError(
      'BAD_REQUEST',
      `previous terminated container "${container}" in pod "${name}" not found: Berth keeps the logs of a pod's current containers only`,
    );

  const read = async (since: string | undefined, tail: number) => {
    try {
      return await requestLogs(deps.db, {
        namespace,
        replicaId: name,
        tail,
        // Always stamped: a follow goes on from its last line's stamp; stamps are cut off unless asked for.
        options: { container, since, timestamps: true },
        now: deps.now(),
        wake: async (ids) => deps.publishAssignments?.(ids) ?? deps.signals.notify(ids),
      });
    } catch (e) {
      // Not placed on a node yet: nothing has run, as Kubernetes says of a container not started.
      if (e instanceof DomainError && e.code === 'NOT_FOUND')
        throw new KubeStatusError(
          'BAD_REQUEST',
          `container "${container}" in pod "${name}" is waiting to start: ContainerCreating`,
        );
      throw e;
    }
  };

  const startedAt = deps.now().toISOString();
  const first = await read(q.since, Math.min(q.tailLines ?? MAX_LOG_LINES, MAX_LOG_LINES));
  const headers = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' };
  const limit = new ByteLimit(q.limitBytes);
  const lines = first.lines.map(splitStamp);
  // An agent that predates stamps sends none: its lines cannot be followed, so they are all it gets.
  const unstamped = lines.length > 0 && lines.every((l) => l.time === '');
  if (!q.follow || unstamped) return c.body(limit.take(logText(lines, q.timestamps)) ?? '', 200, headers);

  const cursor = new LogCursor();
  const firstLines = cursor.fresh(first.lines);
  // Nothing sent yet: go on from when the read began (the agent's clock is taken to agree).
  cursor.startAt(startedAt);
  for (const [k, v] of Object.entries({ ...headers, ...STREAMED })) c.header(k, v);
  const client = c.req.raw.signal;
  return stream(c, async (out) => {
    const gone = () => out.aborted || out.closed || client.aborted;
    const send = async (lines: { time: string; text: string }[]) => {
      const text = limit.take(logText(lines, q.timestamps));
      if (text) await out.write(text);
      return !limit.spent;
    };
    if (!(await send(firstLines))) return;
    let checkedAt = Date.now();
    while (!gone()) {
      await sleep(FOLLOW_POLL_MS, client);
      if (gone()) return;
      let lines: { time: string; text: string }[];
      try {
        lines = cursor.fresh((await read(cursor.since, MAX_LOG_LINES)).lines);
      } catch (e) {
        if (!(e instanceof DomainError && e.code === 'UNAVAILABLE')) return;
        // The agent did not answer this round (busy, reconnecting), or its containers are gone
        // (the pod stopped): a round without lines, so an ended pod still ends the follow.
        lines = [];
      }
      if (!(await send(lines))) return;
      if (lines.length === 0 && Date.now() - checkedAt >= FOLLOW_CHECK_MS) {
        checkedAt = Date.now();
        if (!running(await findPod(deps, namespace, name))) return;
      }
    }
  });
}

async function findPod(deps: AppDeps, namespace: string, name: string): Promise<KubeObject | undefined> {
  return KUBE_SOURCES.pods!.get(deps.db, namespace, name);
}

/** A pod whose containers may still write: present, not finished, not being stopped. */
function running(pod: KubeObject | undefined): boolean {
  if (!pod || pod.metadata.deletionTimestamp !== undefined) return false;
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/** `limitBytes`: the body stops after that many bytes (mid-line, as Kubernetes cuts it). */
class ByteLimit {
  private left: number;
  constructor(limit: number | undefined) {
    this.left = limit ?? Number.POSITIVE_INFINITY;
  }
  get spent(): boolean {
    return this.left <= 0;
  }
  take(text: string): string | undefined {
    if (this.left === Number.POSITIVE_INFINITY) return text;
    const bytes = new TextEncoder().encode(text);
    const kept = bytes.subarray(0, Math.max(0, Math.min(bytes.length, this.left)));
    this.left -= kept.length;
    return new TextDecoder().decode(kept);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
