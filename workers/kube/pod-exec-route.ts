import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { can } from '../auth/authorize.ts';
import { DomainError } from '../errors.ts';
import { isExecPreflight, isWebSocketUpgrade } from '../http/exec-preflight.ts';
import { openExecSession } from '../verbs/exec-sessions.ts';
import { podLogContainer } from './pod-logs.ts';
import { KUBE_SOURCES } from './sources.ts';
import { KubeStatusError } from './status.ts';

/** The exec options of the query (Kubernetes' PodExecOptions): repeated `command`, booleans as text. */
export function parsePodExecQuery(url: URL) {
  const flag = (name: string) => /^(true|1)$/i.test(url.searchParams.get(name) ?? '');
  const command = url.searchParams.getAll('command');
  if (command.length === 0)
    throw new KubeStatusError('BAD_REQUEST', 'you must specify at least one command for the container');
  const container = url.searchParams.get('container') || undefined;
  return { command, container, stdin: flag('stdin'), tty: flag('tty') };
}

/**
 * `kubectl attach`'s options (PodAttachOptions). Berth's containers run without a stdin or a
 * terminal (`stdin: true` and `tty: true` are refused in manifests), so only their output can be
 * attached to: asking for more is a 400 naming why.
 */
export function parsePodAttachQuery(url: URL) {
  const flag = (name: string) => /^(true|1)$/i.test(url.searchParams.get(name) ?? '');
  const container = url.searchParams.get('container') || undefined;
  for (const wanted of ['stdin', 'tty'] as const)
    if (flag(wanted))
      throw new KubeStatusError(
        'BAD_REQUEST',
        `cannot attach with ${wanted}: Berth runs containers without ${wanted === 'stdin' ? 'a stdin' : 'a terminal'} (spec.containers[].${wanted} is false); attach to the output, or use exec`,
      );
  return { command: [] as string[], container, stdin: false, tty: false };
}

/**
 * `GET|POST /api/v1/namespaces/{ns}/pods/{name}/exec` (and `/attach`, `kubectl attach`: the same
 * stream, on the container's own output instead of a command's): everything decided about a
 * `kubectl exec` happens here, on every runtime: who may, which pod and container, which command. The
 * runtime's preflight (http/exec-preflight.ts: Node's relay, Deno's entry, the Worker before its
 * Durable Object) then gets the session it pairs kubectl's WebSocket with the agent's; everything
 * else is a Status kubectl prints: the same refusal on its WebSocket attempt and on its SPDY
 * fallback.
 */
export async function podExec(
  c: Context<AppEnv>,
  deps: AppDeps,
  verb: 'exec' | 'attach' = 'exec',
): Promise<Response> {
  const namespace = c.req.param('ns') ?? '';
  const name = c.req.param('name') ?? '';
  const principal = c.get('principal');
  // A shell in a container reaches everything the pod holds (its secrets, its network): admins,
  // and deployers whose token was made with `exec`, in their own namespaces. Viewers never.
  const allowed =
    principal.kind === 'user' &&
    (principal.role === 'admin' ||
      (principal.role === 'deployer' &&
        principal.exec === true &&
        can(principal, 'write', 'deployments', namespace)));
  if (!allowed) {
    const user = principal.kind === 'user' ? principal.name : `node:${principal.nodeName}`;
    throw new KubeStatusError(
      'FORBIDDEN',
      `pods "${name}" is forbidden: User "${user}" cannot create resource "pods/${verb}" in API group "" in the namespace "${namespace}"`,
      { name, group: '', kind: 'pods' },
    );
  }
  const q = verb === 'exec' ? parsePodExecQuery(new URL(c.req.url)) : parsePodAttachQuery(new URL(c.req.url));
  const pod = await KUBE_SOURCES.pods!.get(deps.db, namespace, name);
  if (!pod)
    throw new KubeStatusError('NOT_FOUND', `pods "${name}" not found`, { name, group: '', kind: 'pods' });
  const container = podLogContainer(pod, q.container);
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (phase === 'Succeeded' || phase === 'Failed')
    throw new KubeStatusError(
      'BAD_REQUEST',
      `cannot ${verb === 'exec' ? 'exec into' : 'attach to'} a container in a completed pod; current phase is ${phase}`,
    );

  if (!deps.execPreflight)
    throw new KubeStatusError(
      'BAD_REQUEST',
      `exec needs a meeting point for its streams, which this ${deps.runtime} control plane lacks (on Workers: the EXEC_MEETING Durable Object binding of wrangler.toml)`,
    );
  if (!isWebSocketUpgrade(c)) {
    if (c.req.header('upgrade'))
      throw new KubeStatusError(
        'BAD_REQUEST',
        'Berth serves exec over WebSocket only (v5.channel.k8s.io, kubectl 1.30 or later), not SPDY',
      );
    throw new KubeStatusError('BAD_REQUEST', 'Upgrade request required');
  }
  // A WebSocket the relay did not ask about would have been upgraded by it, not routed here.
  if (!isExecPreflight(c, deps)) throw new KubeStatusError('BAD_REQUEST', 'Upgrade request required');

  try {
    const session = await openExecSession(deps.db, {
      namespace,
      replicaId: name,
      container,
      command: q.command,
      tty: q.tty,
      stdin: q.stdin,
      who: principal.name,
      holderUrl: deps.config.peerUrl,
      now: deps.now(),
      wake: async (ids) => deps.publishAssignments?.(ids) ?? deps.signals.notify(ids),
    });
    return c.json({ session: session.id, node: session.node });
  } catch (e) {
    if (e instanceof DomainError && e.code === 'NOT_FOUND')
      throw new KubeStatusError('BAD_REQUEST', `pod ${name} does not have a host assigned`);
    throw e;
  }
}
