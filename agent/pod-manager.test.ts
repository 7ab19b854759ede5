import { afterEach, describe, expect, it } from 'vitest';
import type { AssignedContainer, Assignment, ReplicaStatus } from '../common/agent-protocol.ts';
import { planContainers } from './container-spec.ts';
import { EngineUnavailableError } from './driver/driver.ts';
import { ImagePuller } from './image-puller.ts';
import { LABEL_NODE, LABEL_REPLICA } from './labels.ts';
import { createLogger } from './log.ts';
import { PodManager } from './pod-manager.ts';
import { FakeDriver } from './testing/fake-driver.ts';

const NODE = 'n1';
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
  return { driver, manager, status };
}

async function until<T>(what: string, fn: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('PodManager with a fake runtime', () => {
  it('creates, starts and reports a replica ready with its host ports', async () => {
    const { manager, status } = setup();
    await manager.apply([replica('a')]);
    const s = await until('ready', () => status('a')?.ready && status('a'));
    expect(s).toMatchObject({
      phase: 'Running',
      containers: [{ name: 'web', state: 'running', restartCount: 0 }],
    });
    expect(s.containers[0]!.hostPorts).toEqual([{ containerPort: 8080, hostPort: 30000 }]);
  });

  it('adopts matching containers, replaces stale ones, removes orphans, duplicates nothing', async () => {
    const a = replica('a');
    const b = replica('b', { containers: [container({ env: [{ name: 'V', value: '2' }] })] });
    let adoptedId = '';
    const { driver, manager, status } = setup((d) => {
      adoptedId = d.seed(planContainers(a, NODE, '127.0.0.1')[0]!.spec);
      // b's container from an older configuration (V=1).
      d.seed(
        planContainers(
          { ...b, containers: [container({ env: [{ name: 'V', value: '1' }] })] },
          NODE,
          '127.0.0.1',
        )[0]!.spec,
      );
      d.seed(planContainers(replica('gone'), NODE, '127.0.0.1')[0]!.spec);
      // Another node's container on the same engine.
      d.seed(planContainers(replica('other'), 'n2', '127.0.0.1')[0]!.spec);
    });
    await manager.apply([a, b]);
    await until('both ready', () => status('a')?.ready && status('b')?.ready);
    await until('orphan removed', () => driver.calls.includes('remove berth-n1-gone-web'));
    expect(status('a')?.containers[0]?.containerId).toBe(adoptedId);
    expect(driver.calls).not.toContain('create berth-n1-a-web');
    expect(driver.calls).toContain('remove berth-n1-b-web');
    expect(driver.calls).toContain('create berth-n1-b-web');
    const mine = [...driver.containers.values()].filter((c) => c.spec.labels[LABEL_NODE] === NODE);
    expect(mine.map((c) => c.spec.labels[LABEL_REPLICA]).sort()).toEqual(['a', 'b']);
    expect(driver.byName('berth-n2-other-web')).toBeDefined();
  });

  it('restarts a crash at once, then backs off', async () => {
    const { driver, manager, status } = setup();
    await manager.apply([replica('a')]);
    await until('ready', () => status('a')?.ready);
    const id = status('a')!.containers[0]!.containerId!;
    driver.crash(id, 1);
    await until('restarted', () => status('a')?.ready && status('a')?.containers[0]?.restartCount === 1);
    driver.crash(id, 1);
    const s = await until(
      'backing off',
      () => status('a')?.containers[0]?.state === 'waiting' && status('a'),
    );
    expect(s.containers[0]).toMatchObject({ reason: 'CrashLoopBackOff', exitCode: 1, restartCount: 1 });
    expect(s.message).toMatch(/^back-off 10s restarting failed container web/);
  });

  it('waits out a runtime that does not answer, then restarts at once without backing off', async () => {
    const { driver, manager, status } = setup();
    await manager.apply([replica('a')]);
    await until('ready', () => status('a')?.ready);
    const id = status('a')!.containers[0]!.containerId!;
    // Docker stopping: it stops the containers, then stops answering.
    driver.down = true;
    driver.crash(id, 143);
    const waiting = await until(
      'waiting',
      () => /waiting for the container runtime/.test(status('a')?.message ?? '') && status('a'),
    );
    expect(waiting.phase).toBe('Starting');
    await new Promise((r) => setTimeout(r, 1500)); // a few attempts while it is down
    driver.down = false;
    const back = await until('ready again', () => status('a')?.ready && status('a'));
    expect(back.containers[0]).toMatchObject({ containerId: id, restartCount: 1 });
    expect(back.message).toBeUndefined();
  });

  it('does not take a listing from before a start for a death (the engine is asked again)', async () => {
    const { driver, manager, status } = setup();
    await manager.apply([replica('a')]);
    await until('ready', () => status('a')?.ready);
    // A listing taken while the container was down (say, while dockerd restarted), applied after
    // it was started again.
    const list = driver.listContainers.bind(driver);
    driver.listContainers = async (labels) => (await list(labels)).map((c) => ({ ...c, running: false }));
    await manager.resync();
    driver.listContainers = list;
    await new Promise((r) => setTimeout(r, 100));
    expect(status('a')).toMatchObject({ ready: true, containers: [{ state: 'running', restartCount: 0 }] });
    expect(driver.calls.filter((c) => c.startsWith('start'))).toHaveLength(1);
  });

  it('becomes ready when the engine fails to answer just after a start (its ports are read again)', async () => {
    const { driver, manager, status } = setup();
    // dockerd going down (or just back) between the start and the inspection of the ports.
    const inspect = driver.inspectContainer.bind(driver);
    let failures = 1;
    driver.inspectContainer = async (id) => {
      if (failures-- > 0)
        throw new EngineUnavailableError('the Docker Engine did not answer: socket hang up');
      return inspect(id);
    };
    await manager.apply([replica('a')]);
    const s = await until('ready', () => status('a')?.ready && status('a'));
    expect(s.containers[0]).toMatchObject({
      state: 'running',
      restartCount: 0,
      hostPorts: [{ containerPort: 8080 }],
    });
  });

  it('restarts pod members after their network owner restarts', async () => {
    const { driver, manager, status } = setup();
    const pod = replica('p', { containers: [container(), container({ name: 'side', ports: [] })] });
    await manager.apply([pod]);
    await until('ready', () => status('p')?.ready);
    const [web, side] = status('p')!.containers;
    expect(driver.calls).toContain(`create berth-n1-p-side in ${web!.containerId}`);
    driver.crash(web!.containerId!, 137);
    await until(
      'both restarted',
      () => status('p')?.ready && status('p')?.containers.every((c) => c.restartCount === 1),
    );
    expect(status('p')!.containers[1]!.containerId).toBe(side!.containerId);
  });

  it('replaces a container whose configuration changed, keeping the replica', async () => {
    const { driver, manager, status } = setup();
    await manager.apply([replica('a')]);
    await until('ready', () => status('a')?.ready);
    const before = status('a')!.containers[0]!.containerId;
    await manager.apply([replica('a', { containers: [container({ env: [{ name: 'X', value: 'y' }] })] })]);
    await until('replaced', () => status('a')?.ready && status('a')?.containers[0]?.containerId !== before);
    expect(driver.containers.has(before!)).toBe(false);
  });

  it('removes a container dropped from the pod at once, the others running on', async () => {
    const { driver, manager, status } = setup();
    const pod = replica('p', { containers: [container(), container({ name: 'side', ports: [] })] });
    await manager.apply([pod]);
    await until('ready', () => status('p')?.ready);
    const web = status('p')!.containers[0]!.containerId;
    await manager.apply([{ ...pod, containers: [container()] }]);
    // Well before the periodic listing (60 s here) would find it.
    await until('side removed', () => !driver.byName('berth-n1-p-side'));
    expect(status('p')).toMatchObject({ ready: true, containers: [{ name: 'web', containerId: web }] });
  });

  it('terminates desired-stopped replicas (Terminating, then gone), members before the owner', async () => {
    const { driver, manager, status } = setup();
    const pod = replica('p', { containers: [container(), container({ name: 'side', ports: [] })] });
    await manager.apply([pod]);
    await until('ready', () => status('p')?.ready);
    await manager.apply([{ ...pod, desired: 'stopped' }]);
    expect(status('p')?.phase).toBe('Terminating');
    await until('gone', () => status('p') === undefined);
    const removes = driver.calls.filter((c) => c.startsWith('remove'));
    expect(removes).toEqual(['remove berth-n1-p-side', 'remove berth-n1-p-web']);
    expect(driver.containers.size).toBe(0);
  });

  it('reports a failed pull with the registry message; other replicas run', async () => {
    const { driver, manager, status } = setup();
    driver.pullErrors.set('private/app:1', 'unauthorized: authentication required');
    await manager.apply([
      replica('bad', { containers: [container({ image: 'private/app:1' })] }),
      replica('good'),
    ]);
    await until('good ready', () => status('good')?.ready);
    const s = await until('bad failed', () => status('bad')?.phase === 'Failed' && status('bad'));
    expect(s.message).toBe('failed to pull image: unauthorized: authentication required');
    expect(s.containers[0]).toMatchObject({ state: 'waiting', reason: 'Error' });
  });

  it("creates containers under the node's container policy (--pids-limit)", async () => {
    const driver = new FakeDriver();
    driver.images.add(IMAGE);
    const manager = new PodManager({
      driver,
      images: new ImagePuller(driver, log),
      node: NODE,
      address: '127.0.0.1',
      log,
      onChange: () => {},
      resyncMs: 60_000,
      containerPolicy: { pidsLimit: 64 },
    });
    managers.push(manager);
    await manager.apply([replica('a')]);
    const created = await until('created', () => driver.byName('berth-n1-a-web'));
    expect(created.spec.pidsLimit).toBe(64);
  });

  it('answers log requests, prefixing lines when the pod has several containers', async () => {
    const { manager, status } = setup();
    await manager.apply([
      replica('p', { containers: [container(), container({ name: 'side', ports: [] })] }),
    ]);
    await until('ready', () => status('p')?.ready);
    const answer = await manager.answerLog({ id: 'l1', replicaId: 'p', tail: 10 });
    expect(answer).toEqual({
      id: 'l1',
      lines: ['[web] log of berth-n1-p-web', '[side] log of berth-n1-p-side'],
    });
    // One container, stamped: what the Kubernetes face asks for (kubectl logs -c side --timestamps).
    expect(
      await manager.answerLog({ id: 'l2', replicaId: 'p', tail: 10, container: 'side', timestamps: true }),
    ).toEqual({ id: 'l2', lines: ['2024-01-01T00:00:00Z log of berth-n1-p-side'] });
    expect(
      (await manager.answerLog({ id: 'l3', replicaId: 'p', tail: 10, container: 'nope' })).error,
    ).toContain('container "nope"');
  });
});

describe('a pod its assignment cannot configure (a missing secret)', () => {
  const withSecret = (value: string) =>
    container({
      env: [
        { name: 'MODE', value: 'prod' },
        { name: 'DB_PASSWORD', value },
      ],
    });
  // What the control plane sends while the secret is missing: the reason, and no empty value.
  const unconfigured = (id: string, over: Partial<Assignment> = {}) =>
    replica(id, {
      configError: 'secret "db" not found',
      containers: [container({ env: [{ name: 'MODE', value: 'prod' }] })],
      ...over,
    });

  it('creates and pulls nothing, reports Pending with the reason, and starts once the reason is gone', async () => {
    const { driver, manager, status } = setup();
    await manager.apply([unconfigured('a')]);
    const pending = await until('pending', () => status('a')?.phase === 'Pending' && status('a'));
    expect(pending).toMatchObject({
      ready: false,
      message: 'CreateContainerConfigError: secret "db" not found',
      containers: [{ name: 'web', state: 'waiting', reason: 'CreateContainerConfigError' }],
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(driver.calls.filter((c) => /^(pull|create|start) /.test(c))).toEqual([]);
    expect(status('a')?.phase).toBe('Pending');

    await manager.apply([replica('a', { containers: [withSecret('hunter2')] })]);
    const s = await until('ready', () => status('a')?.ready && status('a'));
    expect(s.phase).toBe('Running');
    expect(s.message).toBeUndefined();
    expect(driver.byName('berth-n1-a-web')?.spec.env).toContain('DB_PASSWORD=hunter2');
  });

  it('keeps a running pod as it was made when its secret goes, restarts included', async () => {
    const { driver, manager, status } = setup();
    const running = replica('a', { containers: [withSecret('hunter2')] });
    await manager.apply([running]);
    await until('ready', () => status('a')?.ready);
    const id = status('a')!.containers[0]!.containerId!;

    await manager.apply([unconfigured('a')]);
    driver.crash(id, 1);
    await until('restarted', () => status('a')?.ready && status('a')?.containers[0]?.restartCount === 1);
    expect(status('a')).toMatchObject({ phase: 'Running', containers: [{ containerId: id }] });
    expect(driver.calls.filter((c) => /^(remove|create) /.test(c))).toEqual(['create berth-n1-a-web']);

    // The secret is back with the same value: the same container goes on.
    await manager.apply([running]);
    await new Promise((r) => setTimeout(r, 50));
    expect(status('a')).toMatchObject({ ready: true, containers: [{ containerId: id }] });
    expect(driver.containers.has(id)).toBe(true);
  });

  it('adopts, after an agent restart, the containers such a pod already runs', async () => {
    const made = replica('a', { containers: [withSecret('hunter2')] });
    let id = '';
    const { driver, manager, status } = setup((d) => {
      id = d.seed(planContainers(made, NODE, '127.0.0.1')[0]!.spec);
    });
    await manager.apply([unconfigured('a')]);
    await until('adopted and ready', () => status('a')?.ready);
    expect(status('a')).toMatchObject({ phase: 'Running', containers: [{ containerId: id }] });
    expect(driver.calls.filter((c) => /^(remove|create|stop) /.test(c))).toEqual([]);
    // Told again how it was made: kept, not replaced.
    await manager.apply([made]);
    await new Promise((r) => setTimeout(r, 50));
    expect(status('a')?.containers[0]?.containerId).toBe(id);
    expect(driver.calls.filter((c) => /^(remove|create|stop) /.test(c))).toEqual([]);
  });
});
