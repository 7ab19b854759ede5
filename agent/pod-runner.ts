import type {
  AssignedContainer,
  Assignment,
  ContainerStatus,
  HostPort,
  ReplicaStatus,
} from '../common/agent-protocol.ts';
import { type PlannedContainer, planContainers } from './container-spec.ts';
import type { ContainerEvent, ContainerInfo, Driver } from './driver/driver.ts';
import { EngineUnavailableError, NameConflictError } from './driver/driver.ts';
import type { ImagePuller } from './image-puller.ts';
import { LABEL_CONTAINER, LABEL_GRACE, LABEL_SPEC_HASH } from './labels.ts';
import { errorMessage, type Logger } from './log.ts';
import { type ProbeContext, ProbeWorker, runProbe } from './probes.ts';
import {
  backoffDelayMs,
  initialTracker,
  nextRestart,
  type RestartTracker,
  shouldRestart,
} from './restart-tracker.ts';

/** How often a replica asks again while the container runtime does not answer. */
const ENGINE_RETRY_MS = 1000;

export interface PodDeps {
  driver: Driver;
  images: ImagePuller;
  node: string;
  /** Node address: ports are published and probed on it. */
  address: string;
  log: Logger;
  /** Something a status report shows changed; urgent: a replica became ready. */
  onChange: (urgent?: boolean) => void;
  /** Termination finished: every container of the replica is removed. */
  onGone: (replicaId: string) => void;
}

/** One container of the pod and what the agent knows of it. */
interface Slot {
  name: string;
  spec: AssignedContainer;
  /** Absent for containers found without an assignment (they are only stopped and removed). */
  plan: PlannedContainer | undefined;
  id?: string;
  running: boolean;
  /** Created but never started (e.g. the agent died in between). */
  created: boolean;
  exitCode?: number;
  oom?: boolean;
  startedAt?: number;
  /** Restart decided by the policy: not before this time (CrashLoopBackOff). */
  restartAt?: number;
  /** Exited and the restart policy says it stays so. */
  terminal: boolean;
  restartCount: number;
  tracker: RestartTracker;
  hostPorts: HostPort[];
  ip?: string;
  /** The network owner's container this member joined, and the owner's start it joined. */
  networkFrom?: string;
  joinedStart?: number;
  /** Increments on each start: members of a restarted owner must restart to rejoin its namespace. */
  starts: number;
  readiness?: ProbeWorker;
  liveness?: ProbeWorker;
  ready: boolean;
  /** Has been ready since its last start: the pod is Running rather than Starting. */
  everReady: boolean;
  probeDetail?: string;
  /** The agent itself is stopping it: its death is expected, not a crash. */
  stopping: boolean;
  killing: boolean;
}

/**
 * Runs one replica (a pod) on this node: pulls, creates, starts, probes, restarts and finally
 * stops and removes its containers. Level-triggered: `step()` compares what should be with what
 * is and closes the gap; every event (assignment update, container death, timer) just kicks it.
 * Steps never overlap, and each is safe to re-run after a crash of the agent.
 */
export class PodRunner {
  private assignment: Assignment | undefined;
  private slots: Slot[] = [];
  /** Containers of this replica that must go: stale configuration, duplicates, removed containers. */
  private strays: ContainerInfo[] = [];
  private terminating: boolean;
  private gone = false;
  private pulling = false;
  private error: { message: string; retryAt: number; attempts: number } | undefined;
  /** The runtime did not answer: try again soon, counting nothing against the replica. */
  private engineWait: { message: string; retryAt: number } | undefined;
  private loop: Promise<void> | undefined;
  private again = false;
  private detached = false;
  private wake: { at: number; timer: NodeJS.Timeout } | undefined;
  private pendingResync: ContainerInfo[] | undefined;
  private readonly since = performance.now();
  private readyLogged = false;
  private grace: number;
  private drain: number;

  constructor(
    private readonly deps: PodDeps,
    readonly id: string,
    assignment: Assignment | undefined,
    adopted: ContainerInfo[],
  ) {
    this.assignment = assignment;
    this.grace = assignment?.terminationGracePeriodSeconds ?? graceFromLabels(adopted);
    // An orphan found at start-up left the endpoints long ago: no drain delay for it.
    this.drain = assignment?.drainDelaySeconds ?? 0;
    this.terminating = !assignment || assignment.desired === 'stopped';
    if (assignment && !this.terminating) this.slots = this.planSlots(assignment, []);
    this.adopt(adopted);
    this.kick();
  }

  get isGone(): boolean {
    return this.gone;
  }

  /** The replica's new desired state (same id). */
  update(a: Assignment): void {
    if (this.gone || this.detached) return;
    if (stableKey(a) === stableKey(this.assignment)) return;
    const prev = this.assignment;
    this.assignment = a;
    this.grace = a.terminationGracePeriodSeconds;
    this.drain = a.drainDelaySeconds;
    if (a.desired === 'stopped') {
      this.terminating = true;
    } else if (!this.terminating) {
      // A changed container configuration replaces that container; the rest keep running.
      this.slots = this.planSlots(a, this.slots);
      if (prev && prev.restartPolicy !== a.restartPolicy) {
        for (const s of this.slots)
          if (s.terminal && s.exitCode !== undefined) this.decideRestart(s, s.exitCode, 0);
      }
    }
    this.error = undefined;
    this.deps.onChange();
    this.kick();
  }

  /** Stop and remove everything (the replica is no longer assigned here). */
  terminate(): void {
    if (this.terminating || this.gone) return;
    this.terminating = true;
    this.deps.onChange();
    this.kick();
  }

  onEvent(e: ContainerEvent): void {
    const slot = this.slots.find((s) => s.id === e.id);
    if (!slot) return;
    if (e.action === 'oom') slot.oom = true;
    else if (e.action === 'die') this.exited(slot, e.exitCode ?? -1);
    else if (e.action === 'destroy' && !slot.stopping) {
      // Removed behind our back: recreate it (counts as a restart).
      this.exited(slot, slot.exitCode ?? -1);
      slot.id = undefined;
      slot.created = false;
      this.kick();
    }
  }

  /** The engine's view of this replica's containers, from a periodic or reconnect listing. */
  resync(infos: ContainerInfo[]): void {
    this.pendingResync = infos;
    this.kick();
  }

  /** Containers whose logs a log request reads, in pod order. */
  logTargets(): { name: string; id: string }[] {
    return this.slots.filter((s) => s.id).map((s) => ({ name: s.name, id: s.id! }));
  }

  /** Stop timers and probes but leave containers as they are (the agent is shutting down). */
  async detach(): Promise<void> {
    this.detached = true;
    if (this.wake) clearTimeout(this.wake.timer);
    this.wake = undefined;
    for (const s of this.slots) stopProbes(s);
    await this.loop;
  }

  status(): ReplicaStatus | undefined {
    const s = this.observe();
    // The protocol caps messages (registry errors can be long).
    if (s?.message && s.message.length > 4096) s.message = `${s.message.slice(0, 4093)}...`;
    return s;
  }

  private observe(): ReplicaStatus | undefined {
    if (this.gone) return undefined;
    const containers: ContainerStatus[] = this.slots.map((s) => this.containerStatus(s));
    const ready = !this.terminating && this.slots.length > 0 && this.slots.every((s) => s.running && s.ready);
    const base = { id: this.id, ready, containers };
    if (this.terminating) return { ...base, phase: 'Terminating' };
    if (this.error) return { ...base, phase: 'Failed', message: this.error.message };
    if (this.pulling) return { ...base, phase: 'Pulling' };
    if (this.slots.length > 0 && this.slots.every((s) => s.terminal)) {
      const failed = this.slots.find((s) => s.exitCode !== 0);
      return failed
        ? {
            ...base,
            phase: 'Failed',
            message: `container ${failed.name} exited with code ${failed.exitCode}`,
          }
        : { ...base, phase: 'Succeeded' };
    }
    const crashing = this.slots.find((s) => !s.running && s.restartAt !== undefined);
    const unready = this.slots.find((s) => s.running && !s.ready && s.probeDetail);
    const message = crashing
      ? `back-off ${Math.max(0, Math.round((crashing.restartAt! - Date.now()) / 1000))}s restarting failed container ${crashing.name} (exit code ${crashing.exitCode})`
      : unready
        ? `readiness probe of ${unready.name} failed: ${unready.probeDetail}`
        : undefined;
    const running = this.slots.every((s) => s.running && s.everReady);
    const shown = this.engineWait ? `waiting for the container runtime: ${this.engineWait.message}` : message;
    return { ...base, phase: running ? 'Running' : 'Starting', ...(shown ? { message: shown } : {}) };
  }

  private containerStatus(s: Slot): ContainerStatus {
    const own = new Set(s.spec.ports.map((p) => p.containerPort));
    const owner = this.slots[0];
    const hostPorts = (owner?.hostPorts ?? []).filter((h) => own.has(h.containerPort));
    const base = { name: s.name, restartCount: s.restartCount, ready: s.running && s.ready, hostPorts };
    const id = s.id ? { containerId: s.id } : {};
    if (s.running) return { ...base, ...id, state: 'running' };
    if (s.terminal && s.exitCode !== undefined)
      return { ...base, ...id, state: 'terminated', exitCode: s.exitCode, reason: exitReason(s) };
    if (s.restartAt !== undefined && s.exitCode !== undefined)
      return { ...base, ...id, state: 'waiting', reason: 'CrashLoopBackOff', exitCode: s.exitCode };
    return {
      ...base,
      ...id,
      state: 'waiting',
      reason: this.pulling ? 'Pulling' : this.error ? 'Error' : 'ContainerCreating',
    };
  }

  // ---- the loop -------------------------------------------------------------------------------

  private kick(): void {
    if (this.detached || this.gone) return;
    if (this.loop) {
      this.again = true;
      return;
    }
    this.loop = (async () => {
      do {
        this.again = false;
        try {
          await this.step();
        } catch (e) {
          this.deps.log.warn('replica step failed', { replica: this.id, error: errorMessage(e) });
          this.scheduleWake(Date.now() + 2000);
        }
      } while (this.again && !this.detached && !this.gone);
      this.loop = undefined;
    })();
  }

  private scheduleWake(at: number): void {
    if (this.detached) return;
    if (this.wake && this.wake.at <= at) return;
    if (this.wake) clearTimeout(this.wake.timer);
    const timer = setTimeout(
      () => {
        this.wake = undefined;
        this.deps.onChange();
        this.kick();
      },
      Math.max(0, at - Date.now()),
    );
    timer.unref();
    this.wake = { at, timer };
  }

  private async step(): Promise<void> {
    if (this.pendingResync) await this.applyResync(this.pendingResync);
    await this.removeStrays();
    if (this.terminating) return this.stepTerminate();
    const a = this.assignment!;
    const now = Date.now();
    if (this.engineWait && this.engineWait.retryAt > now) return this.scheduleWake(this.engineWait.retryAt);
    if (this.error && this.error.retryAt > now) return this.scheduleWake(this.error.retryAt);

    const toCreate = this.slots.filter((s) => !s.id);
    if (toCreate.length > 0 && !(await this.ensureImages(a, toCreate))) return;

    for (let i = 0; i < this.slots.length; i++) {
      if (this.detached || this.terminating) return;
      const s = this.slots[i]!;
      const owner = this.slots[0]!;
      if (i > 0 && s.id && s.networkFrom !== owner.id) {
        // Joined an owner that was replaced: its namespace is gone, recreate.
        await this.discard(s);
      }
      if (i > 0 && !owner.running) break; // members join a running owner
      if (!s.id) {
        if (!(await this.create(s, i > 0 ? owner.id : undefined))) return;
        if (!s.running) await this.start(s, i === 0 ? undefined : owner);
        continue;
      }
      if (s.running) {
        if (i > 0 && s.joinedStart !== owner.starts) {
          // The owner restarted with a fresh namespace: restart the member to rejoin it.
          s.stopping = true;
          await this.deps.driver.stopContainer(s.id, this.grace);
          s.stopping = false;
          s.running = false;
          stopProbes(s);
          s.restartCount++;
          await this.start(s, owner);
        }
        continue;
      }
      if (s.created) {
        await this.start(s, i === 0 ? undefined : owner);
        continue;
      }
      if (s.terminal) continue;
      if (s.restartAt !== undefined && s.restartAt > now) {
        this.scheduleWake(s.restartAt);
        continue;
      }
      await this.start(s, i === 0 ? undefined : owner, true);
    }
  }

  /** Pulls what is missing. false: not all images are there (error recorded, retry scheduled). */
  private async ensureImages(a: Assignment, slots: Slot[]): Promise<boolean> {
    try {
      await Promise.all(
        slots.map((s) =>
          this.deps.images.ensure(s.spec.image, s.spec.imagePullPolicy, a.imagePullAuth, () => {
            if (!this.pulling) {
              this.pulling = true;
              this.deps.onChange();
            }
          }),
        ),
      );
      if (this.error) this.deps.onChange();
      this.error = undefined;
      this.engineWait = undefined;
      return true;
    } catch (e) {
      this.fail(`failed to pull image: ${errorMessage(e)}`, e);
      return false;
    } finally {
      if (this.pulling) {
        this.pulling = false;
        this.deps.onChange();
      }
    }
  }

  /**
   * Records an error with backoff (ImagePullBackOff / create errors) and reports Failed meanwhile.
   * A runtime that did not answer is not the replica's failure: while Docker restarts, every
   * container it stopped would otherwise be backed off for 10-20 s after it is back.
   */
  private fail(message: string, cause?: unknown): void {
    if (cause instanceof EngineUnavailableError) {
      if (!this.engineWait)
        this.deps.log.warn('waiting for the container runtime', { replica: this.id, message });
      this.engineWait = { message: cause.message, retryAt: Date.now() + ENGINE_RETRY_MS };
      this.deps.onChange();
      this.scheduleWake(this.engineWait.retryAt);
      return;
    }
    const attempts = (this.error?.attempts ?? 0) + 1;
    this.error = { message, attempts, retryAt: Date.now() + Math.max(1000, backoffDelayMs(attempts)) };
    this.deps.log.warn('replica failed', {
      replica: this.id,
      message,
      retryInMs: this.error.retryAt - Date.now(),
    });
    this.deps.onChange();
    this.scheduleWake(this.error.retryAt);
  }

  private async create(s: Slot, ownerId: string | undefined): Promise<boolean> {
    const plan = s.plan!;
    const spec = ownerId ? { ...plan.spec, networkFrom: ownerId } : plan.spec;
    const t0 = performance.now();
    try {
      let id: string;
      try {
        id = await this.deps.driver.createContainer(spec);
      } catch (e) {
        if (!(e instanceof NameConflictError)) throw e;
        // Left over from an earlier run: reuse it if it is the same configuration, else replace it.
        const existing = await this.deps.driver.inspectContainer(spec.name);
        if (existing && existing.labels[LABEL_SPEC_HASH] === plan.hash && existing.networkFrom === ownerId) {
          this.adoptInto(s, existing);
          if (s.running) await this.afterStart(s, ownerId ? this.slots[0] : undefined, false);
          return true;
        }
        if (existing) await this.deps.driver.removeContainer(existing.id);
        id = await this.deps.driver.createContainer(spec);
      }
      s.id = id;
      s.created = true;
      s.networkFrom = ownerId;
      this.engineWait = undefined;
      this.deps.log.debug('container created', {
        replica: this.id,
        container: s.name,
        ms: Math.round(performance.now() - t0),
      });
      return true;
    } catch (e) {
      this.fail(`failed to create container ${s.name}: ${errorMessage(e)}`, e);
      return false;
    }
  }

  /** `restart`: it ran before, so a successful start counts in restartCount. */
  private async start(s: Slot, owner: Slot | undefined, restart = false): Promise<void> {
    const t0 = performance.now();
    try {
      await this.deps.driver.startContainer(s.id!);
    } catch (e) {
      this.fail(`failed to start container ${s.name}: ${errorMessage(e)}`, e);
      return;
    }
    this.engineWait = undefined;
    if (restart) s.restartCount++;
    this.deps.log.debug('container started', {
      replica: this.id,
      container: s.name,
      ms: Math.round(performance.now() - t0),
      sinceAssigned: Math.round(performance.now() - this.since),
    });
    s.created = false;
    s.running = true;
    s.startedAt = Date.now();
    s.restartAt = undefined;
    s.terminal = false;
    s.oom = false;
    s.starts++;
    if (owner) s.joinedStart = owner.starts;
    await this.afterStart(s, owner, true);
  }

  /** Reads the published ports, then starts probes; a container without readinessProbe is ready now. */
  private async afterStart(s: Slot, owner: Slot | undefined, justStarted: boolean): Promise<void> {
    const id = s.id!;
    if (!owner) {
      const info = await this.deps.driver.inspectContainer(id);
      if (info) {
        s.hostPorts = info.hostPorts;
        if (info.ip) s.ip = info.ip;
        if (!info.running && s.running && s.id === id) {
          this.exited(s, info.exitCode ?? -1);
          return;
        }
      }
    }
    if (justStarted) this.error = undefined;
    this.startProbes(s);
    this.deps.onChange();
  }

  private startProbes(s: Slot): void {
    stopProbes(s);
    s.ready = false;
    s.everReady = false;
    s.probeDetail = undefined;
    const ctx = (): ProbeContext => {
      const owner = this.slots[0]!;
      return {
        ports: s.spec.ports,
        hostPorts: owner.hostPorts,
        address: this.deps.address,
        ...(owner.ip ? { podIp: owner.ip } : {}),
      };
    };
    const exec = (cmd: string[], timeoutMs: number) => this.deps.driver.exec(s.id!, cmd, timeoutMs);
    if (s.spec.readinessProbe) {
      const probe = s.spec.readinessProbe;
      s.readiness = new ProbeWorker(
        'readiness',
        probe,
        () => runProbe(probe, ctx(), exec),
        (ok, detail) => {
          s.ready = ok;
          if (ok) s.everReady = true;
          s.probeDetail = detail;
          this.deps.log.debug('readiness changed', {
            replica: this.id,
            container: s.name,
            ready: ok,
            detail,
          });
          this.readyChanged();
        },
      );
      s.readiness.start();
    } else {
      s.ready = true;
      s.everReady = true;
      this.readyChanged();
    }
    if (s.spec.livenessProbe) {
      const probe = s.spec.livenessProbe;
      s.liveness = new ProbeWorker(
        'liveness',
        probe,
        () => runProbe(probe, ctx(), exec),
        (ok, detail) => {
          if (ok || !s.running || s.killing || !s.id) return;
          this.deps.log.info('liveness probe failed, restarting container', {
            replica: this.id,
            container: s.name,
            detail,
          });
          s.killing = true;
          const id = s.id;
          // The die event that follows applies the restart policy.
          void this.deps.driver.stopContainer(id, this.grace).catch((e: unknown) => {
            this.deps.log.warn('stopping unhealthy container failed', {
              container: s.name,
              error: errorMessage(e),
            });
          });
        },
      );
      s.liveness.start();
    }
  }

  private readyChanged(): void {
    if (!this.readyLogged && this.slots.every((x) => x.running && x.ready)) {
      this.readyLogged = true;
      this.deps.log.debug('replica ready', {
        replica: this.id,
        sinceAssigned: Math.round(performance.now() - this.since),
      });
    }
    this.deps.onChange(this.slots.every((x) => x.running && x.ready));
  }

  /** A container stopped on its own (crash, kill, liveness): apply the restart policy. */
  private exited(s: Slot, exitCode: number): void {
    if (!s.running || s.stopping) return;
    s.running = false;
    s.killing = false;
    s.ready = false;
    s.exitCode = exitCode;
    stopProbes(s);
    const ranFor = s.startedAt ? Date.now() - s.startedAt : 0;
    this.deps.log.info('container exited', {
      replica: this.id,
      container: s.name,
      exitCode,
      ranForMs: ranFor,
    });
    this.decideRestart(s, exitCode, ranFor);
    this.deps.onChange();
    this.kick();
  }

  private decideRestart(s: Slot, exitCode: number, ranFor: number): void {
    const policy = this.assignment?.restartPolicy ?? 'Never';
    if (this.terminating || !shouldRestart(policy, exitCode)) {
      s.terminal = true;
      s.restartAt = undefined;
      return;
    }
    s.terminal = false;
    const r = nextRestart(s.tracker, ranFor);
    s.tracker = r.tracker;
    s.restartAt = Date.now() + r.delayMs;
  }

  // ---- termination ----------------------------------------------------------------------------

  private async stepTerminate(): Promise<void> {
    for (const s of this.slots) stopProbes(s);
    const live = this.slots.filter((s) => s.id);
    if (live.length > 0) {
      if (this.drain > 0 && live.some((s) => s.running)) {
        // Keep serving while the control plane takes the replica out of its endpoints.
        this.deps.onChange();
        await sleepUnlessDetached(this.drain * 1000, () => this.detached);
        this.drain = 0;
        if (this.detached) return;
      }
      // Members first, then the network owner.
      for (const s of [...live].reverse()) s.stopping = true;
      await Promise.all(live.map((s) => this.deps.driver.stopContainer(s.id!, this.grace)));
      for (const s of [...live].reverse()) await this.deps.driver.removeContainer(s.id!);
      this.deps.log.debug('replica removed', { replica: this.id, containers: live.length });
    }
    this.slots = [];
    this.gone = true;
    if (this.wake) clearTimeout(this.wake.timer);
    this.deps.onChange();
    this.deps.onGone(this.id);
  }

  // ---- adoption and resync --------------------------------------------------------------------

  private planSlots(a: Assignment, previous: Slot[]): Slot[] {
    return planContainers(a, this.deps.node, this.deps.address).map((plan, i) => {
      const spec = a.containers[i]!;
      const old = previous.find((s) => s.name === plan.name);
      if (old && old.plan?.hash === plan.hash) {
        old.spec = spec;
        old.plan = plan;
        return old;
      }
      if (old?.id) {
        stopProbes(old);
        old.stopping = true;
        this.strays.push({
          id: old.id,
          name: plan.spec.name,
          labels: {},
          running: old.running,
          created: false,
          hostPorts: [],
        });
      }
      return newSlot(plan, spec);
    });
  }

  /** Takes over containers found on the engine: same container name and spec hash are kept, the rest go. */
  private adopt(found: ContainerInfo[]): void {
    const orphanSlots: Slot[] = [];
    for (const info of found.sort((x, y) => Number(y.running) - Number(x.running))) {
      const name = info.labels[LABEL_CONTAINER] ?? '';
      const slot = this.slots.find((s) => s.name === name);
      if (!this.assignment || this.terminating) {
        // Only to be stopped and removed.
        const s = newSlot(undefined, emptySpec(name));
        this.adoptInto(s, info);
        orphanSlots.push(s);
        continue;
      }
      if (slot && !slot.id && info.labels[LABEL_SPEC_HASH] === slot.plan?.hash) {
        this.adoptInto(slot, info);
        this.deps.log.info('adopted container', { replica: this.id, container: name, running: info.running });
      } else {
        this.strays.push(info);
      }
    }
    if (!this.assignment || this.terminating) {
      this.slots.push(...orphanSlots);
      return;
    }
    // A member whose owner was not adopted joined a namespace that no longer exists.
    const owner = this.slots[0];
    for (const s of this.slots.slice(1)) {
      if (s.id && (!owner?.id || s.networkFrom !== owner.id)) {
        this.strays.push({
          id: s.id,
          name: s.name,
          labels: {},
          running: s.running,
          created: false,
          hostPorts: [],
        });
        Object.assign(s, newSlot(s.plan, s.spec));
      }
    }
    for (const [i, s] of this.slots.entries()) {
      if (!s.id) continue;
      if (s.running) {
        if (i > 0) s.joinedStart = owner!.starts;
        // Probe at once: an adopted ready container is reported ready within milliseconds.
        if (i === 0 || owner?.running) this.startProbes(s);
      } else if (!s.created) {
        this.decideRestart(s, s.exitCode ?? -1, 0);
        // An adopted exited container restarts now (the backoff history died with the old agent).
        if (s.restartAt !== undefined) s.restartAt = Date.now();
      }
    }
  }

  private adoptInto(s: Slot, info: ContainerInfo): void {
    s.id = info.id;
    s.running = info.running;
    s.created = info.created;
    if (info.exitCode !== undefined) s.exitCode = info.exitCode;
    if (info.startedAt !== undefined) s.startedAt = info.startedAt;
    s.hostPorts = info.hostPorts;
    if (info.ip) s.ip = info.ip;
    if (info.networkFrom) s.networkFrom = info.networkFrom;
    if (s.running) s.starts = 1;
  }

  private async applyResync(infos: ContainerInfo[]): Promise<void> {
    this.pendingResync = undefined;
    for (const s of this.slots) {
      if (!s.id || s.stopping) continue;
      const info = infos.find((x) => x.id === s.id) ?? (await this.deps.driver.inspectContainer(s.id));
      if (!info) {
        // Removed behind the agent's back: create it again.
        this.exited(s, s.exitCode ?? -1);
        s.id = undefined;
        s.created = false;
        continue;
      }
      if (s.running && !info.running) {
        const full = info.exitCode === undefined ? await this.deps.driver.inspectContainer(s.id) : info;
        this.exited(s, full?.exitCode ?? -1);
      }
    }
    const known = new Set([...this.slots.map((s) => s.id), ...this.strays.map((s) => s.id)]);
    for (const info of infos) if (!known.has(info.id)) this.strays.push(info);
  }

  private async removeStrays(): Promise<void> {
    if (this.strays.length === 0) return;
    const strays = this.strays;
    this.strays = [];
    await Promise.all(
      strays.map(async (c) => {
        this.deps.log.info('removing stale container', { replica: this.id, container: c.name });
        await this.deps.driver.stopContainer(c.id, this.grace);
        await this.deps.driver.removeContainer(c.id);
      }),
    );
  }

  /** Stops and removes a slot's container so that it is created afresh. */
  private async discard(s: Slot): Promise<void> {
    stopProbes(s);
    s.stopping = true;
    await this.deps.driver.stopContainer(s.id!, this.grace);
    await this.deps.driver.removeContainer(s.id!);
    Object.assign(s, { ...newSlot(s.plan, s.spec), restartCount: s.restartCount + 1, tracker: s.tracker });
  }
}

function newSlot(plan: PlannedContainer | undefined, spec: AssignedContainer): Slot {
  return {
    name: spec.name,
    spec,
    plan,
    running: false,
    created: false,
    terminal: false,
    restartCount: 0,
    tracker: initialTracker,
    hostPorts: [],
    starts: 0,
    ready: false,
    everReady: false,
    stopping: false,
    killing: false,
    id: undefined,
    exitCode: undefined,
    networkFrom: undefined,
  };
}

function emptySpec(name: string): AssignedContainer {
  return { name, image: '', imagePullPolicy: 'IfNotPresent', env: [], ports: [], resources: {} };
}

function stopProbes(s: Slot): void {
  s.readiness?.stop();
  s.liveness?.stop();
  s.readiness = undefined;
  s.liveness = undefined;
}

function exitReason(s: Slot): string {
  if (s.oom) return 'OOMKilled';
  return s.exitCode === 0 ? 'Completed' : 'Error';
}

function graceFromLabels(found: ContainerInfo[]): number {
  for (const c of found) {
    const g = Number(c.labels[LABEL_GRACE]);
    if (Number.isInteger(g) && g >= 0) return g;
  }
  return 30;
}

function stableKey(a: Assignment | undefined): string {
  return a ? JSON.stringify(a) : '';
}

function sleepUnlessDetached(ms: number, detached: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const end = Date.now() + ms;
    const tick = () => {
      if (detached() || Date.now() >= end) return resolve();
      setTimeout(tick, Math.min(200, end - Date.now())).unref();
    };
    tick();
  });
}
