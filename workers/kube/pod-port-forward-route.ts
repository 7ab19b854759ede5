import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { can } from '../auth/authorize.ts';
import { DomainError } from '../errors.ts';
import { isExecPreflight, isWebSocketUpgrade } from '../http/exec-preflight.ts';
import { openPortForwardSession } from '../verbs/exec-sessions.ts';
import { KUBE_SOURCES } from './sources.ts';
import { KubeStatusError } from './status.ts';

/**
 * Set by Node's relay, beside its preflight secret, when it asks for one forwarded connection
 * (kubectl names the port in the stream's headers, not in the URL).
 */
export const PORT_FORWARD_PORT_HEADER = 'x-berth-port-forward-port';

/** kubectl's two ways in: SPDY tunnelled in a WebSocket (1.31 and later), or SPDY itself. */
const isStreamUpgrade = (c: Context<AppEnv>) =>
  /^(websocket|spdy\/3\.1)$/i.test(c.req.header('upgrade') ?? '');

/**
 * `GET|POST /api/v1/namespaces/{ns}/pods/{name}/portforward`: who may forward to which pod, on
 * every runtime. Node's relay asks here twice over: once before it upgrades kubectl's connection
 * (the answer names the pod's node), and once for every connection kubectl forwards (the answer
 * is the session its agent's socket will meet). Everything else is a Status kubectl prints.
 */
export async function podPortForward(c: Context<AppEnv>, deps: AppDeps): Promise<Response> {
  const namespace = c.req.param('ns') ?? '';
  const name = c.req.param('name') ?? '';
  const principal = c.get('principal');
  // A port-forward reaches the pod's ports, which whoever may deploy there could expose anyway:
  // admins, and deployers in their namespaces. Viewers never.
  const allowed =
    principal.kind === 'user' &&
    (principal.role === 'admin' || can(principal, 'write', 'deployments', namespace));
  if (!allowed) {
    const user = principal.kind === 'user' ? principal.name : `node:${principal.nodeName}`;
    throw new KubeStatusError(
      'FORBIDDEN',
      `pods "${name}" is forbidden: User "${user}" cannot create resource "pods/portforward" in API group "" in the namespace "${namespace}"`,
      { name, group: '', kind: 'pods' },
    );
  }
  const pod = await KUBE_SOURCES.pods!.get(deps.db, namespace, name);
  if (!pod)
    throw new KubeStatusError('NOT_FOUND', `pods "${name}" not found`, { name, group: '', kind: 'pods' });
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (phase !== 'Running')
    throw new KubeStatusError(
      'BAD_REQUEST',
      `unable to forward port because pod is not running. Current status=${phase ?? 'Unknown'}`,
    );
  if (!deps.execPreflight)
    throw new KubeStatusError(
      'BAD_REQUEST',
      `port-forward needs a meeting point for its streams, which this ${deps.runtime} control plane lacks (on Workers: the EXEC_MEETING Durable Object binding of wrangler.toml)`,
    );
  if (!isStreamUpgrade(c)) throw new KubeStatusError('BAD_REQUEST', 'Upgrade request required');
  // Deno and Workers upgrade only WebSockets: kubectl's SPDY fallback is told which kubectl tunnels.
  if (deps.runtime !== 'node' && !isWebSocketUpgrade(c))
    throw new KubeStatusError(
      'BAD_REQUEST',
      `Berth on ${deps.runtime === 'deno' ? 'Deno' : 'Workers'} serves port-forward over WebSocket only (SPDY/3.1+portforward.k8s.io, kubectl 1.31 or later)`,
    );
  // An upgrade the relay did not ask about would have been upgraded by it, not routed here.
  if (!isExecPreflight(c, deps)) throw new KubeStatusError('BAD_REQUEST', 'Upgrade request required');

  const port = c.req.header(PORT_FORWARD_PORT_HEADER);
  try {
    if (port === undefined) {
      const node = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
      if (!node) throw new KubeStatusError('BAD_REQUEST', `pod ${name} does not have a host assigned`);
      return c.json({ pod: name, node });
    }
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
      throw new KubeStatusError('BAD_REQUEST', `invalid port ${JSON.stringify(port)}`);
    const session = await openPortForwardSession(deps.db, {
      namespace,
      replicaId: name,
      port: Number(port),
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
