import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import Docker from 'dockerode';
import { docker as sharedEngine } from './agent-harness.ts';

/**
 * A Docker Engine of the test's own, so that restarting dockerd (which stops every container on
 * it: the shared engine runs without live-restore) disturbs nothing but this test's containers.
 * Every other e2e file, and whoever else uses this machine, keeps the shared engine.
 *
 * It gets its own data root, exec root, socket and bridge (a new Linux bridge on a free
 * 10.213.x.0/24; the shared engine's docker0 is never touched), runs without iptables rules (the
 * userland proxy publishes ports on 127.0.0.1) and the storage driver of the shared engine,
 * and is loaded with the given images from the shared engine. Needs root, as dockerd does.
 */
export interface IsolatedEngine {
  /** DOCKER_HOST value for agents. */
  host: string;
  docker: Docker;
  pid(): number | undefined;
  /** SIGTERM dockerd (it stops its containers), wait for it to exit, start it again. */
  restart(): Promise<{ downMs: number }>;
  close(): Promise<void>;
}

export async function startIsolatedEngine(images: string[]): Promise<IsolatedEngine> {
  if (process.getuid?.() !== 0) throw new Error('the isolated Docker Engine needs root (dockerd does)');
  const tag = randomBytes(3).toString('hex');
  const root = `/tmp/bf-${tag}`;
  const bridge = `bf${tag}`;
  const socket = `${root}/docker.sock`;
  mkdirSync(root, { recursive: true });
  const used = execFileSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' });
  // A random free one: lanes start engines at the same moment, and the lowest free one would be
  // the same for both.
  const free = [...Array(200).keys()].map((i) => 20 + i).filter((i) => !used.includes(`10.213.${i}.`));
  const third = free[Math.floor(Math.random() * free.length)];
  if (third === undefined) throw new Error('no free 10.213.x.0/24 for the isolated engine bridge');
  execFileSync('ip', ['link', 'add', 'name', bridge, 'type', 'bridge']);
  execFileSync('ip', ['addr', 'add', `10.213.${third}.1/24`, 'dev', bridge]);
  execFileSync('ip', ['link', 'set', bridge, 'up']);
  const driver = (await sharedEngine.info()).Driver as string;
  const args = [
    `--host=unix://${socket}`,
    `--data-root=${root}/data`,
    `--exec-root=${root}/exec`,
    `--pidfile=${root}/docker.pid`,
    `--bridge=${bridge}`,
    `--storage-driver=${driver}`,
    // Networks of its own (Berth's per namespace) from a range no other engine draws from: two
    // engines creating networks at once each see the other's subnet as free, and two bridges with
    // one subnet leave the containers behind one of them unreachable from the host.
    `--default-address-pool=base=100.${64 + ((third - 20) % 64)}.0.0/16,size=24`,
    '--iptables=false',
    '--ip-masq=false',
    '--ip6tables=false',
  ];
  const docker = new Docker({ socketPath: socket });
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';

  const start = async () => {
    const p = spawn('dockerd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    p.stdout?.on('data', (b: Buffer) => {
      log = (log + b.toString()).slice(-20_000);
    });
    p.stderr?.on('data', (b: Buffer) => {
      log = (log + b.toString()).slice(-20_000);
    });
    exited = new Promise((resolve) => p.once('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (p.exitCode !== null)
        throw new Error(`isolated dockerd exited with ${p.exitCode}:\n${log.slice(-3000)}`);
      const ok = await docker
        .ping()
        .then(() => true)
        .catch(() => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`isolated dockerd does not answer:\n${log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async () => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill('SIGTERM');
    const force = setTimeout(() => p.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(force);
  };
  const cleanup = async () => {
    // The Linux bridges of the networks agents made here (one per namespace) outlive the engine
    // and its data root; each keeps a subnet that every engine on the machine then skips, until
    // the shared engine has no address pool left. They go with the engine.
    const bridges: string[] = [];
    if (proc) {
      const list = await docker.listContainers({ all: true }).catch(() => []);
      await Promise.all(
        list.map((c) =>
          docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch(() => {}),
        ),
      );
      const networks = await docker.listNetworks().catch(() => []);
      for (const n of networks) {
        if (['bridge', 'host', 'none'].includes(n.Name)) continue;
        bridges.push(n.Options?.['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`);
        await docker
          .getNetwork(n.Id)
          .remove()
          .catch(() => {});
      }
      await stop();
    }
    for (const b of bridges) {
      try {
        execFileSync('ip', ['link', 'delete', b], { stdio: 'ignore' });
      } catch {
        // removed with its network
      }
    }
    // Whatever the engine left mounted under its root (an unclean stop) would make rm fail.
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(`${root}/`))
      .reverse();
    for (const m of mounts) {
      try {
        execFileSync('umount', ['-l', m]);
      } catch {
        // gone meanwhile
      }
    }
    try {
      execFileSync('ip', ['link', 'delete', bridge]);
    } catch {
      // already gone
    }
    if (existsSync(root)) rmSync(root, { recursive: true, force: true });
  };

  try {
    await start();
    for (const image of images) {
      const stream = await sharedEngine.getImage(image).get();
      const loaded = await docker.loadImage(stream);
      await new Promise<void>((resolve, reject) =>
        docker.modem.followProgress(loaded, (err) => (err ? reject(err) : resolve())),
      );
    }
  } catch (e) {
    await cleanup().catch(() => {});
    throw e;
  }
  return {
    host: `unix://${socket}`,
    docker,
    pid: () => proc?.pid,
    async restart() {
      const t0 = Date.now();
      await stop();
      await start();
      return { downMs: Date.now() - t0 };
    },
    close: cleanup,
  };
}
