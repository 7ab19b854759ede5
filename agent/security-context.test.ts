import { afterEach, describe, expect, it } from 'vitest';
import type { AssignedContainer, Assignment, ReplicaStatus } from '../common/agent-protocol.ts';
import { assignedSecurity, PodSecurityContext, SecurityContext } from '../common/security-context.ts';
import { planContainers } from './container-spec.ts';
import { ImagePuller } from './image-puller.ts';
import { createLogger } from './log.ts';
import { PodManager } from './pod-manager.ts';
import { containerSecurity, nonRootRefusal, podFsGroup } from './security-context.ts';
import { FakeDriver } from './testing/fake-driver.ts';

const log = createLogger('error');

function container(over: Partial<AssignedContainer> = {}): AssignedContainer {
  return {
    name: 'web',
    image: 'app:1',
    imagePullPolicy: 'IfNotPresent',
    env: [],
    ports: [],
    resources: {},
    ...over,
  };
}

function replica(id: string, containers: AssignedContainer[]): Assignment {
  return {
    id,
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

/** The context as the control plane sends it, from the pod's and the container's as written. */
const sent = (pod: object | undefined, c: object | undefined) =>
  assignedSecurity(pod ? PodSecurityContext.parse(pod) : undefined, c ? SecurityContext.parse(c) : undefined)
    .securityContext;

describe('containerSecurity: a securityContext on Docker', () => {
  it("is exactly Berth's defaults without one, so containers made before keep their spec hash", () => {
    expect(containerSecurity(undefined)).toStrictEqual({
      noNewPrivileges: true,
      capAdd: [],
      capDrop: ['NET_RAW'],
    });
    const [plan] = planContainers(replica('r', [container()]), 'n1', '127.0.0.1');
    expect(plan?.spec.security).toStrictEqual({ noNewPrivileges: true, capAdd: [], capDrop: ['NET_RAW'] });
  });

  it('maps the hardened pod: user and group, fsGroup and supplementalGroups, read-only root, drop ALL', () => {
    const sc = sent(
      {
        runAsNonRoot: true,
        runAsUser: 10001,
        runAsGroup: 10001,
        fsGroup: 2000,
        supplementalGroups: [3000, 2000],
      },
      {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
      },
    );
    expect(containerSecurity(sc)).toStrictEqual({
      noNewPrivileges: true,
      capAdd: ['NET_BIND_SERVICE'],
      capDrop: ['ALL'],
      user: '10001:10001',
      groupAdd: ['2000', '3000'],
      readonlyRootfs: true,
    });
  });

  it('takes runAsUser alone as the uid (the group then is the image’s for it), and drops on top of NET_RAW', () => {
    expect(containerSecurity(sent({ runAsUser: 1000 }, { capabilities: { drop: ['CHOWN'] } }))).toStrictEqual(
      {
        noNewPrivileges: true,
        capAdd: [],
        capDrop: ['NET_RAW', 'CHOWN'],
        user: '1000',
      },
    );
  });

  it('keeps NET_RAW dropped unless the container adds it; drop wins over add of the same name, as in Kubernetes', () => {
    expect(containerSecurity(sent(undefined, { capabilities: { add: ['NET_RAW'] } }))).toMatchObject({
      capAdd: ['NET_RAW'],
      capDrop: [],
    });
    expect(
      containerSecurity(sent(undefined, { capabilities: { add: ['CHOWN'], drop: ['CHOWN'] } })),
    ).toMatchObject({
      capAdd: [],
      capDrop: ['NET_RAW', 'CHOWN'],
    });
  });

  it('lifts no-new-privileges only for allowPrivilegeEscalation true, and seccomp only for Unconfined', () => {
    expect(containerSecurity(sent(undefined, { allowPrivilegeEscalation: true })).noNewPrivileges).toBe(
      false,
    );
    expect(containerSecurity(sent(undefined, { allowPrivilegeEscalation: false })).noNewPrivileges).toBe(
      true,
    );
    expect(containerSecurity(sent({ seccompProfile: { type: 'Unconfined' } }, {})).seccompUnconfined).toBe(
      true,
    );
    expect(containerSecurity(sent({ seccompProfile: { type: 'RuntimeDefault' } }, {}))).not.toHaveProperty(
      'seccompUnconfined',
    );
  });

  it('runs privileged as Kubernetes does: every capability, no capability lists, no no-new-privileges', () => {
    expect(
      containerSecurity(sent({ runAsUser: 5 }, { privileged: true, capabilities: { drop: ['ALL'] } })),
    ).toStrictEqual({
      noNewPrivileges: false,
      capAdd: [],
      capDrop: [],
      privileged: true,
      user: '5',
    });
  });

  it('reaches the create spec through planContainers', () => {
    const c = container({ securityContext: sent({ fsGroup: 2000 }, { readOnlyRootFilesystem: true }) });
    const [plan] = planContainers(replica('r', [c]), 'n1', '127.0.0.1');
    expect(plan?.spec.security).toMatchObject({ readonlyRootfs: true, groupAdd: ['2000'] });
    expect(podFsGroup(replica('r', [container(), c]))).toBe(2000);
  });
});

describe('nonRootRefusal: the kubelet’s runAsNonRoot check', () => {
  const withContext = (pod: object, c: object = {}) => container({ securityContext: sent(pod, c) });

  it.each([
    [
      'an image without USER',
      {},
      '',
      'container has runAsNonRoot and image will run as root (pod: "r1", container: web)',
    ],
    ['USER 0', {}, '0', 'container has runAsNonRoot and image will run as root (pod: "r1", container: web)'],
    [
      'USER 0:0',
      {},
      '0:0',
      'container has runAsNonRoot and image will run as root (pod: "r1", container: web)',
    ],
    [
      'USER root',
      {},
      'root',
      'container has runAsNonRoot and image has non-numeric user (root), cannot verify user is non-root (pod: "r1", container: web)',
    ],
    [
      'USER app:app',
      {},
      'app:app',
      'container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root (pod: "r1", container: web)',
    ],
    [
      'runAsUser 0',
      { runAsUser: 0 },
      '10001',
      'container\'s runAsUser breaks non-root policy (pod: "r1", container: web)',
    ],
  ])('refuses %s', (_what, extra, imageUser, reason) => {
    expect(nonRootRefusal('r1', withContext({ runAsNonRoot: true, ...extra }), imageUser)).toBe(reason);
  });

  it.each([
    ['USER 10001', {}, '10001'],
    ['USER 10001:0 (root group, non-root user)', {}, '10001:0'],
    ['runAsUser over a root image', { runAsUser: 1000 }, ''],
    ['runAsNonRoot false', { runAsNonRoot: false }, ''],
  ])('lets %s run', (_what, extra, imageUser) => {
    expect(nonRootRefusal('r1', withContext({ runAsNonRoot: true, ...extra }), imageUser)).toBeUndefined();
  });

  it('takes the container’s runAsNonRoot over the pod’s', () => {
    expect(
      nonRootRefusal('r1', withContext({ runAsNonRoot: true }, { runAsNonRoot: false }), ''),
    ).toBeUndefined();
    expect(nonRootRefusal('r1', withContext({}, { runAsNonRoot: true }), '')).toMatch(/will run as root/);
  });
});

describe('a runAsNonRoot pod on the agent (fake runtime)', () => {
  const managers: PodManager[] = [];
  afterEach(async () => {
    for (const m of managers.splice(0)) await m.stop();
  });

  function setup() {
    const driver = new FakeDriver();
    driver.images.add('root:1');
    driver.images.add('app:1');
    driver.imageUsers.set('app:1', '10001');
    const manager = new PodManager({
      driver,
      images: new ImagePuller(driver, log),
      node: 'n1',
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

  it('creates nothing for a root image and says why, as the kubelet does; a non-root image runs', async () => {
    const { driver, manager, status } = setup();
    const nonRoot = sent({ runAsNonRoot: true }, undefined);
    await manager.apply([
      replica('root', [container({ image: 'root:1', securityContext: nonRoot })]),
      replica('app', [container({ image: 'app:1', securityContext: nonRoot })]),
    ]);
    await until('app ready', () => status('app')?.ready);
    const refused = await until('refusal', () => status('root')?.phase === 'Pending' && status('root'));
    expect(refused.message).toBe(
      'CreateContainerConfigError: container has runAsNonRoot and image will run as root (pod: "root", container: web)',
    );
    expect(refused.containers[0]).toMatchObject({ state: 'waiting', reason: 'CreateContainerConfigError' });
    expect(driver.calls.filter((c) => c.startsWith('create ') && c.includes('-root-'))).toEqual([]);

    // The same pod with a runAsUser runs: the refusal goes with the assignment that caused it.
    const withUser = sent({ runAsNonRoot: true, runAsUser: 1000 }, undefined);
    await manager.apply([
      replica('root', [container({ image: 'root:1', securityContext: withUser })]),
      replica('app', [container({ image: 'app:1', securityContext: nonRoot })]),
    ]);
    const running = await until('root pod ready', () => status('root')?.ready && status('root'));
    expect(running.message).toBeUndefined();
    const created = [...driver.containers.values()].find((c) => c.spec.image === 'root:1');
    expect(created?.spec.security.user).toBe('1000');
  });
});
