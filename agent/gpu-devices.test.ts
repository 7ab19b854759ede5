import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import type { Assignment } from '../common/agent-protocol.ts';
import { planContainers } from './container-spec.ts';
import { DockerDriver } from './driver/docker-driver.ts';
import { ImagePuller } from './image-puller.ts';
import { createLogger } from './log.ts';
import { PodManager } from './pod-manager.ts';
import { FakeDriver } from './testing/fake-driver.ts';

const log = createLogger('error');

/**
 * nvidia.com/gpu becomes a Docker device request (what `docker run --gpus N` sends); other
 * extended resources are counted by the scheduler and change nothing in the container. This
 * machine has no GPU: the create body is read from a stand-in for the engine.
 */

const pod = (extended?: Record<string, number>): Assignment => ({
  id: 'r1',
  namespace: 'ml',
  deployment: 'train',
  revision: 1,
  desired: 'running',
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 5,
  drainDelaySeconds: 0,
  containers: [
    {
      name: 'train',
      image: 'trainer:1',
      imagePullPolicy: 'IfNotPresent',
      env: [],
      ports: [],
      resources: { cpuLimitMillis: 1000, ...(extended ? { extended } : {}) },
    },
  ],
});

/** The engine's create endpoint, as dockerode calls it: keeps what it was sent. */
function engine() {
  const bodies: Docker.ContainerCreateOptions[] = [];
  const docker = {
    createContainer: async (opts: Docker.ContainerCreateOptions) => {
      bodies.push(opts);
      return { id: `c${bodies.length}` };
    },
  } as unknown as Docker;
  return { driver: new DockerDriver(docker), bodies };
}

describe('GPUs on the agent', () => {
  it('asks the engine for the count of NVIDIA GPUs with the gpu capability', async () => {
    const [planned] = planContainers(pod({ 'nvidia.com/gpu': 2 }), 'vm-1', '10.0.0.5');
    expect(planned!.spec.gpus).toBe(2);
    const { driver, bodies } = engine();
    // A member of the pod joins the owner's network: the create goes straight to the engine.
    await driver.createContainer({ ...planned!.spec, networkFrom: 'owner' });
    expect(bodies[0]!.HostConfig?.DeviceRequests).toEqual([
      { Driver: 'nvidia', Count: 2, Capabilities: [['gpu']] },
    ]);
  });

  it('sends no device request for other extended resources or none, and keeps their containers as they were', async () => {
    const { driver, bodies } = engine();
    const plain = planContainers(pod(), 'vm-1', '10.0.0.5')[0]!;
    const dongle = planContainers(pod({ 'example.com/dongle': 1 }), 'vm-1', '10.0.0.5')[0]!;
    expect(dongle.hash).toBe(plain.hash);
    await driver.createContainer({ ...dongle.spec, networkFrom: 'owner' });
    expect(bodies[0]!.HostConfig).not.toHaveProperty('DeviceRequests');
  });

  it('creates the replica with its GPUs when the pod manager applies the assignment', async () => {
    const driver = new FakeDriver();
    driver.images.add('trainer:1');
    const manager = new PodManager({
      driver,
      images: new ImagePuller(driver, log),
      node: 'vm-1',
      address: '127.0.0.1',
      log,
      onChange: () => {},
      resyncMs: 60_000,
    });
    manager.start();
    try {
      await manager.apply([pod({ 'nvidia.com/gpu': 1 })]);
      const deadline = Date.now() + 3000;
      while (driver.containers.size === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      expect([...driver.containers.values()].map((c) => c.spec.gpus)).toEqual([1]);
    } finally {
      await manager.stop();
    }
  });
});
