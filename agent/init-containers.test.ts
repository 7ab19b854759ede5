import { afterEach, describe, expect, it } from 'vitest';
import type {
  AssignedContainer,
  AssignedInitContainer,
  Assignment,
  ReplicaStatus,
} from '../common/agent-protocol.ts';
import { planContainers } from './container-spec.ts';
import { ImagePuller } from './image-puller.ts';
import { HOLDER_NAME, podMembers } from './init-containers.ts';
import { createLogger } from './log.ts';
import { pauseImage } from './pause-image.ts';
import { PodManager } from './pod-manager.ts';
import { FakeDriver } from './testing/fake-driver.ts';

const NODE = 'n1';
const IMAGE = 'app:1';
const log = createLogger('error');

function container(over: Partial<AssignedInitContainer> = {}): AssignedInitContainer {
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

const init = (name: string, over: Partial<AssignedInitContainer> = {}) =>
  container({ name, ports: [], ...over });

function replica(id: string, over: Partial<Assignment> = {}): Assignment {
  return {
    id,
    namespace: 'default',
    deployment: 'web',
    revision: 1,
    desired: 'running',
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 1,
    drainDelaySeconds: 0,
    containers: [container()],
    initContainers: [init('migrate'), init('seed')],
    ...over,
  };
}

const managers: PodManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.stop();
});

function setup(seed?: (d: FakeDriver) => void) {
  const driver = new FakeDriver();
  driver.images.add(IMAGE);
  seed?.(driver);
  const manager = new PodManager({
    driver,
    images: new ImagePuller(driver, log),
    node: NODE,
    address: '127.0.0.1',
    log,
    onChange: () => {},
    resyncMs: 60_000,
  });
  manager.start();
  managers.push(manager);
  const status = (id: string): ReplicaStatus | undefined => manager.statuses().find((s) => s.id === id);
  const initStatus = (id: string, name: string) => status(id)?.initContainers?.find((c) => c.name === name);
  /** The init container exits by itself with `code`. */
  const exit = (id: string, name: string, code: number) =>
    driver.crash(driver.byName(`berth-${NODE}-${id}-${name}`)!.id, code);
  return { driver, manager, status, initStatus, exit };
}

async function until<T>(what: string, fn: () => T | undefined | false, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const settle = () => new Promise((r) => setTimeout(r, 50));
const starts = (d: FakeDriver) => d.calls.filter((c) => c.startsWith('start '));

describe('init containers', () => {
  it('run one after another to success, in the network holder, before any app container', async () => {
    const { driver, manager, status, exit } = setup();
    await manager.apply([replica('a')]);
    await until('first init running', () => status('a')?.initContainers?.[0]?.state === 'running');
    await settle();
    expect(status('a')).toMatchObject({
      phase: 'Starting',
      ready: false,
      message: 'Init:0/2',
      containers: [{ name: 'web', state: 'waiting', reason: 'PodInitializing' }],
      initContainers: [
        { name: 'migrate', state: 'running' },
        { name: 'seed', state: 'waiting' },
      ],
    });
    expect(starts(driver)).toEqual(['start berth-n1-a-POD', 'start berth-n1-a-migrate']);
    exit('a', 'migrate', 0);
    await until('second init running', () => status('a')?.initContainers?.[1]?.state === 'running');
    expect(status('a')?.message).toBe('Init:1/2');
    expect(status('a')?.containers[0]?.state).toBe('waiting');
    exit('a', 'seed', 0);
    const s = await until('ready', () => status('a')?.ready && status('a'));
    expect(s).toMatchObject({
      phase: 'Running',
      containers: [{ name: 'web', state: 'running', restartCount: 0 }],
      initContainers: [
        { name: 'migrate', state: 'terminated', reason: 'Completed', exitCode: 0 },
        { name: 'seed', state: 'terminated', reason: 'Completed', exitCode: 0 },
      ],
    });
    expect(s.message).toBeUndefined();
    // The holder owns the namespace and publishes the pod's ports; it is not shown.
    const holder = driver.byName('berth-n1-a-POD')!;
    expect(driver.calls).toContain(`import ${pauseImage()!.ref}`);
    expect(holder.spec.publish).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
    for (const name of ['migrate', 'seed', 'web'])
      expect(driver.calls).toContain(`create berth-n1-a-${name} in ${holder.id}`);
    expect(s.containers[0]!.hostPorts).toEqual([
      { containerPort: 8080, hostPort: holder.hostPorts[0]!.hostPort },
    ]);
    // Logs: the init containers' as well as the app's, never the holder's.
    const logs = await manager.answerLog({ id: 'l1', replicaId: 'a', tail: 10 });
    expect(logs.lines.join('\n')).toContain('log of berth-n1-a-migrate');
    expect(logs.lines.join('\n')).toContain('log of berth-n1-a-web');
    expect(logs.lines.join('\n')).not.toContain(`-${HOLDER_NAME}`);
  });

  it('restarts a failing init container with back-off, and never reruns one that succeeded', async () => {
    const { driver, manager, status, initStatus, exit } = setup();
    await manager.apply([replica('a', { initContainers: [init('migrate')] })]);
    await until('init running', () => initStatus('a', 'migrate')?.state === 'running');
    exit('a', 'migrate', 1);
    await until(
      'restarted',
      () => initStatus('a', 'migrate')?.restartCount === 1 && initStatus('a', 'migrate')?.state === 'running',
    );
    exit('a', 'migrate', 1);
    const s = await until(
      'backing off',
      () => initStatus('a', 'migrate')?.state === 'waiting' && status('a'),
    );
    expect(s.initContainers![0]).toMatchObject({ reason: 'CrashLoopBackOff', exitCode: 1, restartCount: 1 });
    expect(s.message).toMatch(
      /^Init:0\/1: back-off 10s restarting failed container migrate \(exit code 1\)$/,
    );
    expect(s.containers[0]).toMatchObject({ state: 'waiting', reason: 'PodInitializing' });
    expect(driver.calls.filter((c) => c.startsWith('create berth-n1-a-web'))).toEqual([]);
  });

  it('an app container that restarts does not run the init containers again', async () => {
    const { driver, manager, status, exit } = setup();
    await manager.apply([replica('a', { initContainers: [init('migrate')] })]);
    await until('init running', () => status('a')?.initContainers?.[0]?.state === 'running');
    exit('a', 'migrate', 0);
    await until('ready', () => status('a')?.ready);
    driver.crash(status('a')!.containers[0]!.containerId!, 1);
    await until('app restarted', () => status('a')?.ready && status('a')?.containers[0]?.restartCount === 1);
    expect(starts(driver).filter((c) => c.endsWith('-migrate'))).toHaveLength(1);
    expect(status('a')?.initContainers?.[0]).toMatchObject({ state: 'terminated', restartCount: 0 });
  });

  it('with restartPolicy Never, a failed init container fails the replica', async () => {
    const { driver, manager, status, exit } = setup();
    await manager.apply([replica('a', { restartPolicy: 'Never', initContainers: [init('migrate')] })]);
    await until('init running', () => status('a')?.initContainers?.[0]?.state === 'running');
    exit('a', 'migrate', 3);
    const s = await until('failed', () => status('a')?.phase === 'Failed' && status('a'));
    expect(s.message).toBe('Init:Error: init container migrate exited with code 3');
    expect(s.initContainers![0]).toMatchObject({ state: 'terminated', reason: 'Error', exitCode: 3 });
    await settle();
    expect(driver.calls.filter((c) => c.includes('-a-web'))).toEqual([]);
  });

  it('starts a sidecar before the next container, restarts it, and stops it after the app containers', async () => {
    const { driver, manager, status, initStatus, exit } = setup();
    const a = replica('a', {
      initContainers: [
        init('migrate'),
        init('proxy', { restartPolicy: 'Always', ports: [{ containerPort: 15000, protocol: 'TCP' }] }),
      ],
    });
    await manager.apply([a]);
    await until('migrate running', () => initStatus('a', 'migrate')?.state === 'running');
    exit('a', 'migrate', 0);
    await until('ready', () => status('a')?.ready);
    const order = starts(driver);
    expect(order).toEqual([
      'start berth-n1-a-POD',
      'start berth-n1-a-migrate',
      'start berth-n1-a-proxy',
      'start berth-n1-a-web',
    ]);
    expect(initStatus('a', 'proxy')).toMatchObject({ state: 'running', ready: true });
    expect(driver.byName('berth-n1-a-POD')!.spec.publish.map((p) => p.containerPort)).toEqual([15000, 8080]);
    // A sidecar that exits, even with 0, is restarted; the pod stays up meanwhile.
    exit('a', 'proxy', 0);
    await until(
      'sidecar restarted',
      () => initStatus('a', 'proxy')?.restartCount === 1 && status('a')?.ready,
    );
    await manager.apply([]);
    await until('gone', () => !status('a'));
    const stops = driver.stops.map((s) => s.name.replace('berth-n1-a-', ''));
    expect(stops.indexOf('web')).toBeLessThan(stops.indexOf('proxy'));
    expect(stops.indexOf('proxy')).toBeLessThan(stops.indexOf('POD'));
  });

  it('a sidecar with a startup probe holds the app containers until the probe passes', async () => {
    const { driver, manager, status, initStatus } = setup();
    let healthy = false;
    driver.execHandler = () => (healthy ? 0 : 1);
    const probe = {
      exec: { command: ['ok'] },
      initialDelaySeconds: 0,
      periodSeconds: 1,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 30,
    };
    await manager.apply([
      replica('a', { initContainers: [init('proxy', { restartPolicy: 'Always', startupProbe: probe })] }),
    ]);
    await until('sidecar running', () => initStatus('a', 'proxy')?.state === 'running');
    await settle();
    expect(status('a')?.message).toBe('Init:0/1');
    expect(driver.calls.filter((c) => c.includes('-a-web'))).toEqual([]);
    healthy = true;
    await until('ready', () => status('a')?.ready);
    expect(starts(driver).at(-1)).toBe('start berth-n1-a-web');
  });

  it('an agent restarted beside a running pod does not run its completed init containers again', async () => {
    const a = replica('a');
    const specs = planContainers({ ...a, containers: podMembers(a).map((m) => m.spec) }, NODE, '127.0.0.1');
    const { driver, manager, status } = setup((d) => {
      d.images.add(pauseImage()!.ref);
      const holder = d.seed(specs[0]!.spec);
      d.seed({ ...specs[1]!.spec, networkFrom: holder }, false);
      d.seed({ ...specs[2]!.spec, networkFrom: holder }, false);
      d.seed({ ...specs[3]!.spec, networkFrom: holder });
    });
    await manager.apply([a]);
    const s = await until('ready', () => status('a')?.ready && status('a'));
    expect(s.initContainers!.map((c) => c.state)).toEqual(['terminated', 'terminated']);
    await settle();
    expect(driver.calls.filter((c) => c.startsWith('create') || c.startsWith('start'))).toEqual([]);
  });
});

// Compile-time: an init container is a container the pod plans like the others.
const _asContainer: AssignedContainer = container();
void _asContainer;

describe('a pod whose app containers are done', () => {
  it('stops its sidecars (restartPolicy Never): the replica Succeeded, nothing restarted', async () => {
    const { driver, manager, status, initStatus } = setup();
    await manager.apply([
      replica('a', { restartPolicy: 'Never', initContainers: [init('proxy', { restartPolicy: 'Always' })] }),
    ]);
    await until('ready', () => status('a')?.ready);
    driver.crash(status('a')!.containers[0]!.containerId!, 0);
    const s = await until('succeeded', () => status('a')?.phase === 'Succeeded' && status('a'));
    await until('sidecar stopped', () => initStatus('a', 'proxy')?.state === 'terminated');
    expect(s.containers[0]).toMatchObject({ state: 'terminated', reason: 'Completed' });
    await settle();
    expect(driver.byName('berth-n1-a-proxy')!.running).toBe(false);
    expect(driver.byName('berth-n1-a-POD')!.running).toBe(false);
    const stops = driver.stops.map((x) => x.name.replace('berth-n1-a-', ''));
    expect(stops).toEqual(['proxy', 'POD']);
    expect(starts(driver).filter((c) => c.endsWith('-proxy'))).toHaveLength(1);
  });
});

describe('terminating a pod with sidecars', () => {
  it("gives the sidecars what the app containers left of the pod's grace, not a grace of their own", async () => {
    const { driver, manager, status } = setup();
    const a = replica('a', {
      terminationGracePeriodSeconds: 10,
      initContainers: [init('proxy', { restartPolicy: 'Always' })],
      containers: [container({ lifecycle: { preStop: { sleep: { seconds: 3 } } } })],
    });
    await manager.apply([a]);
    await until('ready', () => status('a')?.ready);
    await manager.apply([]);
    await until('gone', () => !status('a'), 15_000);
    const grace = (name: string) => driver.stops.find((s) => s.name === `berth-n1-a-${name}`)!.graceSeconds;
    // The app's preStop hook took 3 of the 10 seconds: what is left goes to its SIGTERM and then to the sidecar.
    expect(grace('web')).toBe(7);
    expect(grace('proxy')).toBeLessThanOrEqual(7);
    expect(grace('proxy')).toBeGreaterThanOrEqual(2);
  });
});
