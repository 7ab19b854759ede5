import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { AssignedContainer, HostPort } from '../common/agent-protocol.ts';
import type { Probe } from '../common/deployment.ts';
import { grpcHealthCheck } from './grpc-health.ts';

/**
 * Startup, readiness and liveness probes with Kubernetes semantics, plus one deliberate deviation,
 * the "startup fast-path": until a container's readiness probe first succeeds it is probed every
 * FAST_START_MS (growing by 25% per attempt up to 1 s, never slower than periodSeconds) rather
 * than every periodSeconds, so a replica is reported ready within milliseconds of serving.
 * After the first success the probe runs at periodSeconds, so a ready pod costs one timer.
 *
 * A startup probe runs at periodSeconds, as in Kubernetes (its failures count towards a kill, so
 * probing faster would shorten the start it allows): failureThreshold × periodSeconds after its
 * initial delay bound the start. Its first success ends it, and readiness and liveness begin.
 */

export type ProbeKind = 'startup' | 'readiness' | 'liveness';
export const FAST_START_MS = 50;
const FAST_START_MAX_MS = 1000;

export interface ProbeState {
  /** Current verdict: startup and readiness start false, liveness starts true (Kubernetes). */
  readonly ok: boolean;
  readonly successes: number;
  readonly failures: number;
  /** Readiness: has it succeeded since the container started (ends the fast-path). */
  readonly everOk: boolean;
}

export function initialProbeState(kind: ProbeKind): ProbeState {
  return { ok: kind === 'liveness', successes: 0, failures: 0, everOk: false };
}

/** Consecutive successes ≥ successThreshold flip to ok; consecutive failures ≥ failureThreshold flip to not ok. */
export function recordProbeResult(s: ProbeState, probe: Probe, success: boolean): ProbeState {
  if (success) {
    const successes = s.successes + 1;
    const ok = s.ok || successes >= probe.successThreshold;
    return { ok, successes, failures: 0, everOk: s.everOk || ok };
  }
  const failures = s.failures + 1;
  return { ok: s.ok && failures < probe.failureThreshold, successes: 0, failures, everOk: s.everOk };
}

/**
 * What a startup probe's state means: `started` at its first success, `failed` (kill the
 * container) once failureThreshold probes in a row failed, `pending` meanwhile.
 */
export function startupVerdict(s: ProbeState, probe: Probe): 'started' | 'failed' | 'pending' {
  if (s.ok) return 'started';
  return s.failures >= probe.failureThreshold ? 'failed' : 'pending';
}

/**
 * Milliseconds until a probe's first run: initialDelaySeconds count from the container's start
 * (as the kubelet counts them), so a probe that begins late (after a startup probe, or on an
 * adopted container) does not wait them out again.
 */
export function initialDelayMs(probe: Probe, startedAt: number | undefined, now = Date.now()): number {
  const delay = probe.initialDelaySeconds * 1000;
  return startedAt === undefined ? delay : Math.max(0, delay - (now - startedAt));
}

/** Milliseconds until the next probe after `attempt` probes (0-based) have run. */
export function nextProbeDelayMs(kind: ProbeKind, probe: Probe, s: ProbeState, attempt: number): number {
  const period = probe.periodSeconds * 1000;
  if (kind === 'readiness' && !s.everOk) {
    return Math.min(period, FAST_START_MAX_MS, Math.round(FAST_START_MS * 1.25 ** attempt));
  }
  return period;
}

export interface ProbeContext {
  /** The probed container's own declared ports (to resolve named ports). */
  ports: AssignedContainer['ports'];
  /** Published ports of the whole pod (its network owner publishes every container's ports). */
  hostPorts: readonly HostPort[];
  /** Node address the ports are published on. */
  address: string;
  /** The pod's address on the container network, for ports that are not published. */
  podIp?: string;
}

export function resolvePort(port: number | string, ports: AssignedContainer['ports']): number | undefined {
  if (typeof port === 'number') return port;
  return ports.find((p) => p.name === port)?.containerPort;
}

/**
 * Where to connect for an httpGet/tcpSocket/grpc probe: the published host port on the node address,
 * else the pod's own address. Never anywhere else: a probe `host` (refused by the API, but
 * possibly stored before that) would let a deployer make the agent connect into the node's
 * network and read the outcome in replica status, so it is ignored.
 */
export function probeTarget(
  action: { port: number | string },
  ctx: ProbeContext,
): { host: string; port: number } | { error: string } {
  const containerPort = resolvePort(action.port, ctx.ports);
  if (containerPort === undefined) return { error: `probe names unknown port "${action.port}"` };
  // Probes speak TCP (HTTP, gRPC, a connect): a UDP port of the same number is not the one.
  const published = ctx.hostPorts.find((h) => h.containerPort === containerPort && h.protocol !== 'UDP');
  if (published) {
    const host = ctx.address === '0.0.0.0' ? '127.0.0.1' : ctx.address;
    return { host, port: published.hostPort };
  }
  if (ctx.podIp) return { host: ctx.podIp, port: containerPort };
  return { error: `port ${containerPort} is neither published nor reachable on the pod address` };
}

export interface ProbeOutcome {
  ok: boolean;
  detail?: string;
}

export type ExecFn = (command: string[], timeoutMs: number) => Promise<number>;

/** Runs one probe once. Never rejects. */
export async function runProbe(probe: Probe, ctx: ProbeContext, exec: ExecFn): Promise<ProbeOutcome> {
  const timeoutMs = probe.timeoutSeconds * 1000;
  try {
    if (probe.exec) {
      const code = await exec(probe.exec.command, timeoutMs);
      return code === 0 ? { ok: true } : { ok: false, detail: `command exited with ${code}` };
    }
    const action = probe.httpGet ?? probe.tcpSocket ?? probe.grpc;
    if (!action) return { ok: false, detail: 'probe has no handler' };
    const target = probeTarget(action, ctx);
    if ('error' in target) return { ok: false, detail: target.error };
    if (probe.httpGet) return await httpProbe(probe.httpGet, target, timeoutMs);
    if (probe.grpc) return await grpcHealthCheck(target, probe.grpc.service ?? '', timeoutMs);
    return await tcpProbe(target, timeoutMs);
  } catch (e) {
    return { ok: false, detail: e instanceof Error ? e.message : String(e) };
  }
}

async function httpProbe(
  action: NonNullable<Probe['httpGet']>,
  target: { host: string; port: number },
  timeoutMs: number,
): Promise<ProbeOutcome> {
  const code = await httpGetStatus(action, target, timeoutMs);
  return code >= 200 && code < 400
    ? { ok: true }
    : { ok: false, detail: `HTTP probe failed with statuscode: ${code}` };
}

/**
 * One GET as a probe or a lifecycle hook sends it: the answer's status code. Rejects when there
 * is none within timeoutMs, or when `signal` aborts.
 */
export function httpGetStatus(
  action: NonNullable<Probe['httpGet']>,
  target: { host: string; port: number },
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'user-agent': 'berth-probe/1', connection: 'close' };
    for (const h of action.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
    const req = (action.scheme === 'HTTPS' ? httpsRequest : httpRequest)({
      host: target.host,
      port: target.port,
      path: action.path,
      method: 'GET',
      headers,
      agent: false,
      timeout: timeoutMs,
      // Kubernetes does not verify probe certificates either.
      rejectUnauthorized: false,
      ...(signal ? { signal } : {}),
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`probe timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function tcpProbe(target: { host: string; port: number }, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const sock = connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ ok: false, detail: `dial tcp ${target.host}:${target.port}: timeout` });
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ ok: true });
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: e.message });
    });
  });
}

/**
 * Runs one probe of one container on its schedule until stopped. One timer at a time; a probe
 * never overlaps the previous one.
 */
export class ProbeWorker {
  private state: ProbeState;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  lastDetail: string | undefined;

  constructor(
    readonly kind: ProbeKind,
    private readonly probe: Probe,
    private readonly check: () => Promise<ProbeOutcome>,
    private readonly onChange: (ok: boolean, detail: string | undefined) => void,
  ) {
    this.state = initialProbeState(kind);
  }

  get ok(): boolean {
    return this.state.ok;
  }

  /** `startedAt`: when the container started (epoch ms), from which the initial delay counts. */
  start(startedAt: number | undefined): void {
    this.schedule(initialDelayMs(this.probe, startedAt));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    const outcome = await this.check();
    if (this.stopped) return;
    const before = this.state.ok;
    this.state = recordProbeResult(this.state, this.probe, outcome.ok);
    this.lastDetail = outcome.ok ? undefined : outcome.detail;
    const delay = nextProbeDelayMs(this.kind, this.probe, this.state, this.attempt++);
    if (this.kind === 'startup') {
      // A startup probe speaks once: started (it is done) or failed (the container is killed).
      const verdict = startupVerdict(this.state, this.probe);
      if (verdict === 'pending') {
        this.schedule(delay);
        return;
      }
      this.stop();
      this.onChange(verdict === 'started', this.lastDetail);
      return;
    }
    if (this.state.ok !== before) this.onChange(this.state.ok, this.lastDetail);
    this.schedule(delay);
  }
}
