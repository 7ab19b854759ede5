import { createLogger } from '../../common/logger.ts';
import { openNeonDatabase } from '../../db/neon-database.ts';
import type { AppDeps } from '../app-context.ts';
import { EXEC_TAKE_MS, endExecSession } from '../verbs/exec-sessions.ts';
import { edgeSettings } from './edge-settings.ts';
import { ExecPairing, type ExecSocket } from './exec-pairing.ts';
import { askExecPreflight, type ExecSide, execProtocol, execUpgradeSide } from './exec-upgrade.ts';

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
  const side = await execUpgradeSide(request, deps);
  if (!side || !deps.execPreflight) return undefined;
  const answer = await askExecPreflight(fetchApp, request, deps.execPreflight);
  if ('refusal' in answer) return answer.refusal;
  const headers = new Headers({ upgrade: 'websocket', [SIDE]: side, [SESSION]: answer.session });
  if (answer.node) headers.set(NODE, answer.node);
  const protocol = execProtocol(request);
  if (protocol) headers.set(PROTOCOL, protocol);
  const meeting = meetings.get(meetings.idFromName(answer.session));
  return meeting.fetch(new Request('https://exec-meeting/', { headers }));
}

/** The Durable Object: one per session, holding kubectl's socket and then the agent's. */
export class ExecMeeting {
  private pairing: ExecPairing | undefined;

  constructor(
    _state: unknown,
    private readonly env: object,
  ) {}

  async fetch(request: Request): Promise<Response> {
    const side = request.headers.get(SIDE) as ExecSide | null;
    const session = request.headers.get(SESSION);
    if (!side || !session) return new Response('not an exec stream', { status: 400 });
    const pairing = await this.pairingOnce();
    const Pair = (globalThis as unknown as { WebSocketPair: WebSocketPairConstructor }).WebSocketPair;
    const pair = new Pair();
    const server = pair[1] as WorkerSocket;
    server.accept();
    const ws: ExecSocket = server;
    if (side === 'agent') pairing.pair(session, ws);
    else pairing.wait(session, request.headers.get(NODE) ?? 'its node', ws);
    const protocol = request.headers.get(PROTOCOL);
    return new Response(null, {
      status: 101,
      webSocket: pair[0],
      headers: protocol ? { 'sec-websocket-protocol': protocol } : {},
    } as ResponseInit);
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
