import { afterEach, describe, expect, it } from 'vitest';
import type { AssignedContainer, Assignment } from '../common/agent-protocol.ts';
import { Probe } from '../common/deployment.ts';
import {
  type ContainerDeps,
  ContainerRunner,
  type ContainerStateKind,
  ContainerStepError,
  TRANSITIONS,
} from './container-runner.ts';
import { planContainers } from './container-spec.ts';
import { type Driver, EngineUnavailableError } from './driver/driver.ts';
import { createLogger } from './log.ts';
import type { RestartPolicy } from './restart-tracker.ts';
import { FakeDriver } from './testing/fake-driver.ts';

const IMAGE = 'app:1';
const log = createLogger('error');

function container(over: Partial<AssignedContainer> = {}): AssignedContainer {
  return {
    name: 'web',
    image: IMAGE,
    imagePullPolicy: 'IfNotPresent',
    env: [],
    ports: [{ containerPort: 8080, protocol: 'TCP' }],
    resources: {},
    ...over,
  };
}

function assignment(containers: AssignedContainer[]): Assignment {
  return {
    id: 'r1',
    namespace: 'default',
    deployment: 'web',
    revision: 1,
    desired: 'running',
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 1,
    drainDelaySeconds: 0,
    containers,
  };
}

const pods: { runners: ContainerRunner[] }[] = [];
afterEach(() => {
  for (const p of pods.splice(0)) for (const r of p.runners) r.stopProbes();
});

/**
 * A pod's containers on a fake runtime, without PodRunner: the test is the pod, calling advance()
 * in order; the runtime's events reach the runner of the container they name.
 */
function pod(containers: AssignedContainer[] = [container()], seed?: (d: FakeDriver) => void) {
  const driver = new FakeDriver();
  driver.images.add(IMAGE);
  seed?.(driver);
  const seen: string[] = [];
  const ctl = { policy: 'Always' as RestartPolicy | undefined, runners: [] as ContainerRunner[], grace: 1 };
  const deps: ContainerDeps = {
    driver,
    log,
    replica: 'r1',
    since: performance.now(),
    restartPolicy: () => ctl.policy,
    graceSeconds: () => ctl.grace,
    podNetwork: () => ({ hostPorts: ctl.runners[0]?.hostPorts ?? [], address: '127.0.0.1' }),
    onReadyChanged: () => seen.push('readyChanged'),
    onExited: () => seen.push('exited'),
    onStarted: () => seen.push('started'),
    onChange: () => {},
  };
  const a = assignment(containers);
  ctl.runners = planContainers(a, 'n1', '127.0.0.1').map(
    (p, i) => new ContainerRunner(deps, p, a.containers[i]!),
  );
  driver.watchEvents(
    'n1',
    (e) => {
      const r = ctl.runners.find((x) => x.containerId === e.id);
      if (e.action === 'die') r?.died(e.exitCode ?? -1);
      else if (e.action === 'oom') r?.oomKilled();
      else if (e.action === 'destroy') r?.vanished();
    },
    () => {},
  );
  pods.push(ctl);
  const [owner, member] = ctl.runners;
  /** One step of the pod: each container in order, a member waiting for a running owner. */
  const step = async () => {
    for (const [i, r] of ctl.runners.entries()) {
      const next = await r.advance(i > 0 ? owner : undefined);
      if (next.blocked) return;
    }
  };
  return { driver, ctl, owner: owner!, member: member!, seen, step, deps };
}

async function until<T>(what: string, fn: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const kind = (r: ContainerRunner): ContainerStateKind => r.state.kind;

describe('ContainerRunner transitions', () => {
  it('Waiting → Created → Running: creates, starts, reads the published ports, is ready without a probe', async () => {
    const { driver, owner, seen } = pod();
    expect(kind(owner)).toBe('waiting');
    expect(await owner.advance(undefined)).toEqual({ started: true });
    expect(driver.calls).toEqual(['create berth-n1-r1-web', 'start berth-n1-r1-web']);
    expect(owner.state).toMatchObject({ kind: 'running', ready: true, everReady: true });
    expect(owner.hostPorts).toEqual([{ containerPort: 8080, hostPort: 30000 }]);
    expect(seen).toContain('readyChanged');
    expect(owner.status([...owner.hostPorts], 'ContainerCreating')).toMatchObject({
      state: 'running',
      ready: true,
      restartCount: 0,
      hostPorts: [{ containerPort: 8080, hostPort: 30000 }],
    });
  });

  it('Running → Exited → Running: the first restart is immediate, the next backs off (CrashLoopBackOff)', async () => {
    const { driver, owner, seen } = pod();
    await owner.advance(undefined);
    driver.crash(owner.containerId!, 1);
    await until('exited', () => kind(owner) === 'exited');
    expect(seen).toContain('exited');
    expect(owner.state).toMatchObject({ exitCode: 1 });
    expect(await owner.advance(undefined)).toEqual({ started: true });
    expect(owner.state.kind).toBe('running');
    expect(owner.restartCount).toBe(1);

    driver.crash(owner.containerId!, 1);
    await until('exited again', () => kind(owner) === 'exited');
    const next = await owner.advance(undefined);
    expect(next.wakeAt! - Date.now()).toBeGreaterThan(9000);
    expect(kind(owner)).toBe('exited');
    expect(owner.status([], 'ContainerCreating')).toMatchObject({
      state: 'waiting',
      reason: 'CrashLoopBackOff',
      exitCode: 1,
      restartCount: 1,
    });
  });

  it.each([
    { policy: 'Never', exitCode: 0, stays: true, reason: 'Completed' },
    { policy: 'Never', exitCode: 3, stays: true, reason: 'Error' },
    { policy: 'OnFailure', exitCode: 0, stays: true, reason: 'Completed' },
    { policy: 'OnFailure', exitCode: 3, stays: false },
    { policy: 'Always', exitCode: 0, stays: false },
  ] as const)(
    'restartPolicy $policy, exit code $exitCode: stays exited $stays',
    async ({ policy, exitCode, stays, ...rest }) => {
      const { driver, ctl, owner } = pod();
      ctl.policy = policy;
      await owner.advance(undefined);
      driver.crash(owner.containerId!, exitCode);
      await until('exited', () => kind(owner) === 'exited');
      await owner.advance(undefined);
      if (stays) {
        expect(kind(owner)).toBe('exited');
        expect(owner.status([], '')).toMatchObject({ state: 'terminated', exitCode, reason: rest.reason });
      } else {
        expect(kind(owner)).toBe('running');
        expect(owner.restartCount).toBe(1);
      }
    },
  );

  it('a container kept exited is decided again when the policy changes', async () => {
    const { driver, ctl, owner } = pod();
    ctl.policy = 'Never';
    await owner.advance(undefined);
    driver.crash(owner.containerId!, 0);
    await until('exited', () => kind(owner) === 'exited');
    ctl.policy = 'Always';
    owner.policyChanged();
    await owner.advance(undefined);
    expect(kind(owner)).toBe('running');
  });

  it('reports an OOM kill whichever of the oom and die events comes first', async () => {
    const { driver, ctl, owner } = pod();
    ctl.policy = 'Never';
    await owner.advance(undefined);
    owner.oomKilled();
    driver.crash(owner.containerId!, 137);
    await until('exited', () => kind(owner) === 'exited');
    expect(owner.status([], '')).toMatchObject({ state: 'terminated', reason: 'OOMKilled', exitCode: 137 });
  });

  it('a member waits for a running owner and is created in its network namespace', async () => {
    const { driver, owner, member, step } = pod([container(), container({ name: 'side', ports: [] })]);
    driver.images.delete(IMAGE);
    await expect(owner.advance(undefined)).rejects.toBeInstanceOf(ContainerStepError);
    expect(await member.advance(owner)).toEqual({ blocked: true });
    expect(kind(member)).toBe('waiting');
    driver.images.add(IMAGE);
    await step();
    expect(driver.calls).toContain(`create berth-n1-r1-side in ${owner.containerId}`);
    expect(member.state).toMatchObject({ kind: 'running', networkFrom: owner.containerId });
  });

  it('Running before its ports are read: not probed, members wait, the next step reads them', async () => {
    const { driver, owner, member, step } = pod([container(), container({ name: 'side', ports: [] })]);
    const inspect = driver.inspectContainer.bind(driver);
    driver.inspectContainer = async () => {
      throw new EngineUnavailableError('the Docker Engine did not answer: socket hang up');
    };
    await expect(owner.advance(undefined)).rejects.toBeInstanceOf(EngineUnavailableError);
    expect(owner.state).toMatchObject({
      kind: 'running',
      networkRead: false,
      ready: false,
      readiness: undefined,
    });
    expect(await member.advance(owner)).toEqual({ blocked: true });
    driver.inspectContainer = inspect;
    await step();
    expect(owner.state).toMatchObject({ kind: 'running', networkRead: true, ready: true });
    expect(owner.hostPorts).toEqual([{ containerPort: 8080, hostPort: 30000 }]);
    expect(member.ready).toBe(true);
    expect(owner.restartCount).toBe(0);
  });

  it('Running → Stopping(rejoin) → Exited → Running: a member rejoins its restarted owner', async () => {
    const { driver, owner, member, step, seen } = pod([container(), container({ name: 'side', ports: [] })]);
    await step();
    const memberId = member.containerId;
    driver.crash(owner.containerId!, 137);
    await until('owner exited', () => kind(owner) === 'exited');
    seen.length = 0;
    driver.calls.length = 0;
    await step();
    expect(driver.calls).toEqual([
      'start berth-n1-r1-web',
      'stop berth-n1-r1-side',
      'start berth-n1-r1-side',
    ]);
    // The member's stop was the agent's own: no exit, same container.
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).not.toContain('exited');
    expect(member.containerId).toBe(memberId);
    expect([owner.restartCount, member.restartCount]).toEqual([1, 1]);
    expect(kind(member)).toBe('running');
    // Joined the owner's current start: the next step leaves it alone.
    driver.calls.length = 0;
    await step();
    expect(driver.calls).toEqual([]);
  });

  it('Stopping(recreate) → Waiting: a member of a replaced owner is made afresh in the new one', async () => {
    const { driver, owner, member, step } = pod([container(), container({ name: 'side', ports: [] })]);
    await step();
    const oldOwner = owner.containerId!;
    // The owner is removed behind the agent's back: it is created again, with a new id.
    await driver.removeContainer(oldOwner);
    await until('owner vanished', () => kind(owner) === 'waiting');
    driver.calls.length = 0;
    await step();
    expect(owner.containerId).not.toBe(oldOwner);
    expect(driver.calls).toEqual([
      'create berth-n1-r1-web',
      'start berth-n1-r1-web',
      'stop berth-n1-r1-side',
      'remove berth-n1-r1-side',
      `create berth-n1-r1-side in ${owner.containerId}`,
      'start berth-n1-r1-side',
    ]);
    expect(member.restartCount).toBe(1);
    expect(member.state).toMatchObject({ kind: 'running', networkFrom: owner.containerId });
  });

  it('a stop cut short by a runtime that does not answer is finished by the next step', async () => {
    const { driver, owner, member, step } = pod([container(), container({ name: 'side', ports: [] })]);
    await step();
    driver.crash(owner.containerId!, 137);
    await until('owner exited', () => kind(owner) === 'exited');
    await owner.advance(undefined);
    driver.down = true;
    await expect(member.advance(owner)).rejects.toThrow(/did not answer/);
    expect(member.state).toMatchObject({ kind: 'stopping', purpose: 'rejoin' });
    driver.down = false;
    await step();
    expect(kind(member)).toBe('running');
    expect(member.restartCount).toBe(1);
  });

  it('Exited → Waiting when removed behind the agent’s back; then created again', async () => {
    const { driver, ctl, owner } = pod();
    ctl.policy = 'Never';
    await owner.advance(undefined);
    const first = owner.containerId!;
    driver.crash(first, 0);
    await until('exited', () => kind(owner) === 'exited');
    await driver.removeContainer(first);
    await until('vanished', () => kind(owner) === 'waiting');
    await owner.advance(undefined);
    expect(kind(owner)).toBe('running');
    expect(owner.containerId).not.toBe(first);
  });

  it('Stopping(remove) → Removed: its death is expected, and nothing moves it afterwards', async () => {
    const { driver, owner, seen } = pod();
    await owner.advance(undefined);
    const id = owner.containerId!;
    const stopping = owner.stop();
    expect(owner.state).toMatchObject({ kind: 'stopping', purpose: 'remove', wasRunning: true });
    // Reported running, no longer ready, until it is gone.
    expect(owner.status([], '')).toMatchObject({ state: 'running', ready: false });
    await stopping;
    await new Promise((r) => setTimeout(r, 20)); // the die event
    expect(seen).not.toContain('exited');
    await owner.remove();
    expect(kind(owner)).toBe('removed');
    expect(driver.containers.has(id)).toBe(false);
    driver.calls.length = 0;
    expect(await owner.advance(undefined)).toEqual({});
    owner.died(1);
    owner.vanished();
    expect(kind(owner)).toBe('removed');
    expect(driver.calls).toEqual([]);
  });

  it('release: a running container becomes Stopping and hands its id over; a waiting one is Removed', async () => {
    const { owner, member } = pod([container(), container({ name: 'side', ports: [] })]);
    await owner.advance(undefined);
    expect(owner.release()).toBe(owner.containerId);
    expect(owner.state).toMatchObject({ kind: 'stopping', purpose: 'remove' });
    expect(member.release()).toBeUndefined();
    expect(kind(member)).toBe('removed');
  });

  it.each([
    { what: 'running', running: true, created: false, becomes: 'running', restarts: 0 },
    { what: 'created, never started', running: false, created: true, becomes: 'created', restarts: 0 },
    { what: 'exited', running: false, created: false, becomes: 'exited', restarts: 1 },
  ] as const)('adopts a container found $what', async ({ running, created, becomes, restarts }) => {
    let id = '';
    const { driver, owner } = pod([container()], (d) => {
      const a = assignment([container()]);
      id = d.seed(planContainers(a, 'n1', '127.0.0.1')[0]!.spec, running);
    });
    const info = (await driver.inspectContainer(id))!;
    owner.adopt({ ...info, created }, undefined);
    expect(owner.containerId).toBe(id);
    expect(kind(owner)).toBe(becomes);
    driver.calls.length = 0;
    // An adopted exited container restarts at once (no back-off history); a created one just starts.
    await owner.advance(undefined);
    expect(kind(owner)).toBe('running');
    expect(owner.containerId).toBe(id);
    expect(owner.restartCount).toBe(restarts);
    expect(driver.calls.some((c) => c.startsWith('create'))).toBe(false);
  });

  it('a create that meets its own name takes over the same container, and replaces another', async () => {
    const a = assignment([container()]);
    const spec = planContainers(a, 'n1', '127.0.0.1')[0]!.spec;
    let same = '';
    const first = pod([container()], (d) => {
      same = d.seed(spec, false);
      d.containers.get(same)!.created = true;
    });
    await first.owner.advance(undefined);
    expect(first.owner.containerId).toBe(same);
    expect(first.driver.calls).toEqual(['start berth-n1-r1-web']);

    let other = '';
    const second = pod([container()], (d) => {
      other = d.seed({ ...spec, labels: { ...spec.labels, 'berth.dev/spec-hash': 'old' } });
    });
    await second.owner.advance(undefined);
    expect(second.owner.containerId).not.toBe(other);
    expect(second.driver.containers.has(other)).toBe(false);
    expect(kind(second.owner)).toBe('running');
  });

  it('a create or start the engine refuses is a ContainerStepError naming the stage', async () => {
    const { driver, owner } = pod();
    driver.images.delete(IMAGE);
    const create = await owner.advance(undefined).catch((e: unknown) => e);
    expect(create).toBeInstanceOf(ContainerStepError);
    expect(create).toMatchObject({
      stage: 'create',
      message: /^failed to create container web: No such image/,
    });
    expect(kind(owner)).toBe('waiting');

    driver.images.add(IMAGE);
    const real = driver.startContainer.bind(driver);
    driver.startContainer = async () => {
      throw new Error('port is already allocated');
    };
    const start = await owner.advance(undefined).catch((e: unknown) => e);
    expect(start).toMatchObject({
      stage: 'start',
      message: 'failed to start container web: port is already allocated',
    });
    expect(kind(owner)).toBe('created');
    driver.startContainer = real;
    expect(await owner.advance(undefined)).toEqual({ started: true });
    expect(owner.restartCount).toBe(0);
  });

  it('makes a container anew when the engine still holds its task from before a restart', async () => {
    const { driver, owner } = pod();
    const real = driver.startContainer.bind(driver);
    driver.startContainer = async () => {
      throw new Error('task 58e9ed1404549aa0: already exists');
    };
    const start = await owner.advance(undefined).catch((e: unknown) => e);
    expect(start).toMatchObject({ stage: 'start', message: /already exists/ });
    // The container with the stale task is gone; the next step creates and starts a new one.
    expect(kind(owner)).toBe('waiting');
    expect(driver.containers.size).toBe(0);
    driver.startContainer = real;
    expect(await owner.advance(undefined)).toEqual({ started: true });
    expect(driver.containers.size).toBe(1);
  });

  it('readiness follows the probe; a failed liveness probe stops it and the restart policy applies', async () => {
    const { driver, owner } = pod([
      container({
        readinessProbe: Probe.parse({ exec: { command: ['ready'] }, periodSeconds: 1, failureThreshold: 1 }),
        livenessProbe: Probe.parse({ exec: { command: ['alive'] }, periodSeconds: 1, failureThreshold: 1 }),
      }),
    ]);
    const answers = { ready: 1, alive: 0 };
    let readyChecks = 0;
    (driver as { exec: Driver['exec'] }).exec = async (_id, cmd) => {
      if (cmd[0] === 'ready') readyChecks++;
      return cmd[0] === 'ready' ? answers.ready : answers.alive;
    };
    await owner.advance(undefined);
    await until('probed a few times', () => readyChecks >= 3);
    expect(owner.ready).toBe(false);
    expect(owner.status([], '')).toMatchObject({ state: 'running', ready: false });
    answers.ready = 0;
    await until('ready', () => owner.ready);
    answers.ready = 1;
    await until('unready', () => !owner.ready);
    expect(owner.state).toMatchObject({
      kind: 'running',
      everReady: true,
      probeDetail: 'command exited with 1',
    });

    const id = owner.containerId;
    answers.alive = 1;
    await until('killed and exited', () => kind(owner) === 'exited');
    expect(driver.calls).toContain('stop berth-n1-r1-web');
    await owner.advance(undefined);
    expect(kind(owner)).toBe('running');
    expect(owner.containerId).toBe(id);
    expect(owner.restartCount).toBe(1);
  });
});

describe('the startup probe', () => {
  it('holds readiness and liveness off until its first success', async () => {
    const { driver, owner } = pod([
      container({
        startupProbe: Probe.parse({ exec: { command: ['started'] }, periodSeconds: 1, failureThreshold: 5 }),
        readinessProbe: Probe.parse({ exec: { command: ['ready'] }, periodSeconds: 1 }),
        // It would kill the container at its first run, were it not held off.
        livenessProbe: Probe.parse({ exec: { command: ['alive'] }, periodSeconds: 1, failureThreshold: 1 }),
      }),
    ]);
    let startups = 0;
    let alive = 0;
    driver.execHandler = (_id, cmd) => {
      if (cmd[0] === 'started') return ++startups >= 3 ? 0 : 1;
      return cmd[0] === 'alive' ? alive : 0;
    };
    await owner.advance(undefined);
    await until('started', () => startups >= 3);
    const startedAt = driver.execs.find((e, i) => e.command[0] === 'started' && i === 2)?.at ?? Date.now();
    expect(owner.state).toMatchObject({ kind: 'running', killing: undefined });
    // Nothing but the startup probe ran before its third (first passing) run.
    const first = driver.execs.findIndex((e) => e.command[0] !== 'started');
    expect(first === -1 || first > 2).toBe(true);
    await until('ready', () => owner.ready);
    expect(driver.execs.filter((e) => e.command[0] === 'started')).toHaveLength(3);
    expect(driver.execs.find((e) => e.command[0] === 'ready')!.at).toBeGreaterThanOrEqual(startedAt);
    // Three runs a period apart: the start took at least two periods.
    expect(startedAt - driver.execs[0]!.at).toBeGreaterThanOrEqual(1900);
    // Liveness runs now, and kills on failure as usual.
    alive = 1;
    await until('killed by liveness', () => driver.stops.length > 0);
    expect(driver.stops[0]!.graceSeconds).toBe(1);
  });

  it("kills the container after failureThreshold failures, with the probe's own grace; the restart policy applies", async () => {
    const { driver, owner, ctl } = pod([
      container({
        startupProbe: Probe.parse({
          exec: { command: ['started'] },
          periodSeconds: 1,
          failureThreshold: 2,
          terminationGracePeriodSeconds: 7,
        }),
        readinessProbe: Probe.parse({ exec: { command: ['ready'] }, periodSeconds: 1 }),
      }),
    ]);
    driver.execHandler = (_id, cmd) => (cmd[0] === 'started' ? 1 : 0);
    await owner.advance(undefined);
    const t0 = Date.now();
    await until('killed', () => kind(owner) === 'exited');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(driver.stops).toEqual([{ name: 'berth-n1-r1-web', graceSeconds: 7, at: expect.any(Number) }]);
    expect(driver.execs.map((e) => e.command[0])).toEqual(['started', 'started']);
    expect(owner.ready).toBe(false);
    // Always: started again, probing from the start.
    await owner.advance(undefined);
    expect(owner.state).toMatchObject({ kind: 'running', ready: false });
    expect(owner.restartCount).toBe(1);
    // Never: a second kill leaves it exited.
    ctl.policy = 'Never';
    await until('killed again', () => kind(owner) === 'exited');
    expect(owner.state).toMatchObject({ kind: 'exited', restartAt: undefined });
  });

  it('is not run again for a container that passed it before the agent restarted; its next start is probed', async () => {
    const passed = new Set<string>();
    const startups = {
      has: (id: string) => passed.has(id),
      mark: (id: string) => void passed.add(id),
      forget: (id: string) => void passed.delete(id),
    };
    const probed = container({
      // One failure would kill it: a re-run on a busy node could.
      startupProbe: Probe.parse({ exec: { command: ['started'] }, periodSeconds: 1, failureThreshold: 1 }),
    });
    // A pass is recorded.
    const first = pod([probed]);
    first.deps.startups = startups;
    first.driver.execHandler = () => 0;
    await first.owner.advance(undefined);
    await until('ready', () => first.owner.ready);
    expect(passed.has(first.owner.containerId!)).toBe(true);

    // The same container, adopted by a restarted agent that recorded the pass.
    let seeded = '';
    const { driver, owner, deps } = pod([probed], (d) => {
      seeded = d.seed(planContainers(assignment([probed]), 'n1', '127.0.0.1')[0]!.spec, true);
    });
    deps.startups = startups;
    driver.execHandler = (_id, cmd) => (cmd[0] === 'started' ? 1 : 0);
    passed.add(seeded);
    owner.adopt((await driver.inspectContainer(seeded))!, undefined);
    owner.startProbes();
    expect(owner.ready).toBe(true);
    expect(driver.execs).toEqual([]);

    // Killed: its next start forgets the pass and is probed (and killed: the probe fails).
    await driver.stopContainer(seeded, 0);
    await until('exited', () => kind(owner) === 'exited');
    await owner.advance(undefined);
    expect(passed.has(seeded)).toBe(false);
    await until('probed', () => driver.execs.length > 0);
    expect(driver.execs[0]!.command).toEqual(['started']);
  });

  it("counts initialDelaySeconds from the container's start", async () => {
    const { driver, owner } = pod([
      container({
        startupProbe: Probe.parse({
          exec: { command: ['started'] },
          initialDelaySeconds: 1,
          periodSeconds: 1,
        }),
        readinessProbe: Probe.parse({ exec: { command: ['ready'] }, initialDelaySeconds: 1 }),
      }),
    ]);
    await owner.advance(undefined);
    const startedAt = driver.containers.get(owner.containerId!)!.startedAt!;
    await until('ready', () => owner.ready);
    const [startup, ready] = driver.execs;
    expect(startup!.at - startedAt).toBeGreaterThanOrEqual(990);
    // Readiness's own delay of a second had passed already: it ran right after the startup probe.
    expect(ready!.command[0]).toBe('ready');
    expect(ready!.at - startup!.at).toBeLessThan(900);
  });
});

/** A promise and the functions that settle it, for a hook the test ends when it likes. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const exec = (...command: string[]) => ({ exec: { command } });

describe('lifecycle hooks', () => {
  it('postStart: not Running, probed or followed by the next container until the hook returns', async () => {
    const { driver, owner, member, seen, step } = pod([
      container({ lifecycle: { postStart: exec('post') } }),
      container({ name: 'side', ports: [] }),
    ]);
    const hook = deferred<number>();
    driver.execHandler = (_id, cmd) => (cmd[0] === 'post' ? hook.promise : 0);
    await step();
    expect(kind(owner)).toBe('postStart');
    expect(owner.ready).toBe(false);
    expect(owner.status([], 'ContainerCreating')).toMatchObject({
      state: 'waiting',
      reason: 'ContainerCreating',
      containerId: owner.containerId,
    });
    expect(owner.hostPorts).toEqual([{ containerPort: 8080, hostPort: 30000 }]);
    // The next container waits for the hook, as the kubelet starts them.
    await step();
    expect(kind(member)).toBe('waiting');
    expect(driver.calls).toEqual(['create berth-n1-r1-web', 'start berth-n1-r1-web']);

    hook.resolve(0);
    await until('started', () => seen.includes('started'));
    expect(owner.state).toMatchObject({ kind: 'running', ready: true });
    await step();
    expect(kind(member)).toBe('running');
  });

  it('postStart: a failed hook kills the container and the restart policy applies', async () => {
    const { driver, owner, ctl } = pod([container({ lifecycle: { postStart: exec('post') } })]);
    driver.execHandler = (_id, cmd) => (cmd[0] === 'post' ? 1 : 0);
    await owner.advance(undefined);
    await until('killed', () => kind(owner) === 'exited');
    expect(driver.stops.map((x) => x.name)).toEqual(['berth-n1-r1-web']);
    expect(owner.ready).toBe(false);
    // Always: started again, through its hook again.
    await owner.advance(undefined);
    expect(kind(owner)).toBe('postStart');
    expect(owner.restartCount).toBe(1);
    ctl.policy = 'Never';
    await until('killed again', () => kind(owner) === 'exited');
    expect(owner.state).toMatchObject({ kind: 'exited', restartAt: undefined });
  });

  it('preStop runs before SIGTERM, and what it takes comes off the grace', async () => {
    const { driver, owner, ctl } = pod([container({ lifecycle: { preStop: exec('pre') } })]);
    ctl.grace = 5;
    const order: string[] = [];
    driver.execHandler = async (_id, cmd) => {
      order.push(`exec ${cmd[0]}`);
      await new Promise((r) => setTimeout(r, 1200));
      order.push(`done ${cmd[0]}`);
      return 0;
    };
    await owner.advance(undefined);
    const realStop = driver.stopContainer.bind(driver);
    driver.stopContainer = async (id, grace) => {
      order.push('SIGTERM');
      return realStop(id, grace);
    };
    const t0 = Date.now();
    await owner.stop();
    expect(order).toEqual(['exec pre', 'done pre', 'SIGTERM']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1190);
    // 5 s of grace, at least one whole second of it used by the hook.
    const used = Math.floor((driver.stops[0]!.at - t0) / 1000);
    expect(driver.stops[0]!.graceSeconds).toBe(Math.max(2, 5 - used));
    expect(driver.stops[0]!.graceSeconds).toBeLessThanOrEqual(4);
  });

  it('preStop: a hook that outlasts the grace is cut off there, and SIGTERM still gets two seconds', async () => {
    const { driver, owner, ctl } = pod([container({ lifecycle: { preStop: exec('hang') } })]);
    ctl.grace = 1;
    driver.execHandler = (_id, _cmd, timeoutMs) =>
      new Promise((_r, reject) => setTimeout(() => reject(new Error('command timed out')), timeoutMs));
    await owner.advance(undefined);
    const t0 = Date.now();
    await owner.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(990);
    expect(driver.stops).toEqual([{ name: 'berth-n1-r1-web', graceSeconds: 2, at: expect.any(Number) }]);
  });

  it('preStop: a sleep hook; a stop the engine cut short does not run the hook twice', async () => {
    const { driver, owner, ctl } = pod([container({ lifecycle: { preStop: { sleep: { seconds: 1 } } } })]);
    ctl.grace = 4;
    await owner.advance(undefined);
    const realStop = driver.stopContainer.bind(driver);
    let refused = false;
    driver.stopContainer = async (id, grace) => {
      if (!refused) {
        refused = true;
        throw new Error('the Docker Engine did not answer');
      }
      return realStop(id, grace);
    };
    const t0 = Date.now();
    await expect(owner.stop()).rejects.toThrow(/did not answer/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(990);
    const t1 = Date.now();
    await owner.stop();
    expect(Date.now() - t1).toBeLessThan(500);
    expect(driver.stops.map((x) => x.graceSeconds)).toEqual([3]);
  });

  it('a container stopped before it ever started runs no preStop hook', async () => {
    const { driver, owner } = pod([container({ lifecycle: { preStop: exec('pre') } })]);
    driver.startContainer = async () => {
      throw new Error('port is already allocated');
    };
    await expect(owner.advance(undefined)).rejects.toThrow(/port is already allocated/);
    expect(kind(owner)).toBe('created');
    await owner.stop();
    expect(driver.execs).toEqual([]);
  });

  it('a failed liveness probe runs preStop before the kill, with the probe grace', async () => {
    const { driver, owner } = pod([
      container({
        lifecycle: { preStop: exec('pre') },
        livenessProbe: Probe.parse({
          exec: { command: ['alive'] },
          periodSeconds: 1,
          failureThreshold: 1,
          terminationGracePeriodSeconds: 9,
        }),
      }),
    ]);
    driver.execHandler = (_id, cmd) => (cmd[0] === 'alive' ? 1 : 0);
    await owner.advance(undefined);
    await until('killed', () => kind(owner) === 'exited');
    expect(driver.execs.map((e) => e.command[0])).toEqual(['alive', 'pre']);
    expect(driver.stops[0]!.graceSeconds).toBe(9);
  });
});

describe('the transition table', () => {
  it('ends in Removed and reaches it from every state', () => {
    expect(TRANSITIONS.removed).toEqual([]);
    const reaches = (from: ContainerStateKind, seen = new Set<ContainerStateKind>()): boolean => {
      if (from === 'removed') return true;
      seen.add(from);
      return TRANSITIONS[from].some((to) => !seen.has(to) && reaches(to, seen));
    };
    for (const k of Object.keys(TRANSITIONS) as ContainerStateKind[]) expect(reaches(k)).toBe(true);
  });
});
