import { EXEC_PROTOCOL } from '../../common/exec-stream.ts';
import type { AppDeps } from '../app-context.ts';
import { EXEC_PREFLIGHT_HEADER } from '../http/exec-preflight.ts';
import { hostOf } from '../ingress/hosts.ts';
import { ingressFor, pathOf } from '../ingress/ingress.ts';

/**
 * The exec streams' upgrades as standard Requests (Deno.serve, Workers' fetch): which requests
 * are one, and the preflight through the app that authorizes each, as Node's relay asks it
 * (http/exec-preflight.ts). The sockets then meet in runtime/exec-pairing.ts.
 */

const KUBE_EXEC = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/(?:exec|attach)$/;
const AGENT_EXEC = /^\/v1\/agent\/exec\/[^/]+$/;
/** kubectl offers v5 only; other Kubernetes clients speak v4 (the same without the close marker). */
const PROTOCOLS = [EXEC_PROTOCOL, 'v4.channel.k8s.io'];

/** kubectl's socket, or an agent's. */
export type ExecSide = 'kubectl' | 'agent';

/**
 * The side of an exec stream `request` opens, or undefined for anything else. A service's own
 * host keeps its paths, even one that looks like an exec: those requests go to the ingress.
 */
export async function execUpgradeSide(request: Request, deps: AppDeps): Promise<ExecSide | undefined> {
  if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return undefined;
  const path = pathOf(request.url);
  const side = KUBE_EXEC.test(path) ? 'kubectl' : AGENT_EXEC.test(path) ? 'agent' : undefined;
  if (!side || (await ingressFor(deps).route(hostOf(request), path))) return undefined;
  return side;
}

const KUBE_PORT_FORWARD = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/portforward$/;

/** Whether `request` is kubectl's port-forward WebSocket (not a service host's own path). */
export async function isPortForwardUpgrade(request: Request, deps: AppDeps): Promise<boolean> {
  if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return false;
  const path = pathOf(request.url);
  return KUBE_PORT_FORWARD.test(path) && !(await ingressFor(deps).route(hostOf(request), path));
}

/** The subprotocol to answer with, from the client's offer; undefined when it offers none of them. */
export function execProtocol(request: Request): string | undefined {
  const offered = (request.headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  return PROTOCOLS.find((p) => offered.includes(p));
}

export type ExecPreflight =
  | { refusal: Response }
  /** `relay`: the copy holding kubectl's socket, when an agent's reached another. */
  | { session: string; node?: string; relay?: string };

/**
 * The app's word on an upgrade: the same request (URL, headers) marked with the process's secret.
 * Anything but a 200 is the refusal to answer the client with, as it is (a Status for kubectl).
 */
export async function askExecPreflight(
  fetchApp: (request: Request) => Response | Promise<Response>,
  request: Request,
  secret: string,
): Promise<ExecPreflight> {
  const headers = new Headers(request.headers);
  headers.set(EXEC_PREFLIGHT_HEADER, secret);
  const answer = await fetchApp(new Request(request.url, { method: request.method, headers }));
  if (answer.status !== 200) return { refusal: answer };
  return (await answer.json()) as { session: string; node?: string; relay?: string };
}

/** A secret for one process or isolate: it never leaves it (hex, as the preflight check expects). */
export function newExecPreflightSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
