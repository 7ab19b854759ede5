import { createLogger } from '../../common/logger.ts';
import { PORT_FORWARD_TUNNEL, PortForwardServer } from '../../common/port-forward.ts';
import { SpdyProtocolError } from '../../common/spdy.ts';
import { openNeonDatabase } from '../../db/neon-database.ts';
import type { AppDeps } from '../app-context.ts';
import { randomToken } from '../crypto.ts';
import { DomainError } from '../errors.ts';
import { EXEC_TAKE_MS, endExecSession, openPortForwardSession } from '../verbs/exec-sessions.ts';
import { type EdgeSettings, edgeSettings } from './edge-settings.ts';
import { ExecPairing, type ExecSocket } from './exec-pairing.ts';
import {
  askExecPreflight,
  type ExecSide,
  execProtocol,
  execUpgradeSide,
  isPortForwardUpgrade,
} from './exec-upgrade.ts';
import { forwardConnection, standardAgentStream } from './port-forward-connection.ts';

/**
 * `kubectl exec` on Cloudflare Workers. A Worker's isolates share no memory and a request may
 * land on any of them, so kubectl's WebSocket and the agent's meet in a Durable Object named by
 * their session: every isolate, anywhere, reaches the same one. The Worker authorizes each upgrade
 * through the app exactly as Node's relay does (the preflight), then forwards it to the object,
 * which accepts it and pairs the two with the same core as Deno (runtime/exec-pairing.ts).
 *
 * The sockets are accepted plainly (`accept()`), not through the Hibernation API: pairing keeps
 * state a hibernating object would lose (kubectl's early input, the take timer, whether the
 * agent's Status went by), and an exec stream is short and busy, so the object would seldom sleep.
 * An idle terminal (`-it` left open) keeps the object in memory for as long as it stays open.
 */

/** The binding wrangler.toml declares; absent, exec answers that this Worker has no meeting point. */
export const EXEC_MEETING_BINDING = 'EXEC_MEETING';

/** The parts of Workers' Durable Object API used here (no dependency on their type package). */
interface DurableObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}
interface WebSocketPairConstructor {
  new (): { 0: WebSocket; 1: WebSocket };
}
type WorkerSocket = WebSocket & { accept(): void };

/** What the Worker tells the object, on a request only the Worker can send (no public route reaches it). */
const SIDE = 'x-berth-exec-side';
const SESSION = 'x-berth-exec-session';
const NODE = 'x-berth-exec-node';
const PROTOCOL = 'x-berth-exec-protocol';
/** A port-forward's pod (namespace/name): the object opens a session per connection for it. */
const POD = 'x-berth-port-forward-pod';
/** Port-forward meeting names: every connection's session id starts with its object's name. */
const PORT_FORWARD_MEETING = /^pfm_[A-Za-z0-9_-]+/;

/** The Durable Object namespace bound to this Worker, if any. */
export function execMeetings(env: object): DurableObjectNamespace | undefined {
  const binding = (env as Record<string, unknown>)[EXEC_MEETING_BINDING];
  return binding && typeof binding === 'object' && 'idFromName' in binding
    ? (binding as DurableObjectNamespace)
    : undefined;
}

/**
 * The Worker's side: an exec upgrade answered by the session's object, once the app said yes;
 * undefined for any other request (the app answers it).
 */
export async function meetExec(
  request: Request,
  deps: AppDeps,
  meetings: DurableObjectNamespace,
  fetchApp: (request: Request) => Response | Promise<Response>,
): Promise<Response | undefined> {
  if (!deps.execPreflight) return undefined;
  if (await isPortForwardUpgrade(request, deps))
    return meetPortForward(request, deps.execPreflight, meetings, fetchApp);
  const side = await execUpgradeSide(request, deps);
  if (!side) return undefined;
  const answer = await askExecPreflight(fetchApp, request, deps.execPreflight);
  if ('refusal' in answer) return answer.refusal;
  const headers = new Headers({ upgrade: 'websocket', [SIDE]: side, [SESSION]: answer.session });
  if (answer.node) headers.set(NODE, answer.node);
  const protocol = execProtocol(request);
  if (protocol) headers.set(PROTOCOL, protocol);
  // A port-forward connection's agent goes to the object holding kubectl's socket, named in its id.
  const name = PORT_FORWARD_MEETING.exec(answer.session)?.[0] ?? answer.session;
  const meeting = meetings.get(meetings.idFromName(name));
  return meeting.fetch(new Request('https://exec-meeting/', { headers }));
}

/** kubectl's port-forward WebSocket, once the app said yes: held by an object of its own. */
async function meetPortForward(
  request: Request,
  secret: string,
  meetings: DurableObjectNamespace,
  fetchApp: (request: Request) => Response | Promise<Response>,
): Promise<Response> {
  const answer = (await askExecPreflight(fetchApp, request, secret)) as
    | { refusal: Response }
    | { node?: string; pod?: string };
  if ('refusal' in answer) return answer.refusal;
  const offered = (request.headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  if (!offered.includes(PORT_FORWARD_TUNNEL))
    return new Response(`port-forward needs the ${PORT_FORWARD_TUNNEL} subprotocol (kubectl 1.31 or later)`, {
      status: 400,
    });
  const namespace = new URL(request.url).pathname.split('/')[4] ?? '';
  const name = `pfm_${randomToken(12)}`;
  const headers = new Headers({
    upgrade: 'websocket',
    [SIDE]: 'portforward',
    [SESSION]: name,
    [NODE]: answer.node ?? '',
    [POD]: `${namespace}/${answer.pod ?? ''}`,
  });
  return meetings.get(meetings.idFromName(name)).fetch(new Request('https://exec-meeting/', { headers }));
}

/** The Durable Object: one per session, holding kubectl's socket and then the agent's. */
export class ExecMeeting {
  private pairing: ExecPairing | undefined;
  private settings: EdgeSettings | undefined;

  constructor(
    _state: unknown,
    private readonly env: object,
  ) {}

  async fetch(request: Request): Promise<Response> {
    const side = request.headers.get(SIDE) as ExecSide | 'portforward' | null;
    const session = request.headers.get(SESSION);
    if (!side || !session) return new Response('not an exec stream', { status: 400 });
    const pairing = await this.pairingOnce();
    const Pair = (globalThis as unknown as { WebSocketPair: WebSocketPairConstructor }).WebSocketPair;
    const pair = new Pair();
    const server = pair[1] as WorkerSocket;
    server.accept();
    const ws: ExecSocket = server;
    if (side === 'portforward') {
      this.portForward(session, request.headers.get(NODE) ?? '', request.headers.get(POD) ?? '/', server);
      return new Response(null, {
        status: 101,
        webSocket: pair[0],
        headers: { 'sec-websocket-protocol': PORT_FORWARD_TUNNEL },
      } as ResponseInit);
    }
    if (side === 'agent') pairing.pair(session, ws);
    else pairing.wait(session, request.headers.get(NODE) ?? 'its node', ws);
    const protocol = request.headers.get(PROTOCOL);
    return new Response(null, {
      status: 101,
      webSocket: pair[0],
      headers: protocol ? { 'sec-websocket-protocol': protocol } : {},
    } as ResponseInit);
  }

  /**
   * kubectl's port-forward, held here: the protocol runs in this object (common/port-forward.ts),
   * each connection gets a session whose id starts with this object's name, so its agent's socket
   * is forwarded here too, and meets the connection through the same pairing as exec.
   */
  private portForward(name: string, node: string, pod: string, socket: WorkerSocket): void {
    const [namespace = '', replicaId = ''] = pod.split('/');
    socket.binaryType = 'arraybuffer';
    const server = new PortForwardServer(
      (bytes) => {
        if (socket.readyState === 1) socket.send(bytes);
      },
      (port, _id, kubectl) =>
        forwardConnection(port, kubectl, {
          where: `pod ${replicaId} on node ${node}`,
          open: async (p) => {
            try {
              const opened = await this.withDatabase((db) =>
                openPortForwardSession(db, {
                  namespace,
                  replicaId,
                  port: p,
                  who: 'kubectl',
                  holderUrl: undefined,
                  now: new Date(),
                  // Agents on Workers poll every few seconds: the bumped assignments reach them then.
                  wake: async () => {},
                  idPrefix: name,
                }),
              );
              return { session: opened.id };
            } catch (e) {
              if (e instanceof DomainError && e.code === 'NOT_FOUND')
                return { refusal: `pod ${replicaId} does not have a host assigned` };
              throw e;
            }
          },
          agentSocket: async (session) =>
            standardAgentStream(await (await this.pairingOnce()).agentSocket(session, EXEC_TAKE_MS)),
          end: (session) => this.withDatabase((db) => endExecSession(db, session)),
          warn: (message, e) => console.warn(message, String(e)),
        }),
    );
    socket.addEventListener('message', (event) => {
      try {
        server.receive(new Uint8Array(event.data as ArrayBuffer));
      } catch (e) {
        if (!(e instanceof SpdyProtocolError)) throw e;
        socket.close(1002);
      }
    });
    socket.addEventListener('close', () => server.close());
  }

  /** Its own small pool, opened for the statement: the object outlives the requests. */
  private async withDatabase<T>(
    work: (db: ReturnType<typeof openNeonDatabase>['db']) => Promise<T>,
  ): Promise<T> {
    this.settings ??= await edgeSettings(this.env, 'workers');
    const handle = openNeonDatabase(this.settings.databaseUrl, {
      webSocketProxy: this.settings.webSocketProxy,
      maxConnections: 1,
    });
    try {
      return await work(handle.db);
    } finally {
      await handle.close().catch(() => {});
    }
  }

  private async pairingOnce(): Promise<ExecPairing> {
    if (this.pairing) return this.pairing;
    const settings = await edgeSettings(this.env, 'workers');
    this.pairing ??= new ExecPairing({
      // Its own small pool, opened for the one statement: the object outlives the requests.
      end: async (id) => {
        const handle = openNeonDatabase(settings.databaseUrl, {
          webSocketProxy: settings.webSocketProxy,
          maxConnections: 1,
        });
        try {
          await endExecSession(handle.db, id);
        } finally {
          await handle.close().catch(() => {});
        }
      },
      log: createLogger(settings.config.logLevel, undefined, { component: 'exec-meeting' }),
      takeMs: EXEC_TAKE_MS,
    });
    return this.pairing;
  }
}
