import type { Assignment, LogAnswer, LogRequest, ReplicaStatus } from '../common/agent-protocol.ts';
import type { ContainerPolicy } from './container-defaults.ts';
import type { ContainerInfo, CreateSpec, Driver } from './driver/driver.ts';
import { emptyDirOverLimit, hasBoundedDiskEmptyDir } from './empty-dir-usage.ts';
import type { ImagePuller } from './image-puller.ts';
import { LABEL_NODE, LABEL_REPLICA } from './labels.ts';
import { errorMessage, type Logger } from './log.ts';
import { mergeTails } from './log-tail.ts';
import { type LocalEndpoint, PodRunner } from './pod-runner.ts';
import { type Mounter, sweepVolumes, systemMounter, type VolumeRoots } from './pod-volumes.ts';
import type { StartupLedger } from './startup-ledger.ts';

export interface ManagerDeps {
  driver: Driver;
  images: ImagePuller;
  node: string;
  address: string;
  log: Logger;
  onChange: (urgent?: boolean) => void;
  /** Safety-net listing of the engine, in case an event was missed (default 30 s). */
  resyncMs?: number;
  /** Node-wide container settings (pids limit); default: DEFAULT_CONTAINER_POLICY. */
  containerPolicy?: ContainerPolicy;
  /** Where pods' volumes go; given, volumes of replicas that are gone are swept at the first set. */
  volumeRoots?: VolumeRoots;
  mounter?: Mounter;
  /** How often disk emptyDirs with a sizeLimit are measured (default 10 s). */
  emptyDirCheckMs?: number;
  /** The cluster DNS for a namespace's new containers (agent/services); undefined: the engine's. */
  containerDns?: (namespace: string) => CreateSpec['dns'];
  /** Which containers passed their startup probe, kept across agent restarts. */
  startups?: StartupLedger;
}

/**
 * Keeps one PodRunner per replica assigned to this node. The first assignment set adopts what is
 * already running (containers labelled with this node); later sets start, update and terminate
 * runners. Docker events are routed to the runner of the replica they name.
 */
export class PodManager {
  private readonly runners = new Map<string, PodRunner>();
  private latest = new Map<string, Assignment>();
  private adopted = false;
  private applying: Promise<void> = Promise.resolve();
  private events: { close(): void } | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private usageTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: ManagerDeps) {}

  start(): void {
    this.events = this.deps.driver.watchEvents(
      this.deps.node,
      (e) => {
        const id = e.labels[LABEL_REPLICA];
        if (id) this.runners.get(id)?.onEvent(e);
      },
      () => void this.resync(),
    );
    this.resyncTimer = setInterval(() => void this.resync(), this.deps.resyncMs ?? 30_000);
    this.resyncTimer.unref();
    this.usageTimer = setInterval(() => void this.checkEmptyDirs(), this.deps.emptyDirCheckMs ?? 10_000);
    this.usageTimer.unref();
  }

  /** Evicts the replicas whose disk emptyDir is past its sizeLimit (empty-dir-usage.ts). */
  private async checkEmptyDirs(): Promise<void> {
    const roots = this.deps.volumeRoots;
    if (!roots || this.stopped) return;
    for (const r of this.runners.values()) {
      const a = r.current();
      if (!a || !hasBoundedDiskEmptyDir(a)) continue;
      try {
        const reason = await emptyDirOverLimit(roots, a);
        if (reason) r.evict(reason);
      } catch (e) {
        this.deps.log.warn('measuring emptyDir volumes failed', { replica: a.id, error: errorMessage(e) });
      }
    }
  }

  /** The complete desired set for this node. Calls are applied in order. */
  apply(replicas: Assignment[]): Promise<void> {
    this.applying = this.applying
      .then(() => this.applyNow(replicas))
      .catch((e: unknown) => {
        this.deps.log.error('applying assignments failed', { error: errorMessage(e) });
      });
    return this.applying;
  }

  private async applyNow(replicas: Assignment[]): Promise<void> {
    if (this.stopped) return;
    this.latest = new Map(replicas.map((r) => [r.id, r]));
    if (!this.adopted) {
      // Before the first set nothing is touched: without knowing what is wanted, keep everything.
      const listed = await this.deps.driver.listContainers({ [LABEL_NODE]: this.deps.node });
      this.deps.startups?.retain(listed.map((c) => c.id));
      const found = groupByReplica(listed);
      this.adopted = true;
      for (const a of replicas) this.spawn(a.id, a, found.get(a.id) ?? []);
      for (const [id, containers] of found) if (!this.latest.has(id)) this.spawn(id, undefined, containers);
      await this.sweepVolumes();
      this.deps.log.info('assignments applied', { replicas: replicas.length, adoptedReplicas: found.size });
      return;
    }
    for (const a of replicas) {
      const r = this.runners.get(a.id);
      if (r) r.update(a);
      else if (a.desired === 'running') this.spawn(a.id, a, []);
    }
    for (const [id, r] of this.runners) if (!this.latest.has(id)) r.terminate();
  }

  /** Volumes no replica here owns any more (it went while the agent was down, with no container left). */
  private async sweepVolumes(): Promise<void> {
    const roots = this.deps.volumeRoots;
    if (!roots) return;
    try {
      const removed = await sweepVolumes(
        roots,
        new Set(this.runners.keys()),
        this.deps.mounter ?? systemMounter,
      );
      if (removed.length) this.deps.log.info('removed volumes of gone replicas', { replicas: removed });
    } catch (e) {
      this.deps.log.warn('sweeping volumes failed', { error: errorMessage(e) });
    }
  }

  private spawn(id: string, a: Assignment | undefined, found: ContainerInfo[]): void {
    if (!a && found.length === 0) return;
    if (a?.desired === 'stopped' && found.length === 0) return;
    const runner = new PodRunner({ ...this.deps, onGone: (gone) => this.gone(gone, runner) }, id, a, found);
    this.runners.set(id, runner);
  }

  private gone(id: string, runner: PodRunner): void {
    if (this.runners.get(id) !== runner) return;
    this.runners.delete(id);
    // Terminated while a new desired state arrived (e.g. stopped, then running again).
    const a = this.latest.get(id);
    if (a?.desired === 'running' && !this.stopped) this.spawn(id, a, []);
    this.deps.onChange();
  }

  /** Each pod's address and published ports, by replica (see PodRunner.localEndpoint). */
  localEndpoints(): Map<string, LocalEndpoint> {
    const out = new Map<string, LocalEndpoint>();
    for (const [id, r] of this.runners) {
      const e = r.localEndpoint();
      if (e) out.set(id, e);
    }
    return out;
  }

  statuses(): ReplicaStatus[] {
    const out: ReplicaStatus[] = [];
    for (const r of this.runners.values()) {
      const s = r.status();
      if (s) out.push(s);
    }
    return out;
  }

  /** Compares the engine with what the runners believe; catches events lost while disconnected. */
  async resync(): Promise<void> {
    if (!this.adopted || this.stopped) return;
    let list: ContainerInfo[];
    try {
      // A summary is enough: runners inspect only the containers whose state surprised them.
      list = await this.deps.driver.listContainers({ [LABEL_NODE]: this.deps.node }, false);
    } catch (e) {
      this.deps.log.warn('listing containers failed', { error: errorMessage(e) });
      return;
    }
    this.deps.startups?.retain(list.map((c) => c.id));
    const found = groupByReplica(list);
    for (const [id, r] of this.runners) r.resync(found.get(id) ?? []);
    for (const [id, containers] of found) {
      if (this.runners.has(id)) continue;
      // Labelled for this node but unknown: left by a crash or an earlier agent. Adopt or remove.
      const a = this.latest.get(id);
      const detailed = await Promise.all(containers.map((c) => this.deps.driver.inspectContainer(c.id)));
      if (this.runners.has(id) || this.stopped) continue;
      this.spawn(
        id,
        a,
        detailed.filter((c): c is ContainerInfo => c !== undefined),
      );
    }
  }

  /** The engine's id of a replica's container, for `kubectl exec`; undefined when it has none here. */
  /** A replica's address on its namespace network, where a port-forward connects. */
  podAddressOf(replicaId: string): string | undefined {
    return this.runners.get(replicaId)?.localEndpoint()?.ip;
  }

  containerIdOf(replicaId: string, container: string): string | undefined {
    return this.runners
      .get(replicaId)
      ?.logTargets()
      .find((c) => c.name === container)?.id;
  }

  async answerLog(req: LogRequest): Promise<LogAnswer> {
    const runner = this.runners.get(req.replicaId);
    const all = runner?.logTargets() ?? [];
    const containers = req.container === undefined ? all : all.filter((c) => c.name === req.container);
    if (containers.length === 0)
      return {
        id: req.id,
        lines: [],
        error:
          req.container !== undefined && all.length > 0
            ? `container "${req.container}" of replica ${req.replicaId} has not been created on this node`
            : `replica ${req.replicaId} has no containers on this node`,
      };
    try {
      const per = await Promise.all(
        containers.map(async (c) => ({
          name: c.name,
          lines: await this.deps.driver.logs(c.id, Math.max(0, req.tail), req.since),
        })),
      );
      return { id: req.id, lines: mergeTails(per, req.tail, req.timestamps === true) };
    } catch (e) {
      return { id: req.id, lines: [], error: `reading logs failed: ${errorMessage(e)}`.slice(0, 4096) };
    }
  }

  /** Stops watching and every runner's timers; containers keep running. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.events?.close();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.usageTimer) clearInterval(this.usageTimer);
    await this.applying;
    await Promise.all([...this.runners.values()].map((r) => r.detach()));
  }
}

function groupByReplica(list: ContainerInfo[]): Map<string, ContainerInfo[]> {
  const m = new Map<string, ContainerInfo[]>();
  for (const c of list) {
    const id = c.labels[LABEL_REPLICA];
    if (!id) continue;
    const g = m.get(id);
    if (g) g.push(c);
    else m.set(id, [c]);
  }
  return m;
}
