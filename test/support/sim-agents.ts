import { agentFeatureLabels } from '../../common/agent-features.ts';
import type {
  Assignment,
  AssignmentsResponse,
  ReplicaStatus,
  UsageReport,
} from '../../common/agent-protocol.ts';

/**
 * Simulated agents: speak the real agent protocol over HTTP (or in-process through
 * `app.request`) without Docker. Every assigned running replica becomes Running and ready
 * (after `readyAfterMs`), stopped ones disappear. Tests steer them: fail replicas, cut the
 * network, change behaviour.
 */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface SimAgentOptions {
  server: string;
  joinToken: string;
  name: string;
  labels?: Record<string, string>;
  capacity?: { cpu: number; memoryBytes: number };
  /** What the agent's --extended-resource flags and its disk would report. */
  extendedResources?: Record<string, number>;
  ephemeralStorageBytes?: number;
  address?: string;
  fetch?: FetchLike;
  /** Long-poll wait sent to the server (seconds). */
  waitSeconds?: number;
  heartbeatMs?: number;
  readyAfterMs?: number;
  /** Decide what a replica looks like; default: Running and ready. */
  /**
   * What the agent reports for an assignment instead of running/ready; `exitCode` reports its
   * containers as exited with it (a Job's pod that finished).
   */
  observe?: (
    a: Assignment,
    agent: SimAgent,
  ) => (Pick<ReplicaStatus, 'phase' | 'ready' | 'message'> & { exitCode?: number }) | 'absent';
  /** The usage sample each report carries (as berth-agent's sampler makes one); absent: none. */
  usage?: (agent: SimAgent) => UsageReport | undefined;
}

export class SimAgent {
  token = '';
  nodeId = '';
  assignments: Assignment[] = [];
  reports = 0;
  private etag: string | undefined;
  private stopped = false;
  private cut = false;
  private readonly seenAt = new Map<string, number>();
  private readonly ports = new Map<string, number>();
  private loop: Promise<void> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private heartbeatInFlight = false;
  /** The last report sent or waiting: the next one goes after it. */
  private reporting: Promise<void> = Promise.resolve();
  private nextPort = 30000 + Math.floor(Math.random() * 20000);
  private readonly fetch: FetchLike;
  private abort = new AbortController();

  constructor(readonly options: SimAgentOptions) {
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
  }

  get name() {
    return this.options.name;
  }

  async register(): Promise<void> {
    const res = await this.fetch(`${this.options.server}/v1/agent/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        joinToken: this.options.joinToken,
        name: this.options.name,
        // A simulated agent stands for one of this build: it honours every pod feature.
        labels: { ...agentFeatureLabels(), ...this.options.labels },
        capacity: this.options.capacity ?? { cpu: 4, memoryBytes: 8 * 1024 ** 3 },
        address: this.options.address ?? '127.0.0.1',
        agentVersion: 'sim',
        extendedResources: this.options.extendedResources,
        ephemeralStorageBytes: this.options.ephemeralStorageBytes,
      }),
    });
    if (!res.ok) throw new Error(`register ${this.options.name}: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { nodeId: string; nodeToken: string };
    this.token = body.nodeToken;
    this.nodeId = body.nodeId;
  }

  async start(): Promise<this> {
    if (!this.token) await this.register();
    this.stopped = false;
    this.loop = this.pollLoop();
    this.heartbeat = setInterval(() => {
      // One heartbeat at a time, as berth-agent's reporter: a server slower than the interval must
      // not be sent ever more requests at once (on a busy machine that overload fed on itself).
      if (this.heartbeatInFlight) return;
      this.heartbeatInFlight = true;
      void this.report()
        .catch(() => {})
        .finally(() => {
          this.heartbeatInFlight = false;
        });
    }, this.options.heartbeatMs ?? 1000);
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.loop?.catch(() => {});
    this.abort = new AbortController();
  }

  /** Simulate a network cut: no polls, no reports, until `heal()`. */
  cutNetwork(): void {
    this.cut = true;
    this.abort.abort();
    this.abort = new AbortController();
  }
  heal(): void {
    this.cut = false;
    this.etag = undefined;
  }

  private async pollLoop(): Promise<void> {
    while (!this.stopped) {
      if (this.cut) {
        await sleep(100);
        continue;
      }
      try {
        const wait = this.options.waitSeconds ?? 20;
        const res = await this.fetch(`${this.options.server}/v1/agent/assignments?wait=${wait}`, {
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(this.etag ? { 'if-none-match': this.etag } : {}),
          },
          signal: this.abort.signal,
        });
        if (res.status === 200) {
          this.etag = res.headers.get('etag') ?? undefined;
          const body = (await res.json()) as AssignmentsResponse;
          this.assignments = body.replicas;
          for (const a of body.replicas) if (!this.seenAt.has(a.id)) this.seenAt.set(a.id, Date.now());
          for (const l of body.logRequests) {
            await this.fetch(`${this.options.server}/v1/agent/logs`, {
              method: 'POST',
              headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
              body: JSON.stringify({ id: l.id, lines: [`log line of ${l.replicaId} from ${this.name}`] }),
            });
          }
          await this.report();
          if ((this.options.readyAfterMs ?? 0) > 0) {
            setTimeout(() => void this.report().catch(() => {}), (this.options.readyAfterMs ?? 0) + 10);
          }
        } else if (res.status === 304) {
          await res.body?.cancel();
        } else {
          await res.body?.cancel();
          await sleep(200);
        }
      } catch {
        if (!this.stopped) await sleep(100);
      }
    }
  }

  /**
   * Send the observed state now: after any report already on its way, and built when it goes, so
   * reports reach the server in the order of the states they describe (as berth-agent's reporter
   * sends one at a time). A heartbeat built before a test's change must not land after it.
   */
  report(): Promise<void> {
    const next = this.reporting.then(() => this.sendReport());
    this.reporting = next.catch(() => {});
    return next;
  }

  protected async sendReport(): Promise<void> {
    if (this.cut || !this.token) return;
    const replicas: ReplicaStatus[] = [];
    for (const a of this.assignments) {
      if (a.desired === 'stopped') continue;
      const seen = this.seenAt.get(a.id) ?? Date.now();
      const custom = this.options.observe?.(a, this);
      if (custom === 'absent') continue;
      const readyNow = Date.now() - seen >= (this.options.readyAfterMs ?? 0);
      const state =
        custom ??
        (readyNow
          ? { phase: 'Running' as const, ready: true }
          : { phase: 'Starting' as const, ready: false });
      const port = this.ports.get(a.id) ?? this.nextPort++;
      this.ports.set(a.id, port);
      const { exitCode, ...observed } = state as typeof state & { exitCode?: number };
      replicas.push({
        id: a.id,
        ...observed,
        containers: a.containers.map((c, i) => ({
          name: c.name,
          containerId: `sim-${a.id}-${i}`,
          ...(exitCode === undefined
            ? { state: 'running' as const }
            : { state: 'terminated' as const, exitCode }),
          restartCount: 0,
          hostPorts: c.ports.map((p, j) => ({ containerPort: p.containerPort, hostPort: port + j })),
        })),
      });
    }
    const usage = this.options.usage?.(this);
    const res = await this.fetch(`${this.options.server}/v1/agent/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ replicas, ...(usage ? { usage } : {}) }),
    });
    await res.body?.cancel();
    this.reports++;
  }

  running(): Assignment[] {
    return this.assignments.filter((a) => a.desired === 'running');
  }
}

export interface SimFleet {
  agents: SimAgent[];
  stop(): Promise<void>;
}

/** Create a join token with the admin token and start `count` agents named sim-1..sim-N. */
export async function startSimAgents(args: {
  server: string;
  adminToken: string;
  count: number;
  fetch?: FetchLike;
  prefix?: string;
  options?: Partial<SimAgentOptions>;
}): Promise<SimFleet> {
  const doFetch = args.fetch ?? ((url: string, init?: RequestInit) => fetch(url, init));
  const res = await doFetch(`${args.server}/v1/join-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${args.adminToken}`, 'content-type': 'application/json' },
    // Join tokens are single-use by default: this one registers the whole fleet.
    body: JSON.stringify({ maxUses: Math.max(1, args.count) }),
  });
  if (!res.ok) throw new Error(`join token: ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  const agents = await Promise.all(
    Array.from({ length: args.count }, (_, i) =>
      new SimAgent({
        server: args.server,
        joinToken: token,
        name: `${args.prefix ?? 'sim'}-${i + 1}`,
        fetch: args.fetch,
        ...args.options,
      }).start(),
    ),
  );
  return {
    agents,
    async stop() {
      await Promise.all(agents.map((a) => a.stop()));
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns a truthy value or the timeout passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  // A bound that fails only what is stuck: CI runs every tier at once on two cores.
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
