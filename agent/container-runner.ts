import type { AssignedContainer, ContainerStatus, HostPort } from '../common/agent-protocol.ts';
import type { Probe } from '../common/deployment.ts';
import { isSameContainer } from './container-match.ts';
import type { PlannedContainer } from './container-spec.ts';
import { type ContainerInfo, type Driver, NameConflictError } from './driver/driver.ts';
import { type HookOutcome, NO_DEADLINE_MS, runHook } from './hooks.ts';
import { errorMessage, type Logger } from './log.ts';
import { type ProbeContext, ProbeWorker, runProbe } from './probes.ts';
import {
  initialTracker,
  nextRestart,
  type RestartPolicy,
  type RestartTracker,
  shouldRestart,
} from './restart-tracker.ts';
import type { StartupRecord } from './startup-ledger.ts';

/*
 * One container of a pod, from its plan to its removal.
 *
 *                     adopt (found on the engine, matching the plan)
 *          ┌──────────────────┬────────────────────┬────────────────────┐
 *          │                  ▼                    ▼                    ▼
 *     ┌─────────┐ create ┌─────────┐  start  ┌─────────┐  dies  ┌────────┐
 *     │ Waiting │───────►│ Created │────────►│ Running │───────►│ Exited │ restartAt unset:
 *     └─────────┘        └─────────┘         └─────────┘◄───────└────────┘ it stays (policy)
 *       ▲    ▲  │         │     │ start        ▲    │   restart, after   │
 *       │    │  │         │     ▼              │    │   back-off         │
 *       │    │  │         │ ┌───────────┐      │    │                    │
 *       │    │  │         │ │ PostStart │──────┘    │                    │
 *       │    │  │         │ └───────────┘ hook      │                    │
 *       │    │  │         │       │       returned  │                    │
 *       │    │  │         │ stop  │ stop            │ stop               │ stop
 *       │    │  │         ▼       ▼                 ▼                    ▼
 *       │    │  │        ┌──────────────────────────────────────────────────────┐
 *       │    │  │        │ Stopping: the agent stops it; its death is expected. │
 *       │    │  │        │ preStop hook (if it had started) → SIGTERM → SIGKILL │
 *       │    │  │        │ when the grace the hook left is over.                │
 *       │    │  │        │ Its purpose says what follows:                       │
 *       │    │  │        │   rejoin   → Exited, restarted at once in the        │
 *       │    │  │        │              owner's new namespace                   │
 *       │    └──┼────────│   recreate → removed, made afresh                    │
 *       │       │        │   remove   → Removed                                 │
 *       │       │        └──────────────────────────┬───────────────────────────┘
 *       │       │ released before it was created    ▼
 *       │       └───────────────────────────► ┌─────────┐
 *       │                                     │ Removed │
 *       │ vanished (from Created or Exited;   └─────────┘
 *       └─ Running exits first)
 *
 * "Vanished" is a container removed behind the agent's back (a destroy event or a listing without
 * it): it is created again.
 *
 * Lifecycle hooks are steps of these states, as the kubelet runs them: postStart is the PostStart
 * state (started, not yet Running: not probed, reported waiting, and the pod's later containers
 * wait for it; a failure kills the container and the restart policy decides); preStop is the first
 * step of every stop of a started container (Stopping, and the kill a failed probe or postStart
 * asks for), taken from the grace before SIGKILL, with at least MIN_GRACE_AFTER_PRESTOP left.
 * PostStart is entered by any start of a container that has the hook (an Exited one's restart
 * too) and left for Running when the hook returns, or for Exited when the container dies (a
 * failed hook kills it), or for Stopping.
 *
 * The restart policy and CrashLoopBackOff are restart-tracker.ts's; the probes are probes.ts's. What is pod-wide (image pulls, the order of containers, the error a
 * failed create or start leaves on the replica, the drain before termination) is pod-runner.ts's.
 *
 * Network namespaces: the pod's first container (the owner) has its own; the others (members) are
 * created with the owner's id and join it. A member remembers which start of the owner it joined,
 * so that when the owner restarts (a new namespace) the member restarts to join the new one, and
 * when the owner is replaced (a new container) the member is recreated.
 */

/**
 * The least grace SIGTERM gets after a preStop hook, however long the hook took (the kubelet's
 * minimum): a hook that used the whole grace does not turn the stop into a SIGKILL.
 */
export const MIN_GRACE_AFTER_PRESTOP = 2;

/** A container that exists on the engine. */
interface OnEngine {
  id: string;
  /** For a member: the owner's container whose network namespace it joined. */
  networkFrom: string | undefined;
}

/** Nothing on the engine yet: its image and a create come next. */
export interface Waiting {
  kind: 'waiting';
}

/** Created and never started (also an adopted one that an earlier agent did not get to start). */
export interface Created extends OnEngine {
  kind: 'created';
}

export interface Running extends OnEngine {
  kind: 'running';
  /** Epoch ms; a run of 10 minutes resets the back-off. Unknown for some adopted containers. */
  startedAt: number | undefined;
  /** For a member: the start of the owner whose namespace it joined; undefined when unknown. */
  joinedStart: number | undefined;
  /**
   * Its published ports and address were read since this start (the owner's are the pod's, and the
   * engine picks new host ports on each start). Until then it is not probed, and members wait.
   */
  networkRead: boolean;
  /** Passes its readiness probe now (or has none). */
  ready: boolean;
  /** Has been ready since this start: its pod counts as Running rather than Starting. */
  everReady: boolean;
  /** Past its startup probe (or without one) since this start: a sidecar lets the next container start. */
  started: boolean;
  /** Why the readiness probe last failed. */
  probeDetail: string | undefined;
  /** The engine reported it out of memory; its exit will say OOMKilled. */
  oom: boolean;
  /**
   * A failed liveness or startup probe asked for a kill (its preStop hook, then the engine's stop),
   * resolving to the grace the hook left; its death is a crash like any other.
   */
  killing: Promise<number> | undefined;
  /** Until its first success, readiness and liveness wait (neither worker exists meanwhile). */
  startup: ProbeWorker | undefined;
  readiness: ProbeWorker | undefined;
  liveness: ProbeWorker | undefined;
}

export interface Exited extends OnEngine {
  kind: 'exited';
  /** Unknown when the agent stopped it itself (to rejoin the owner). */
  exitCode: number | undefined;
  oom: boolean;
  /** When it starts again (CrashLoopBackOff); undefined: the restart policy keeps it exited. */
  restartAt: number | undefined;
}

/**
 * Started, its postStart hook running. Not Running until the hook returns: not probed, reported
 * waiting, and the pod's later containers wait (the kubelet starts them one after another).
 */
export interface PostStart extends OnEngine {
  kind: 'postStart';
  startedAt: number;
  joinedStart: number | undefined;
  /** As Running's: the owner's ports and address are read before its hook runs (an httpGet needs them). */
  networkRead: boolean;
  oom: boolean;
  /** Aborted when it leaves this state: the hook's outcome matters no more. */
  hook: AbortController;
  /** The hook failed: a kill under way, as Running's. */
  killing: Promise<number> | undefined;
}

/** The agent is stopping it; `purpose` says what comes after, so a stop cut short can be finished. */
export interface Stopping extends OnEngine {
  kind: 'stopping';
  purpose: 'rejoin' | 'recreate' | 'remove';
  /** It was running when the stop began: reported running (not ready) until it is gone. */
  wasRunning: boolean;
  /**
   * Its preStop hook: `due` for a started container (Running or PostStart) whose stop has not
   * begun, then the hook under way or done, resolving to the grace it left before SIGKILL (a stop
   * retried after the engine failed to answer does not run it twice); `none`: nothing to run.
   */
  preStop: 'none' | 'due' | Promise<number>;
}

export interface Removed {
  kind: 'removed';
}

export type ContainerState = Waiting | Created | PostStart | Running | Exited | Stopping | Removed;
export type ContainerStateKind = ContainerState['kind'];

/** The transitions of the diagram above; anything else is a defect and throws. */
export const TRANSITIONS: Readonly<Record<ContainerStateKind, readonly ContainerStateKind[]>> = {
  waiting: ['created', 'running', 'exited', 'removed'],
  created: ['postStart', 'running', 'stopping', 'waiting'],
  postStart: ['running', 'exited', 'stopping'],
  running: ['exited', 'stopping'],
  exited: ['postStart', 'running', 'stopping', 'waiting'],
  stopping: ['exited', 'waiting', 'removed'],
  removed: [],
};

export interface ContainerDeps {
  driver: Driver;
  log: Logger;
  /** The replica, for logs. */
  replica: string;
  /** performance.now() when the replica was assigned, for timing logs. */
  since: number;
  /** The restart policy in force; undefined while the pod terminates (nothing restarts then). */
  restartPolicy(): RestartPolicy | undefined;
  /** terminationGracePeriodSeconds: SIGKILL this long after SIGTERM. */
  graceSeconds(): number;
  /** Where the pod's ports are reachable (the owner's published ports and address). */
  podNetwork(): Omit<ProbeContext, 'ports'>;
  /** Its readiness changed. */
  onReadyChanged(): void;
  /** It died or vanished by itself: the pod reports it and steps again. */
  onExited(): void;
  /** Its postStart hook returned: it runs, and the pod steps again (the containers after it may start). */
  onStarted(): void;
  /** Something a status report shows changed. */
  onChange(): void;
  /** Which containers passed their startup probe, across agent restarts (none kept: undefined). */
  startups?: StartupRecord;
}

/** A create or start the engine refused; the pod reports it and retries with back-off. */
export class ContainerStepError extends Error {
  constructor(
    readonly stage: 'create' | 'start',
    message: string,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'ContainerStepError';
  }
}

/** What one step of a container asks of its pod. */
export interface Advance {
  /** A member waits for its owner to run: the containers after it wait too. */
  blocked?: true;
  /** Step again at this time (a restart in back-off). */
  wakeAt?: number;
  /** The container was started: the pod's last failure is over. */
  started?: true;
}

export class ContainerRunner {
  private current: ContainerState = { kind: 'waiting' };
  restartCount = 0;
  private tracker: RestartTracker = initialTracker;
  /** Starts seen by this agent (1 for one adopted running): members compare it to rejoin. */
  private starts = 0;
  /** The container's published ports and address, as last inspected (the owner's are the pod's). */
  hostPorts: HostPort[] = [];
  ip: string | undefined;

  constructor(
    private readonly deps: ContainerDeps,
    /**
     * Absent for a container found without an assignment: it is only stopped and removed. The pod
     * updates plan and spec in place when an assignment changes nothing of the hashed configuration.
     */
    public plan: PlannedContainer | undefined,
    public spec: AssignedContainer,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get state(): Readonly<ContainerState> {
    return this.current;
  }

  /** The engine's id of the container, while there is one. */
  get containerId(): string | undefined {
    const s = this.current;
    return onEngine(s) ? s.id : undefined;
  }

  get running(): boolean {
    return this.current.kind === 'running';
  }

  get ready(): boolean {
    return this.current.kind === 'running' && this.current.ready;
  }

  get everReady(): boolean {
    return this.current.kind === 'running' && this.current.everReady;
  }

  /** Running, its postStart hook done and its startup probe passed (or none). */
  get started(): boolean {
    return this.current.kind === 'running' && this.current.started;
  }

  /** Running with its network known: members may join it. */
  get joinable(): boolean {
    return this.current.kind === 'running' && this.current.networkRead;
  }

  // ---- the pod's steps ------------------------------------------------------------------------

  /**
   * One step towards running: create, start, restart when the back-off is over, or follow the
   * owner's namespace. `owner` is the pod's first container, absent for the owner itself.
   * Rejects with ContainerStepError when the engine refuses a create or start.
   */
  async advance(owner: ContainerRunner | undefined): Promise<Advance> {
    const begun = this.current;
    if (begun.kind === 'stopping' && begun.purpose !== 'remove') {
      // A stop cut short (the engine did not answer): finish it.
      await this.halt(begun.purpose);
    }
    if (owner) {
      const member = this.current;
      // Joined an owner that was replaced: its namespace is gone, recreate.
      if (onEngine(member) && member.networkFrom !== owner.containerId) await this.halt('recreate');
      if (!owner.joinable) return { blocked: true };
    }
    const s = this.current;
    switch (s.kind) {
      case 'waiting':
        await this.create(owner?.containerId);
        return started(await this.start(owner, false));
      case 'created':
        return started(await this.start(owner, false));
      case 'postStart':
        // The engine did not answer right after the start: read the ports, then run the hook.
        if (!s.networkRead) await this.readNetwork(s);
        return { blocked: true };
      case 'running':
        if (!s.networkRead) {
          // The engine did not answer right after the start: read the ports now.
          await this.readNetwork(s);
          return { started: true };
        }
        if (owner && s.joinedStart !== owner.starts) {
          // The owner restarted with a fresh namespace: restart to join it.
          await this.halt('rejoin');
          return started(await this.start(owner, true));
        }
        return {};
      case 'exited':
        if (s.restartAt === undefined) return {};
        if (s.restartAt > Date.now()) return { wakeAt: s.restartAt };
        return started(await this.start(owner, true));
      case 'stopping':
      case 'removed':
        return {};
    }
  }

  /**
   * Takes over a container found on the engine at start-up. A running member is taken to have
   * joined the owner's current start (`owner`: the pod's first container, absent for the owner).
   */
  adopt(info: ContainerInfo, owner: ContainerRunner | undefined): void {
    this.takeOver(info, owner?.starts);
  }

  private takeOver(info: ContainerInfo, joinedStart: number | undefined): void {
    const base = { id: info.id, networkFrom: info.networkFrom };
    this.hostPorts = info.hostPorts;
    if (info.ip) this.ip = info.ip;
    if (info.running) {
      this.starts = 1;
      this.move(runningState(base, info.startedAt, joinedStart, true));
    } else if (info.created) {
      this.move({ kind: 'created', ...base });
    } else {
      // An adopted exited container restarts now: the back-off history died with the old agent.
      const restart = this.restartDecision(info.exitCode ?? -1, 0);
      this.move({
        kind: 'exited',
        ...base,
        exitCode: info.exitCode,
        oom: info.oomKilled ?? false,
        restartAt: restart === undefined ? undefined : Date.now(),
      });
    }
  }

  /**
   * Starts its probes (a running container): the startup probe first when it has one, readiness
   * and liveness once that succeeded (Kubernetes). One without a readiness probe is ready as soon
   * as it has started.
   */
  startProbes(): void {
    const s = this.current;
    if (s.kind !== 'running') return;
    this.stopProbes();
    s.ready = false;
    s.everReady = false;
    s.probeDetail = undefined;
    const startup = this.spec.startupProbe;
    // Passed before the agent restarted: this start is not probed again.
    if (!startup || this.deps.startups?.has(s.id)) {
      this.startLiveProbes(s);
      return;
    }
    s.startup = new ProbeWorker(
      'startup',
      startup,
      () => runProbe(startup, this.probeContext(), this.execIn(s)),
      (started, detail) => {
        if (!this.isIn(s)) return;
        s.startup = undefined;
        if (started) {
          this.deps.startups?.mark(s.id);
          this.startLiveProbes(s);
        } else this.killUnhealthy(s, 'startup', startup, detail);
      },
    );
    s.startup.start(s.startedAt);
  }

  private probeContext(): ProbeContext {
    return { ports: this.spec.ports, ...this.deps.podNetwork() };
  }

  private execIn(s: OnEngine): (cmd: string[], timeoutMs: number) => Promise<number> {
    return (cmd, timeoutMs) => this.deps.driver.exec(s.id, cmd, timeoutMs);
  }

  /** Readiness and liveness, once the container has started (passed its startup probe, or has none). */
  private startLiveProbes(s: Running): void {
    s.started = true;
    const readiness = this.spec.readinessProbe;
    if (readiness) {
      s.readiness = new ProbeWorker(
        'readiness',
        readiness,
        () => runProbe(readiness, this.probeContext(), this.execIn(s)),
        (ok, detail) => {
          s.ready = ok;
          if (ok) s.everReady = true;
          s.probeDetail = detail;
          this.deps.log.debug('readiness changed', {
            replica: this.deps.replica,
            container: this.name,
            ready: ok,
            detail,
          });
          this.deps.onReadyChanged();
        },
      );
      s.readiness.start(s.startedAt);
    } else {
      s.ready = true;
      s.everReady = true;
      this.deps.onReadyChanged();
    }
    const liveness = this.spec.livenessProbe;
    if (liveness) {
      s.liveness = new ProbeWorker(
        'liveness',
        liveness,
        () => runProbe(liveness, this.probeContext(), this.execIn(s)),
        (ok, detail) => {
          if (!ok) this.killUnhealthy(s, 'liveness', liveness, detail);
        },
      );
      s.liveness.start(s.startedAt);
    }
  }

  /**
   * A liveness or startup probe failed: the container is killed (preStop, then the engine's stop),
   * with the probe's own terminationGracePeriodSeconds when it has one; the die event that follows
   * applies the restart policy.
   */
  private killUnhealthy(
    s: Running,
    kind: 'liveness' | 'startup',
    probe: Probe,
    detail: string | undefined,
  ): void {
    if (this.current !== s || s.killing) return;
    const grace = probe.terminationGracePeriodSeconds ?? this.deps.graceSeconds();
    this.deps.log.info(`${kind} probe failed, restarting container`, {
      replica: this.deps.replica,
      container: this.name,
      detail,
      graceSeconds: grace,
    });
    this.kill(s, grace);
  }

  /** A kill the agent does not wait for: preStop, then SIGTERM, SIGKILL when the grace it left is over. */
  private kill(s: Running | PostStart, graceSeconds: number): void {
    const killing = this.runPreStop(s.id, graceSeconds);
    s.killing = killing;
    void killing
      .then((grace) => this.deps.driver.stopContainer(s.id, grace))
      .catch((e: unknown) => {
        this.deps.log.warn('stopping unhealthy container failed', {
          container: this.name,
          error: errorMessage(e),
        });
      });
  }

  /**
   * Runs the preStop hook within graceSeconds; resolves to the grace left for SIGTERM → SIGKILL
   * (whole seconds, as the engine takes them, and at least MIN_GRACE_AFTER_PRESTOP after a hook).
   */
  private runPreStop(id: string, graceSeconds: number): Promise<number> {
    const hook = this.spec.lifecycle?.preStop;
    if (!hook || graceSeconds <= 0) return Promise.resolve(graceSeconds);
    const t0 = Date.now();
    return runHook(
      hook,
      this.probeContext(),
      (cmd, ms) => this.deps.driver.exec(id, cmd, ms),
      graceSeconds * 1000,
    ).then((outcome) => {
      const usedSeconds = Math.floor((Date.now() - t0) / 1000);
      const left = Math.max(MIN_GRACE_AFTER_PRESTOP, graceSeconds - usedSeconds);
      const fields = {
        replica: this.deps.replica,
        container: this.name,
        ms: Date.now() - t0,
        graceLeft: left,
      };
      if (outcome.ok) this.deps.log.debug('preStop hook done', fields);
      else this.deps.log.warn('preStop hook failed', { ...fields, detail: outcome.detail });
      return left;
    });
  }

  /**
   * Runs the postStart hook of a container just started: Running when it returns, killed when it
   * fails (the restart policy decides what follows, as for any death).
   */
  private runPostStart(s: PostStart): void {
    const hook = this.spec.lifecycle?.postStart;
    const t0 = Date.now();
    const done = hook
      ? runHook(hook, this.probeContext(), this.execIn(s), NO_DEADLINE_MS, s.hook.signal)
      : Promise.resolve({ ok: true });
    void done.then((outcome: HookOutcome) => {
      if (!this.isIn(s) || s.killing) return;
      const fields = { replica: this.deps.replica, container: this.name, ms: Date.now() - t0 };
      if (!outcome.ok) {
        this.deps.log.warn('postStart hook failed, killing container', { ...fields, detail: outcome.detail });
        this.kill(s, this.deps.graceSeconds());
        return;
      }
      this.deps.log.debug('postStart hook done', fields);
      const running = runningState(s, s.startedAt, s.joinedStart, true);
      running.oom = s.oom;
      this.move(running);
      this.startProbes();
      this.deps.onChange();
      this.deps.onStarted();
    });
  }

  /** Stops probing and leaves the container as it is (the pod drains, or the agent shuts down). */
  stopProbes(): void {
    const s = this.current;
    if (s.kind !== 'running') return;
    s.startup?.stop();
    s.readiness?.stop();
    s.liveness?.stop();
    s.startup = undefined;
    s.readiness = undefined;
    s.liveness = undefined;
  }

  /** The restart policy changed: a container it kept exited is decided again. */
  policyChanged(): void {
    const s = this.current;
    if (s.kind !== 'exited' || s.restartAt !== undefined || s.exitCode === undefined) return;
    s.restartAt = this.restartDecision(s.exitCode, 0);
  }

  /** SIGTERM, SIGKILL after the grace period (the pod terminates); remove() follows. */
  async stop(): Promise<void> {
    const s = this.current;
    if (!onEngine(s)) return;
    await this.terminate(s.kind === 'stopping' ? s : this.toStopping(s, 'remove'));
  }

  /** The engine's stop of a Stopping container, after its preStop hook (once) when it had started. */
  private async terminate(s: Stopping): Promise<void> {
    if (s.preStop === 'due') s.preStop = this.runPreStop(s.id, this.deps.graceSeconds());
    const grace = s.preStop === 'none' ? this.deps.graceSeconds() : await s.preStop;
    await this.deps.driver.stopContainer(s.id, grace);
  }

  async remove(): Promise<void> {
    const s = this.current;
    if (!onEngine(s)) return;
    if (s.kind !== 'stopping') this.toStopping(s, 'remove');
    await this.deps.driver.removeContainer(s.id);
    if (this.current.kind === 'stopping') this.move({ kind: 'removed' });
  }

  /**
   * The pod no longer wants this container (its configuration changed): it stops probing and
   * expects its death; the caller removes it. Its id, if it has one.
   */
  release(): string | undefined {
    const s = this.current;
    if (s.kind === 'waiting') this.move({ kind: 'removed' });
    if (!onEngine(s)) return undefined;
    if (s.kind !== 'stopping') this.toStopping(s, 'remove');
    return s.id;
  }

  // ---- what the engine reports ----------------------------------------------------------------

  /** A die event, or a listing that shows it stopped: it stopped on its own; apply the restart policy. */
  died(exitCode: number): void {
    const s = this.current;
    if (s.kind !== 'running' && s.kind !== 'postStart') return;
    const ranFor = s.startedAt ? Date.now() - s.startedAt : 0;
    this.deps.log.info('container exited', {
      replica: this.deps.replica,
      container: this.name,
      exitCode,
      ranForMs: ranFor,
    });
    this.move({
      kind: 'exited',
      id: s.id,
      networkFrom: s.networkFrom,
      exitCode,
      oom: s.oom,
      restartAt: this.restartDecision(exitCode, ranFor),
    });
    this.deps.onExited();
  }

  oomKilled(): void {
    const s = this.current;
    if (s.kind === 'running' || s.kind === 'postStart' || s.kind === 'exited') s.oom = true;
  }

  /** Removed behind the agent's back: it is created again. */
  vanished(): void {
    if (this.current.kind === 'running' || this.current.kind === 'postStart') this.died(-1);
    const s = this.current;
    if (!onEngine(s) || s.kind === 'stopping') return;
    this.move({ kind: 'waiting' });
    this.deps.onExited();
  }

  status(podHostPorts: readonly HostPort[], waitingReason: string): ContainerStatus {
    const own = new Set(this.spec.ports.map((p) => `${p.containerPort}/${p.protocol}`));
    const hostPorts = podHostPorts.filter((h) => own.has(`${h.containerPort}/${h.protocol ?? 'TCP'}`));
    const s = this.current;
    const base = { name: this.name, restartCount: this.restartCount, ready: this.ready, hostPorts };
    const id = onEngine(s) ? { containerId: s.id } : {};
    if (s.kind === 'running' || (s.kind === 'stopping' && s.wasRunning))
      return { ...base, ...id, state: 'running' };
    if (s.kind === 'exited' && s.exitCode !== undefined) {
      if (s.restartAt === undefined)
        return {
          ...base,
          ...id,
          state: 'terminated',
          exitCode: s.exitCode,
          reason: s.oom ? 'OOMKilled' : s.exitCode === 0 ? 'Completed' : 'Error',
        };
      return { ...base, ...id, state: 'waiting', reason: 'CrashLoopBackOff', exitCode: s.exitCode };
    }
    return { ...base, ...id, state: 'waiting', reason: waitingReason };
  }

  // ---- transitions ----------------------------------------------------------------------------

  /** Still in this very state (not merely the same kind): nothing happened during an await. */
  private isIn(s: ContainerState): boolean {
    return this.current === s;
  }

  private move(next: ContainerState): void {
    const from = this.current.kind;
    if (!TRANSITIONS[from].includes(next.kind))
      throw new Error(`container ${this.name}: no transition from ${from} to ${next.kind}`);
    this.stopProbes();
    if (this.current.kind === 'postStart') this.current.hook.abort();
    this.current = next;
  }

  private toStopping(s: OnEngineState, purpose: Stopping['purpose']): Stopping {
    const stopping: Stopping = {
      kind: 'stopping',
      id: s.id,
      networkFrom: s.networkFrom,
      purpose,
      wasRunning: s.kind === 'running',
      preStop: preStopStep(s),
    };
    this.move(stopping);
    return stopping;
  }

  /** When the policy restarts a container that exited with `exitCode` after `ranForMs`; undefined: never. */
  private restartDecision(exitCode: number, ranForMs: number): number | undefined {
    const policy = this.deps.restartPolicy();
    if (!policy || !shouldRestart(policy, exitCode)) return undefined;
    const r = nextRestart(this.tracker, ranForMs);
    this.tracker = r.tracker;
    return Date.now() + r.delayMs;
  }

  private async create(ownerId: string | undefined): Promise<void> {
    const plan = this.plan!;
    const spec = ownerId ? { ...plan.spec, networkFrom: ownerId } : plan.spec;
    const t0 = performance.now();
    let id: string;
    try {
      try {
        id = await this.deps.driver.createContainer(spec);
      } catch (e) {
        if (!(e instanceof NameConflictError)) throw e;
        // Left over from an earlier run: reuse it if it is the same container, else replace it.
        const existing = await this.deps.driver.inspectContainer(spec.name);
        if (existing && isSameContainer(existing, plan, ownerId)) {
          if (this.current.kind !== 'waiting') return;
          // Which start of the owner it joined is unknown: a running member rejoins to be sure.
          this.takeOver(existing, undefined);
          if (this.running) this.startProbes();
          this.deps.onChange();
          return;
        }
        if (existing) await this.deps.driver.removeContainer(existing.id);
        id = await this.deps.driver.createContainer(spec);
      }
    } catch (e) {
      throw new ContainerStepError('create', `failed to create container ${this.name}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    if (this.current.kind !== 'waiting') {
      // Released while the engine created it: nobody will track it.
      await this.deps.driver.removeContainer(id);
      return;
    }
    this.move({ kind: 'created', id, networkFrom: ownerId });
    this.deps.log.debug('container created', {
      replica: this.deps.replica,
      container: this.name,
      ms: Math.round(performance.now() - t0),
    });
  }

  /**
   * Starts a created or exited container; false when there was none to start. `restart`: it ran
   * before, so a successful start counts in restartCount.
   */
  private async start(owner: ContainerRunner | undefined, restart: boolean): Promise<boolean> {
    const before = this.current;
    if (before.kind !== 'created' && before.kind !== 'exited') return false;
    const t0 = performance.now();
    this.deps.startups?.forget(before.id);
    try {
      await this.deps.driver.startContainer(before.id);
    } catch (e) {
      // The engine still holds a task of this container from before it restarted (containerd:
      // "task <id>: already exists"): no start of it can work again, so it is made anew.
      if (STALE_TASK.test(errorMessage(e))) await this.halt('recreate').catch(() => {});
      throw new ContainerStepError('start', `failed to start container ${this.name}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    if (this.current !== before) return false;
    if (restart) this.restartCount++;
    this.deps.log.debug('container started', {
      replica: this.deps.replica,
      container: this.name,
      ms: Math.round(performance.now() - t0),
      sinceAssigned: Math.round(performance.now() - this.deps.since),
    });
    this.starts++;
    // A member publishes nothing of its own: the owner's network is the pod's.
    const networkRead = owner !== undefined;
    const next: Running | PostStart = this.spec.lifecycle?.postStart
      ? {
          kind: 'postStart',
          id: before.id,
          networkFrom: before.networkFrom,
          startedAt: Date.now(),
          joinedStart: owner?.starts,
          networkRead,
          oom: false,
          hook: new AbortController(),
          killing: undefined,
        }
      : runningState(before, Date.now(), owner?.starts, networkRead);
    this.move(next);
    if (owner) {
      this.afterStart(next);
      this.deps.onChange();
    } else {
      await this.readNetwork(next);
    }
    return true;
  }

  /** What follows a start once the pod's network is known: the postStart hook, or the probes. */
  private afterStart(s: Running | PostStart): void {
    if (s.kind === 'postStart') this.runPostStart(s);
    else this.startProbes();
  }

  /**
   * Reads which host ports the engine chose for the owner (and its address), then goes on
   * (afterStart). Rejects when the engine does not answer; the state says so, and the next step
   * reads again.
   */
  private async readNetwork(running: Running | PostStart): Promise<void> {
    const info = await this.deps.driver.inspectContainer(running.id);
    if (!this.isIn(running)) return;
    running.networkRead = true;
    if (info) {
      this.hostPorts = info.hostPorts;
      if (info.ip) this.ip = info.ip;
      if (!info.running) return this.died(info.exitCode ?? -1);
    }
    this.afterStart(running);
    this.deps.onChange();
  }

  /**
   * Stops the container for a purpose the pod's step carries out: `rejoin` leaves it exited, to be
   * started again at once in the owner's new namespace; `recreate` removes it so that it is made
   * afresh (counted as a restart).
   */
  private async halt(purpose: 'rejoin' | 'recreate'): Promise<void> {
    const s = this.current;
    if (!onEngine(s)) return;
    const stopping = s.kind === 'stopping' ? s : this.toStopping(s, purpose);
    stopping.purpose = purpose;
    await this.terminate(stopping);
    if (!this.isIn(stopping)) return;
    if (purpose === 'rejoin') {
      this.move({
        kind: 'exited',
        id: s.id,
        networkFrom: s.networkFrom,
        exitCode: undefined,
        oom: false,
        restartAt: Date.now(),
      });
      return;
    }
    await this.deps.driver.removeContainer(s.id);
    if (!this.isIn(stopping)) return;
    this.restartCount++;
    this.move({ kind: 'waiting' });
  }
}

/** containerd's answer for a start whose container still has a task: a leftover of an engine restart. */
const STALE_TASK = /\btask [0-9a-f]+: already exists\b/;

function started(yes: boolean): Advance {
  return yes ? { started: true } : {};
}

type OnEngineState = Created | PostStart | Running | Exited | Stopping;

/** Leaving `s` for Stopping: a started container's preStop hook is due, unless a kill already runs it. */
function preStopStep(s: OnEngineState): Stopping['preStop'] {
  if (s.kind === 'stopping') return s.preStop;
  if (s.kind !== 'running' && s.kind !== 'postStart') return 'none';
  return s.killing ?? 'due';
}

function onEngine(s: ContainerState): s is OnEngineState {
  return s.kind !== 'waiting' && s.kind !== 'removed';
}

function runningState(
  c: OnEngine,
  startedAt: number | undefined,
  joinedStart: number | undefined,
  networkRead: boolean,
): Running {
  return {
    kind: 'running',
    id: c.id,
    networkFrom: c.networkFrom,
    startedAt,
    joinedStart,
    networkRead,
    ready: false,
    everReady: false,
    started: false,
    probeDetail: undefined,
    oom: false,
    killing: undefined,
    startup: undefined,
    readiness: undefined,
    liveness: undefined,
  };
}
