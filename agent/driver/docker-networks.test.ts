import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { bridgeName, namespaceNetwork } from '../namespace-network.ts';
import { DockerNetworks, isNetworkMissing } from './docker-networks.ts';

/** The engine's error as dockerode raises it. */
function engineError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) - ${message}`), {
    statusCode,
    json: { message },
  });
}

interface StubNetwork {
  Id: string;
  Name: string;
  Labels: Record<string, string>;
  Options?: Record<string, string>;
}

/** Just the network and container calls DockerNetworks makes, over maps. */
function stubEngine() {
  const networks = new Map<string, StubNetwork>();
  /** network name → containers attached (any state). */
  const attached = new Map<string, string[]>();
  const calls: string[] = [];
  let failCreate: Error | undefined;
  let seq = 0;
  const docker = {
    info: async () => ({ ID: 'ENGINE-1', DockerRootDir: '/var/lib/docker' }),
    getNetwork: (idOrName: string) => ({
      inspect: async () => {
        calls.push(`inspect ${idOrName}`);
        const n = [...networks.values()].find((x) => x.Id === idOrName || x.Name === idOrName);
        if (!n) throw engineError(404, `network ${idOrName} not found`);
        return n;
      },
      remove: async () => {
        calls.push(`remove ${idOrName}`);
        const n = [...networks.values()].find((x) => x.Id === idOrName || x.Name === idOrName);
        if (!n) throw engineError(404, `network ${idOrName} not found`);
        networks.delete(n.Name);
      },
    }),
    createNetwork: async (o: {
      Name: string;
      Labels: Record<string, string>;
      Options: Record<string, string>;
    }) => {
      calls.push(`create ${o.Name}`);
      await new Promise((r) => setTimeout(r, 5));
      if (failCreate) throw failCreate;
      if (networks.has(o.Name)) throw engineError(409, `network with name ${o.Name} already exists`);
      networks.set(o.Name, { Id: `id${++seq}`, Name: o.Name, Labels: o.Labels, Options: o.Options });
      return { id: `id${seq}` };
    },
    listNetworks: async (o: { filters: { label: string[] } }) => {
      calls.push(`list networks ${o.filters.label.join(',')}`);
      return [...networks.values()].filter((n) => o.filters.label.every((l) => l in n.Labels));
    },
    listContainers: async (o: { all: boolean; filters: { network: string[] } }) => {
      calls.push(`list containers ${o.filters.network.join(',')}`);
      return (attached.get(o.filters.network[0]!) ?? []).map((Id) => ({ Id }));
    },
  };
  return {
    docker: docker as unknown as Docker,
    networks,
    attached,
    calls,
    failCreateWith: (e: Error | undefined) => {
      failCreate = e;
    },
  };
}

const shop = namespaceNetwork('shop');

describe('DockerNetworks', () => {
  it('creates a namespace network once, labelled, on its own bridge, even for concurrent creates', async () => {
    const engine = stubEngine();
    const nets = new DockerNetworks(engine.docker);
    await Promise.all([nets.ensure(shop), nets.ensure(shop), nets.withNetwork(shop, async () => 'c1')]);
    await nets.ensure(shop);
    expect(engine.calls.filter((c) => c.startsWith('create'))).toEqual(['create berth-ns-shop']);
    expect(engine.networks.get('berth-ns-shop')).toMatchObject({
      Labels: { 'berth.dev/namespace': 'shop' },
      Options: { 'com.docker.network.bridge.name': bridgeName('ENGINE-1\n/var/lib/docker', 'shop') },
    });
  });

  it('takes over a network another agent on the engine made, and refuses one Berth did not make', async () => {
    const engine = stubEngine();
    engine.networks.set(shop.name, { Id: 'x', Name: shop.name, Labels: { 'berth.dev/namespace': 'shop' } });
    await new DockerNetworks(engine.docker).ensure(shop);
    expect(engine.calls.some((c) => c.startsWith('create'))).toBe(false);

    const foreign = stubEngine();
    foreign.networks.set(shop.name, { Id: 'y', Name: shop.name, Labels: {} });
    await expect(new DockerNetworks(foreign.docker).ensure(shop)).rejects.toThrow(
      /a Docker network named berth-ns-shop exists without the label berth\.dev\/namespace=shop/,
    );
  });

  it('says what to do when the engine has no address pool left', async () => {
    const engine = stubEngine();
    engine.failCreateWith(
      engineError(
        400,
        'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network',
      ),
    );
    const error = await new DockerNetworks(engine.docker).ensure(shop).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /^cannot create the network of namespace shop: the Docker Engine has no address pool left \(its default pools hold about 30 bridge networks/,
    );
    expect((error as Error).message).toMatch(/default-address-pools.*restart Docker/);
    engine.failCreateWith(engineError(500, 'something else'));
    await expect(new DockerNetworks(engine.docker).ensure(shop)).rejects.toThrow(
      /^cannot create the network of namespace shop: something else$/,
    );
  });

  it('makes the network again when it vanished under a create, and retries the create once', async () => {
    const engine = stubEngine();
    const nets = new DockerNetworks(engine.docker);
    await nets.ensure(shop);
    engine.networks.clear(); // another agent's prune
    let attempts = 0;
    const id = await nets.withNetwork(shop, async () => {
      attempts++;
      if (!engine.networks.has(shop.name)) throw engineError(404, `network ${shop.name} not found`);
      return 'c1';
    });
    expect(id).toBe('c1');
    expect(attempts).toBe(2);
    expect(engine.networks.has(shop.name)).toBe(true);
    expect(isNetworkMissing(engineError(404, 'No such image: x'))).toBe(false);
  });

  it('prunes namespace networks no container uses, keeping those in use or being created into', async () => {
    const engine = stubEngine();
    const nets = new DockerNetworks(engine.docker);
    for (const ns of ['shop', 'blog', 'docs', 'busy']) await nets.ensure(namespaceNetwork(ns));
    engine.networks.set('mine', { Id: 'm', Name: 'mine', Labels: { 'berth.dev/namespace': 'x' } });
    engine.attached.set('berth-ns-blog', ['stopped-container']);
    let release: () => void = () => {};
    const creating = nets.withNetwork(
      namespaceNetwork('busy'),
      () => new Promise<string>((r) => (release = () => r('c'))),
    );
    await new Promise((r) => setTimeout(r, 10));
    expect((await nets.prune()).sort()).toEqual(['berth-ns-docs', 'berth-ns-shop']);
    expect([...engine.networks.keys()].sort()).toEqual(['berth-ns-blog', 'berth-ns-busy', 'mine']);
    release();
    await creating;
    // Pruned networks are made again when their namespace comes back.
    await nets.ensure(shop);
    expect(engine.networks.has(shop.name)).toBe(true);
  });
});
