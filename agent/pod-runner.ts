import type { AssignedContainer, Assignment, HostPort, ReplicaStatus } from '../common/agent-protocol.ts';
import type { ContainerPolicy } from './container-defaults.ts';
import { diffListing, matchAdopted } from './container-match.ts';
import {
  type Advance,
  type ContainerDeps,
  ContainerRunner,
  ContainerStepError,
  MIN_GRACE_AFTER_PRESTOP,
} from './container-runner.ts';
import { type PlannedContainer, planContainers } from './container-spec.ts';
import type { ContainerEvent, ContainerInfo, CreateSpec, Driver } from './driver/driver.ts';
import { EngineUnavailableError } from './driver/driver.ts';
import type { ImagePuller } from './image-puller.ts';
import {
  type ContainerRole,
  ensureHolderImage,
  failedForGood,
  initProgress,
  letsNextStart,
  podMembers,
  restartPolicyOf,
} from './init-containers.ts';
import { LABEL_CONTAINER, LABEL_GRACE, LABEL_SPEC_HASH } from './labels.ts';
import { errorMessage, type Logger } from './log.ts';
import {
  defaultVolumeRoots,
  type Mounter,
  PodVolumes,
  systemMounter,
  type VolumeRoots,
} from './pod-volumes.ts';
import { backoffDelayMs } from './restart-tracker.ts';
import { runAsRootRefusal } from './security-context.ts';
import type { StartupRecord } from './startup-ledger.ts';

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
  /** Node-wide container settings (pids limit); default: DEFAULT_CONTAINER_POLICY. */
  containerPolicy?: ContainerPolicy;
  /** Where the pod's volumes go (default: defaultVolumeRoots), and what mounts their tmpfs. */
  volumeRoots?: VolumeRoots;
  mounter?: Mounter;
  /** The cluster DNS for a namespace's new containers (agent/services); undefined: the engine's. */
  containerDns?: (namespace: string) => CreateSpec['dns'];
  /** Which containers passed their startup probe, across agent restarts. */
  startups?: StartupRecord;
}

/** A container of this replica that must go: stale configuration, a duplicate, no longer in the pod. */
interface StrayContainer {
  id: string;
  name: string;
  reason: string;
}

/**
 * Runs one replica (a pod) on this node. Level-triggered: `step()` compares what should be with
 * what is and closes the gap; every event (assignment update, container death, timer) just kicks
 * it. Steps never overlap, and each is safe to re-run after a crash of the agent.
 *
 * Each container's lifecycle is a ContainerRunner (container-runner.ts); the pod holds what is
 * pod-wide, as ordered steps:
 *   running:     adopt or remove what the engine has → pull missing images → [init containers,
 *                one after another to completion] → containers in order, the network owner first
 *                (a member waits for a running owner; each waits for the postStart hook of the
 *                one before it) → report
 *   terminating: drain delay (still serving) → each container's preStop hook, within the grace
 *                period → SIGTERM to every container, SIGKILL when the grace the hook left is
 *                over → remove members, then the owner → gone
 * plus what a failed pull, create or start leaves on the replica (Failed, retried with back-off),
 * and a runtime that does not answer (waited for, counted against nothing).
 *
 * An assignment with a `configError` (a secret or key the pod names does not exist) cannot
 * configure the pod: nothing is pulled or created, and the replica is Pending with
 * `CreateContainerConfigError: <reason>` until an assignment comes without it. Containers already
 * made are kept as they were made (a secret deleted later stops nothing, as in Kubernetes), and
 * restarts of them go on.
 */
export class PodRunner {
  private assignment: Assignment | undefined;
  private containers: ContainerRunner[] = [];
  /** What each container is to the pod (init-containers.ts); absent: an app container. */
  private readonly roles = new WeakMap<ContainerRunner, ContainerRole>();
  /** Every app container exited for good: sidecars and the holder were stopped, and stay so. */
  private finished = false;
  /** While the pod terminates: the grace its app containers left to the sidecars (seconds). */
  private sidecarGrace: number | undefined;
  /** Containers of this replica that must go: stale configuration, duplicates, removed containers. */
  private strays: StrayContainer[] = [];
  private terminating: boolean;
  private gone = false;
  private pulling = false;
  /** runAsNonRoot and an image that runs as root: the kubelet's reason, and nothing is created. */
  private rootRefusal: string | undefined;
  private error: { message: string; retryAt: number; attempts: number } | undefined;
  /** Evicted (an emptyDir past its sizeLimit): its containers stopped for good, until the controller replaces it. */
  private evicted: string | undefined;
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
  private readonly containerDeps: ContainerDeps;
  private readonly volumes: PodVolumes;

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
    this.volumes = new PodVolumes(
      {
        roots: deps.volumeRoots ?? defaultVolumeRoots(deps.node),
        mounter: deps.mounter ?? systemMounter,
        log: deps.log,
      },
      id,
    );
    this.containerDeps = {
      driver: deps.driver,
      log: deps.log,
      replica: id,
      since: this.since,
      restartPolicy: () => (this.terminating ? undefined : (this.assignment?.restartPolicy ?? 'Never')),
      graceSeconds: () => this.grace,
      podNetwork: () => {
        const owner = this.containers[0];
        return {
          hostPorts: owner?.hostPorts ?? [],
          address: deps.address,
          ...(owner?.ip ? { podIp: owner.ip } : {}),
        };
      },
      onReadyChanged: () => this.readyChanged(),
      onExited: () => {
        this.deps.onChange();
        this.kick();
      },
      onStarted: () => {
        this.deps.onChange();
        this.kick();
      },
      onChange: () => this.deps.onChange(),
      ...(deps.startups ? { startups: deps.startups } : {}),
    };
    if (assignment && !this.terminating) this.containers = this.replan(assignment, []);
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
      // A changed container configuration replaces that container; the rest keep running. An
      // assignment that cannot configure the pod replaces nothing already made.
      if (!this.keepsMade(a)) this.containers = this.replan(a, this.containers);
      if (prev && prev.restartPolicy !== a.restartPolicy) for (const c of this.containers) c.policyChanged();
    }
    this.error = undefined;
    this.deps.onChange();
    this.kick();
  }

  /** `a` cannot configure the pod, and some of its containers exist: those stay as they were made. */
  private keepsMade(a: Assignment): boolean {
    return a.configError !== undefined && this.containers.some((c) => c.containerId !== undefined);
  }

  /** The assignment it runs now (undefined: only found on the node). */
  current(): Assignment | undefined {
    return this.evicted || this.terminating ? undefined : this.assignment;
  }

  /**
   * Evicts the replica, as the kubelet does a pod past a limit: its containers are stopped and not
   * restarted, and it reports Failed with `message` until the controller tells it to stop.
   */
  evict(message: string): void {
    if (this.evicted || this.terminating || this.gone) return;
    this.evicted = message;
    this.deps.log.warn('replica evicted', { replica: this.id, reason: message });
    this.deps.onChange(true);
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
    const c = this.containers.find((x) => x.containerId === e.id);
    if (!c) return;
    if (e.action === 'oom') c.oomKilled();
    else if (e.action === 'die') c.died(e.exitCode ?? -1);
    else if (e.action === 'destroy') c.vanished();
  }

  /** The engine's view of this replica's containers, from a periodic or reconnect listing. */
  resync(infos: ContainerInfo[]): void {
    this.pendingResync = infos;
    this.kick();
  }

  /** Containers whose logs a log request reads, in pod order. */
  logTargets(): { name: string; id: string }[] {
    return this.containers.flatMap((c) =>
      c.containerId && this.roleOf(c) !== 'holder' ? [{ name: c.name, id: c.containerId }] : [],
    );
  }

  /** Stop timers and probes but leave containers as they are (the agent is shutting down). */
  async detach(): Promise<void> {
    this.detached = true;
    if (this.wake) clearTimeout(this.wake.timer);
    this.wake = undefined;
    for (const c of this.containers) c.stopProbes();
    await this.loop;
  }

  /**
   * The pod's address on its namespace network and its published ports: the node's service proxy
   * reaches a local endpoint there, without the engine's port publisher in between.
   */
  localEndpoint(): LocalEndpoint | undefined {
    const owner = this.containers[0];
    return owner?.ip ? { ip: owner.ip, hostPorts: owner.hostPorts } : undefined;
  }

  status(): ReplicaStatus | undefined {
    const s = this.observe();
    // The protocol caps messages (registry errors can be long).
    if (s?.message && s.message.length > 4096) s.message = `${s.message.slice(0, 4093)}...`;
    return s;
  }

  private observe(): ReplicaStatus | undefined {
    if (this.gone) return undefined;
    const all = this.containers;
    // The network holder is the pod's own business: it is not shown.
    const cs = all.filter((c) => this.roleOf(c) === 'app');
    const inits = all.filter((c) => ['init', 'sidecar'].includes(this.roleOf(c)));
    const progress = initProgress(inits.map((c) => ({ role: this.roleOf(c), gate: c })));
    const waitingReason = this.pulling ? 'Pulling' : this.error ? 'Error' : 'ContainerCreating';
    // Containers the assignment cannot configure (a missing secret) wait for it, not for the engine.
    const configError = this.assignment?.configError ?? this.rootRefusal;
    const unconfigured = (c: ContainerRunner) => configError !== undefined && c.state.kind === 'waiting';
    const podPorts = all[0]?.hostPorts ?? [];
    const statusOf = (c: ContainerRunner, reason: string) =>
      c.status(podPorts, unconfigured(c) ? 'CreateContainerConfigError' : reason);
    // App containers wait for the init containers first, as Kubernetes says.
    const containers = cs.map((c) => statusOf(c, progress ? 'PodInitializing' : waitingReason));
    const counted = this.counted();
    const ready = !this.terminating && !progress && counted.length > 0 && counted.every((c) => c.ready);
    const base = {
      id: this.id,
      ready,
      containers,
      ...(inits.length > 0 ? { initContainers: inits.map((c) => statusOf(c, waitingReason)) } : {}),
    };
    if (this.terminating) return { ...base, phase: 'Terminating' };
    if (this.evicted) return { ...base, ready: false, phase: 'Failed', message: this.evicted };
    const configMessage = all.some(unconfigured) ? `CreateContainerConfigError: ${configError}` : undefined;
    if (configMessage && all.every(unconfigured))
      return { ...base, phase: 'Pending', message: configMessage };
    if (this.error) return { ...base, phase: 'Failed', message: this.error.message };
    if (this.pulling) return { ...base, phase: 'Pulling' };
    // An init container that failed and is not restarted (restartPolicy Never) fails the pod.
    const initFailed = inits.find((c) => this.roleOf(c) === 'init' && failedForGood(c.state));
    if (initFailed?.state.kind === 'exited')
      return {
        ...base,
        phase: 'Failed',
        message: `Init:Error: init container ${initFailed.name} exited with code ${initFailed.state.exitCode}`,
      };
    if (cs.length > 0 && cs.every((c) => c.state.kind === 'exited' && c.state.restartAt === undefined)) {
      const failed = cs.find((c) => c.state.kind === 'exited' && c.state.exitCode !== 0);
      return failed?.state.kind === 'exited'
        ? {
            ...base,
            phase: 'Failed',
            message: `container ${failed.name} exited with code ${failed.state.exitCode}`,
          }
        : { ...base, phase: 'Succeeded' };
    }
    const detail = this.backOffMessage() ?? this.unreadyMessage();
    const message = configMessage ?? (progress ? [progress, detail].filter(Boolean).join(': ') : detail);
    const running = !progress && counted.every((c) => c.everReady);
    const shown = this.engineWait ? `waiting for the container runtime: ${this.engineWait.message}` : message;
    return { ...base, phase: running ? 'Running' : 'Starting', ...(shown ? { message: shown } : {}) };
  }

  private backOffMessage(): string | undefined {
    for (const c of this.containers) {
      const s = c.state;
      if (s.kind !== 'exited' || s.restartAt === undefined || s.exitCode === undefined) continue;
      const seconds = Math.max(0, Math.round((s.restartAt - Date.now()) / 1000));
      return `back-off ${seconds}s restarting failed container ${c.name} (exit code ${s.exitCode})`;
    }
    return undefined;
  }

  private unreadyMessage(): string | undefined {
    for (const c of this.containers) {
      const s = c.state;
      if (s.kind === 'running' && !s.ready && s.probeDetail)
        return `readiness probe of ${c.name} failed: ${s.probeDetail}`;
    }
    return undefined;
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
    if (this.evicted) {
      for (const c of this.containers) c.stopProbes();
      await Promise.all(this.containers.filter((c) => c.running).map((c) => c.stop()));
      return;
    }
    const a = this.assignment!;
    const now = Date.now();
    if (this.engineWait && this.engineWait.retryAt > now) return this.scheduleWake(this.engineWait.retryAt);
    if (this.error && this.error.retryAt > now) return this.scheduleWake(this.error.retryAt);

    // An assignment that cannot configure the pod creates nothing (and pulls nothing for it).
    let blocked = a.configError !== undefined;
    // Volumes before any container; an assignment that cannot configure the pod leaves them as made.
    if (!blocked && !(await this.prepareVolumes(a))) return;
    const toCreate = this.containers.filter((c) => c.state.kind === 'waiting');
    if (toCreate.length > 0 && !blocked && !(await this.ensureImages(a, toCreate))) return;
    if (await this.refuseRoot(blocked ? [] : toCreate)) blocked = true;

    // In order; an init container holds back the ones after it until it succeeded (a sidecar:
    // until it started), so no app container starts before every init container is through.
    for (let i = 0; i < this.containers.length; i++) {
      if (this.detached || this.terminating) return;
      const c = this.containers[i]!;
      if (blocked && c.state.kind === 'waiting') continue;
      if (this.finished && this.roleOf(c) !== 'app') continue; // the pod is done: they stay stopped
      let next: Advance;
      try {
        next = await c.advance(i > 0 ? this.containers[0] : undefined);
      } catch (e) {
        // Any other call the engine did not answer (a stop, an inspection) is waited for too.
        if (e instanceof EngineUnavailableError) return this.fail(`${c.name}: ${e.message}`, e);
        if (!(e instanceof ContainerStepError)) throw e;
        this.fail(e.message, e.cause);
        // Nothing after a container that could not be created; a failed start lets the others go on
        // (unless it is an init container they wait for).
        if (e.stage === 'create' || !letsNextStart(this.roleOf(c), c)) return;
        continue;
      }
      if (next.blocked) break; // members join a running owner
      if (next.wakeAt !== undefined) this.scheduleWake(next.wakeAt);
      if (next.started && (this.error || this.engineWait)) {
        this.error = undefined;
        this.engineWait = undefined;
        this.deps.onChange();
      }
      if (!letsNextStart(this.roleOf(c), c)) break;
    }
    await this.stopSidecarsWhenDone();
  }

  /**
   * The kubelet's runAsNonRoot check (security-context.ts), once the images are on the node; true:
   * a container would run as root, so none is created and the replica is Pending with the reason.
   */
  private async refuseRoot(toCreate: ContainerRunner[]): Promise<boolean> {
    const refusal = await runAsRootRefusal(
      this.deps.driver,
      this.id,
      toCreate.map((c) => c.spec),
    );
    if (refusal !== this.rootRefusal) {
      if (refusal) this.deps.log.warn('container refused', { replica: this.id, reason: refusal });
      this.rootRefusal = refusal;
      this.deps.onChange();
    }
    // Checked again now and then, as the kubelet does: another image may come under the same tag.
    if (refusal) this.scheduleWake(Date.now() + 10_000);
    return refusal !== undefined;
  }

  /** Makes the pod's volumes and writes their files (pod-volumes.ts). false: failed, retry scheduled. */
  private async prepareVolumes(a: Assignment): Promise<boolean> {
    try {
      await this.volumes.prepare({ volumes: a.volumes, containers: podMembers(a).map((m) => m.spec) });
      return true;
    } catch (e) {
      this.fail(`failed to prepare volumes: ${errorMessage(e)}`, e);
      return false;
    }
  }

  /**
   * Kubernetes' end of a pod whose app containers all exited for good (restartPolicy Never or
   * OnFailure): its sidecars stop, in reverse order, and nothing restarts them; the holder last.
   */
  private async stopSidecarsWhenDone(): Promise<void> {
    if (this.finished) return;
    const apps = this.containers.filter((c) => this.roleOf(c) === 'app');
    if (apps.length === 0 || !apps.every((c) => c.state.kind === 'exited' && c.state.restartAt === undefined))
      return;
    const rest = this.containers.filter((c) => this.roleOf(c) !== 'app' && c.containerId).reverse();
    if (rest.length === 0) return;
    this.finished = true;
    for (const c of rest) if (c.running) await this.deps.driver.stopContainer(c.containerId!, this.grace);
  }

  /** Pulls what is missing. false: not all images are there (error recorded, retry scheduled). */
  private async ensureImages(a: Assignment, containers: ContainerRunner[]): Promise<boolean> {
    try {
      await Promise.all(
        containers.map((c) =>
          this.roleOf(c) === 'holder'
            ? ensureHolderImage(this.deps.driver)
            : this.deps.images.ensure(c.spec.image, c.spec.imagePullPolicy, a.imagePullAuth, () => {
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
    // The runtime answered, if only with an error.
    this.engineWait = undefined;
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

  private readyChanged(): void {
    const ready = this.counted().every((c) => c.ready);
    if (!this.readyLogged && ready) {
      this.readyLogged = true;
      this.deps.log.debug('replica ready', {
        replica: this.id,
        sinceAssigned: Math.round(performance.now() - this.since),
      });
    }
    this.deps.onChange(ready);
    // A sidecar past its startup probe lets the containers after it start.
    if (this.containers.some((c) => this.roleOf(c) === 'sidecar')) this.kick();
  }

  // ---- termination ----------------------------------------------------------------------------

  private async stepTerminate(): Promise<void> {
    for (const c of this.containers) c.stopProbes();
    const live = this.containers.filter((c) => c.containerId);
    if (live.length > 0) {
      if (this.drain > 0 && live.some((c) => c.running && this.roleOf(c) !== 'holder')) {
        // Keep serving while the control plane takes the replica out of its endpoints.
        this.deps.onChange();
        await sleepUnlessDetached(this.drain * 1000, () => this.detached);
        this.drain = 0;
        if (this.detached) return;
      }
      // Each container's preStop hook, then its SIGTERM (container-runner.ts): app and init
      // containers at once; then sidecars one at a time in reverse order, since they serve the
      // app containers to the end (Kubernetes); the network holder last. The pod's grace is one
      // budget, as the kubelet's: each sidecar gets what is left of it (at least the minimum).
      const deadline = Date.now() + this.grace * 1000;
      const after = live.filter((c) => ['sidecar', 'holder'].includes(this.roleOf(c))).reverse();
      await Promise.all(live.filter((c) => !after.includes(c)).map((c) => c.stop()));
      for (const c of after) {
        const left = Math.ceil((deadline - Date.now()) / 1000);
        this.sidecarGrace = Math.min(this.grace, Math.max(MIN_GRACE_AFTER_PRESTOP, left));
        await c.stop();
      }
      // Members first, then the network owner.
      for (const c of [...live].reverse()) await c.remove();
      this.deps.log.debug('replica removed', { replica: this.id, containers: live.length });
    }
    // The volumes live and die with the replica: gone once no container of it is left.
    await this.volumes
      .remove()
      .catch((e) =>
        this.deps.log.warn('removing volumes failed', { replica: this.id, error: errorMessage(e) }),
      );
    this.containers = [];
    this.gone = true;
    if (this.wake) clearTimeout(this.wake.timer);
    this.deps.onChange();
    this.deps.onGone(this.id);
  }

  // ---- adoption and resync --------------------------------------------------------------------

  /** The containers of `a` in order, keeping those of `previous` whose configuration is unchanged. */
  private replan(a: Assignment, previous: ContainerRunner[]): ContainerRunner[] {
    // Init containers and the network holder are planned as containers are (the same mounts, the
    // same defaults), in the order they start.
    const members = podMembers(a);
    const pod = { ...a, containers: members.map((m) => m.spec) };
    const planned = planContainers(
      pod,
      this.deps.node,
      this.deps.address,
      this.deps.containerPolicy,
      this.deps.volumeRoots,
      this.deps.containerDns?.(a.namespace),
    );
    const next = planned.map((plan, i) => {
      const { spec, role } = members[i]!;
      const old = previous.find((c) => c.name === plan.name);
      if (old && old.plan?.hash === plan.hash && this.roleOf(old) === role) {
        old.spec = spec;
        old.plan = plan;
        return old;
      }
      return this.newContainer(plan, spec, role);
    });
    for (const old of previous) {
      if (next.includes(old)) continue;
      const id = old.release();
      const reason = planned.some((p) => p.name === old.name) ? 'stale configuration' : 'not in the pod';
      if (id) this.strays.push({ id, name: old.plan?.spec.name ?? old.name, reason });
    }
    return next;
  }

  private newContainer(
    plan: PlannedContainer | undefined,
    spec: AssignedContainer,
    role: ContainerRole = 'app',
  ): ContainerRunner {
    const deps: ContainerDeps =
      role === 'app'
        ? this.containerDeps
        : {
            ...this.containerDeps,
            graceSeconds: () => this.sidecarGrace ?? this.grace,
            restartPolicy: () =>
              this.terminating || this.finished
                ? undefined
                : restartPolicyOf(role, this.assignment?.restartPolicy ?? 'Never'),
          };
    const c = new ContainerRunner(deps, plan, spec);
    this.roles.set(c, role);
    return c;
  }

  private roleOf(c: ContainerRunner): ContainerRole {
    return this.roles.get(c) ?? 'app';
  }

  /** The containers whose readiness is the pod's: app containers and sidecars. */
  private counted(): ContainerRunner[] {
    return this.containers.filter((c) => {
      const role = this.roleOf(c);
      return role === 'app' || role === 'sidecar';
    });
  }

  /** Takes over containers found on the engine that match the plan (container-match.ts); the rest go. */
  private adopt(found: ContainerInfo[]): void {
    if (!this.assignment || this.terminating) {
      // Only to be stopped and removed, running ones first.
      for (const info of [...found].sort((x, y) => Number(y.running) - Number(x.running))) {
        const c = this.newContainer(undefined, emptySpec(info.labels[LABEL_CONTAINER] ?? ''));
        c.adopt(info, undefined);
        this.containers.push(c);
      }
      return;
    }
    const plans = this.containers.flatMap((c) => (c.plan ? [c.plan] : []));
    // An assignment that cannot configure the pod keeps what was made, whatever its configuration.
    const keepAny = this.assignment.configError !== undefined;
    const { adopted, strays } = matchAdopted(plans, found, keepAny);
    for (const s of strays)
      this.strays.push({ id: s.container.id, name: s.container.name, reason: s.reason });
    const owner = this.containers[0];
    for (const [i, c] of this.containers.entries()) {
      const info = adopted.get(c.name);
      if (!info) continue;
      // Known by the configuration it was made with: an assignment that names it again keeps it.
      const madeWith = info.labels[LABEL_SPEC_HASH];
      if (keepAny && c.plan && madeWith) c.plan = { ...c.plan, hash: madeWith };
      c.adopt(info, i > 0 ? owner : undefined);
      this.deps.log.info('adopted container', { replica: this.id, container: c.name, running: info.running });
      // Probe at once: an adopted ready container is reported ready within milliseconds.
      if (c.running && (i === 0 || owner?.running)) c.startProbes();
    }
  }

  private async applyResync(infos: ContainerInfo[]): Promise<void> {
    this.pendingResync = undefined;
    const tracked: { id: string; running: boolean }[] = [];
    const removing = new Set(this.strays.map((s) => s.id));
    for (const c of this.containers) {
      const id = c.containerId;
      if (!id) continue;
      if (c.state.kind === 'stopping') removing.add(id);
      else tracked.push({ id, running: c.running });
    }
    const diff = diffListing(tracked, removing, infos);
    // The listing may predate a start this pod made since (e.g. while dockerd came back): only the
    // engine's answer now, inside the step, says a container died or vanished.
    for (const id of [...diff.unlisted, ...diff.stopped]) {
      const info = await this.deps.driver.inspectContainer(id);
      const c = this.containers.find((x) => x.containerId === id);
      if (!c || c.state.kind === 'stopping') continue;
      // Removed behind the agent's back: create it again.
      if (!info) c.vanished();
      else if (!info.running) c.died(info.exitCode ?? -1);
    }
    for (const info of diff.strays) this.strays.push({ id: info.id, name: info.name, reason: 'not tracked' });
  }

  private async removeStrays(): Promise<void> {
    if (this.strays.length === 0) return;
    const strays = this.strays;
    this.strays = [];
    await Promise.all(
      strays.map(async (c) => {
        this.deps.log.info('removing stale container', {
          replica: this.id,
          container: c.name,
          reason: c.reason,
        });
        await this.deps.driver.stopContainer(c.id, this.grace);
        await this.deps.driver.removeContainer(c.id);
      }),
    );
  }
}

function emptySpec(name: string): AssignedContainer {
  return { name, image: '', imagePullPolicy: 'IfNotPresent', env: [], ports: [], resources: {} };
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

export interface LocalEndpoint {
  ip: string;
  hostPorts: readonly HostPort[];
}
