import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Assignment,
  LogAnswer,
  type LogAnswer as LogAnswerT,
  type LogRequest,
  RegisterRequest,
  type ServiceMap,
  StatusReport,
  type StatusReport as StatusReportT,
} from '../../../common/agent-protocol.ts';

/**
 * A control plane reduced to API.md's agent protocol, for driving real agents in tests:
 * register, assignments (ETag, 304, long-poll `wait` or immediate answers), status and logs.
 * Every request body is checked against the shared (strict) schemas; a violation is kept in
 * `protocolErrors` so a test can assert there were none.
 */
export class FakeControlPlane {
  readonly joinToken = `join-${randomUUID()}`;
  /** Registrations with a join token. */
  readonly registrations: RegisterRequest[] = [];
  /** Registrations with a node's own credential (labels, address). */
  readonly renewals: RegisterRequest[] = [];
  readonly protocolErrors: string[] = [];
  /** When false, assignments answer at once (as on Workers), never waiting. */
  longPoll = true;
  pollIntervalSeconds = 1;
  /** 'down': every request answers 503 (the database is gone). */
  mode: 'up' | 'down' = 'up';
  statusCalls = 0;
  assignmentCalls = 0;

  private readonly tokens = new Map<string, string>(); // token → node
  private readonly joinTokens = new Set([this.joinToken]);
  private readonly nodes = new Map<string, NodeState>();
  private server: Server;
  private port = 0;

  private constructor() {
    this.server = this.makeServer();
  }

  static async start(): Promise<FakeControlPlane> {
    const cp = new FakeControlPlane();
    await cp.listen(0);
    return cp;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The service map every node gets with its assignments (absent: none sent). */
  private services: ServiceMap | undefined;

  /** Replaces the cluster's service map and wakes every node's long-poll. */
  setServices(map: ServiceMap): void {
    this.services = map;
    for (const n of this.nodes.values()) this.bump(n);
  }

  /** Replaces the node's desired set and wakes its long-poll. */
  setAssignments(node: string, replicas: Assignment[]): void {
    const n = this.node(node);
    n.replicas = replicas;
    n.assignedAt = performance.now();
    this.bump(n);
  }

  assignments(node: string): Assignment[] {
    return this.node(node).replicas;
  }

  /** Asks the node's agent for logs, as `GET .../replicas/{id}/logs` would. */
  requestLogs(node: string, replicaId: string, tail: number, timeoutMs = 10_000): Promise<LogAnswerT> {
    const n = this.node(node);
    const req: LogRequest = { id: randomUUID(), replicaId, tail };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no log answer for ${replicaId} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      n.logRequests.push({
        req,
        resolve: (a) => {
          clearTimeout(timer);
          resolve(a);
        },
      });
      this.bump(n);
    });
  }

  latest(node: string): StatusReportT | undefined {
    return this.node(node).reports.at(-1)?.report;
  }

  /**
   * Milliseconds since the last setAssignments at which a report first satisfied `pred`. The
   * default wait is a loaded machine's: with every test lane beside it, a first pull and start of
   * a fresh agent's pod was seen to take longer than 30 s on two cores.
   */
  async waitForReport(
    node: string,
    pred: (r: StatusReportT) => boolean,
    timeoutMs = 90_000,
  ): Promise<{ report: StatusReportT; sinceAssignedMs: number }> {
    const n = this.node(node);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = n.reports.find((r) => r.at >= n.assignedAt && pred(r.report));
      if (hit) return { report: hit.report, sinceAssignedMs: hit.at - n.assignedAt };
      if (Date.now() > deadline) {
        throw new Error(
          `no matching status report from ${node} within ${timeoutMs} ms; latest: ${JSON.stringify(n.reports.at(-1)?.report.replicas ?? null)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Every credential issued so far stops working (as after DELETE /v1/nodes/{name}). */
  revokeCredentials(): void {
    this.tokens.clear();
  }

  /** Another join token accepted from now on (as an admin creates one to re-join a node). */
  newJoinToken(): string {
    const token = `join-${randomUUID()}`;
    this.joinTokens.add(token);
    return token;
  }

  /** Unreachable: stop listening and cut open connections. */
  async stopListening(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Reachable again, on the same port. */
  async resumeListening(): Promise<void> {
    this.server = this.makeServer();
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    for (const n of this.nodes.values()) for (const w of n.waiters) w();
    if (this.server.listening) await this.stopListening();
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  private node(name: string): NodeState {
    let n = this.nodes.get(name);
    if (!n) {
      n = { version: 1, replicas: [], logRequests: [], reports: [], waiters: [], assignedAt: 0 };
      this.nodes.set(name, n);
    }
    return n;
  }

  private bump(n: NodeState): void {
    n.version++;
    const waiters = n.waiters.splice(0);
    for (const w of waiters) w();
  }

  private makeServer(): Server {
    return createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        this.protocolErrors.push(`handler crashed: ${String(e)}`);
        if (!res.headersSent) send(res, 500, { title: 'internal' });
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (this.mode === 'down')
      return send(res, 503, { title: 'unavailable', code: 'UNAVAILABLE' }, { 'retry-after': '1' });
    if (req.method === 'POST' && url.pathname === '/v1/agent/register') {
      const parsed = RegisterRequest.safeParse(await readJson(req));
      if (!parsed.success) return this.reject(res, 'register', parsed.error.message);
      const credential = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (credential) {
        if (this.tokens.get(credential) !== parsed.data.name)
          return send(res, 401, { title: 'unknown node credential', code: 'UNAUTHENTICATED' });
        this.renewals.push(parsed.data);
        return send(res, 200, {
          nodeId: `node-id-${parsed.data.name}`,
          nodeToken: credential,
          pollIntervalSeconds: this.pollIntervalSeconds,
        });
      }
      if (!parsed.data.joinToken || !this.joinTokens.has(parsed.data.joinToken))
        return send(res, 401, { title: 'bad join token', code: 'UNAUTHENTICATED' });
      this.registrations.push(parsed.data);
      const token = `node-${randomUUID()}`;
      this.tokens.set(token, parsed.data.name);
      return send(res, 200, {
        nodeId: `node-id-${parsed.data.name}`,
        nodeToken: token,
        pollIntervalSeconds: this.pollIntervalSeconds,
      });
    }
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const nodeName = auth ? this.tokens.get(auth) : undefined;
    if (!nodeName) return send(res, 401, { title: 'unauthenticated', code: 'UNAUTHENTICATED' });
    const n = this.node(nodeName);

    if (req.method === 'GET' && url.pathname === '/v1/agent/assignments') {
      this.assignmentCalls++;
      const wait = Math.min(60, Number(url.searchParams.get('wait') ?? 0));
      const etag = () => `"v${n.version}"`;
      if (req.headers['if-none-match'] === etag() && this.longPoll && wait > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, wait * 1000);
          function done() {
            clearTimeout(timer);
            resolve();
          }
          n.waiters.push(done);
          req.socket.once('close', done);
        });
      }
      if (req.headers['if-none-match'] === etag()) {
        res.writeHead(304, { etag: etag() }).end();
        return;
      }
      return send(
        res,
        200,
        {
          replicas: n.replicas,
          logRequests: n.logRequests.map((l) => l.req),
          pollIntervalSeconds: this.pollIntervalSeconds,
          ...(this.services ? { services: this.services } : {}),
        },
        { etag: etag() },
      );
    }
    if (req.method === 'POST' && url.pathname === '/v1/agent/status') {
      this.statusCalls++;
      const parsed = StatusReport.safeParse(await readJson(req));
      if (!parsed.success) return this.reject(res, 'status', parsed.error.message);
      n.reports.push({ at: performance.now(), report: parsed.data });
      if (n.reports.length > 2000) n.reports.splice(0, 1000);
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/v1/agent/logs') {
      const parsed = LogAnswer.safeParse(await readJson(req));
      if (!parsed.success) return this.reject(res, 'logs', parsed.error.message);
      const i = n.logRequests.findIndex((l) => l.req.id === parsed.data.id);
      if (i >= 0) {
        const [pending] = n.logRequests.splice(i, 1);
        pending!.resolve(parsed.data);
      }
      res.writeHead(204).end();
      return;
    }
    send(res, 404, { title: 'not found', code: 'NOT_FOUND' });
  }

  private reject(res: ServerResponse, what: string, message: string): void {
    this.protocolErrors.push(`${what}: ${message}`);
    send(res, 422, { title: 'validation failed', code: 'VALIDATION_FAILED', detail: message });
  }
}

interface NodeState {
  version: number;
  replicas: Assignment[];
  logRequests: { req: LogRequest; resolve: (a: LogAnswerT) => void }[];
  reports: { at: number; report: StatusReportT }[];
  waiters: (() => void)[];
  assignedAt: number;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  res.writeHead(status, { 'content-type': type, ...headers }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
