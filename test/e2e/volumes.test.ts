import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demuxDockerStream } from '../../agent/log-tail.ts';
import { freshPostgres } from '../support/databases.ts';
import { type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually } from '../support/sim-agents.ts';
import {
  type AgentProcess,
  docker,
  HTTPD_1,
  nodeContainers,
  removeNodeContainers,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
} from './support/agent-harness.ts';
import { berthCli } from './support/cli-run.ts';

/**
 * A Deployment whose two containers share an emptyDir (one writes, the other reads it
 * read-only), with a memory emptyDir, a configMap volume (whole, and one key through subPath) and
 * a secret volume with items and a mode, on the real agent and Docker Engine.
 */
const NS = '/v1/namespaces/default';
const run = promisify(execFile);
const TMPFS_MAGIC = 0x01021994;

/** Runs a command in a container: its exit code and output. */
async function execIn(id: string, cmd: string[]): Promise<{ code: number; out: string }> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b));
  await new Promise((r) => stream.once('end', r));
  const code = (await exec.inspect()).ExitCode ?? -1;
  return { code, out: demuxDockerStream(Buffer.concat(chunks)) };
}
const sh = async (id: string, script: string) => (await execIn(id, ['sh', '-c', script])).out.trim();

/** `hostDir`: a directory of the node the namespace policy lets the pod bind. */
const manifest = (hostDir: string) => `apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data:
  greeting.txt: hello
  app.conf: "level=info"
---
apiVersion: v1
kind: Secret
metadata: {name: app-tls}
type: Opaque
data:
  tls.key: ${Buffer.from('PRIVATE KEY').toString('base64')}
  tls.crt: ${Buffer.from('CERT').toString('base64')}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: vol}
spec:
  replicas: 1
  selector:
    matchLabels: {app: vol}
  template:
    metadata:
      labels: {app: vol}
    spec:
      terminationGracePeriodSeconds: 2
      automountServiceAccountToken: false
      securityContext: {fsGroup: 2000}
      volumes:
      - name: shared
        emptyDir: {}
      - name: scratch
        emptyDir: {medium: Memory, sizeLimit: 16Mi}
      - name: config
        configMap: {name: app-config}
      - name: host
        hostPath: {path: ${hostDir}/logs, type: DirectoryOrCreate}
      - name: tls
        secret:
          secretName: app-tls
          defaultMode: 0444
          items:
          - {key: tls.key, path: keys/server.key, mode: 0400}
          - {key: tls.crt, path: server.crt}
      containers:
      - name: writer
        image: ${HTTPD_1}
        command: [sh, -c, 'date > /shared/started; exec httpd -f -p 8080 -h /www']
        volumeMounts:
        - {name: shared, mountPath: /shared}
        - {name: scratch, mountPath: /scratch}
        - {name: config, mountPath: /etc/app}
        - {name: config, mountPath: /greeting.txt, subPath: greeting.txt}
        - {name: tls, mountPath: /etc/tls, readOnly: true}
        - {name: host, mountPath: /node-logs}
        - {name: shared, mountPath: /var/cache/app, subPath: cache/app}
      - name: reader
        image: ${HTTPD_1}
        command: [httpd, -f, -p, '8081', -h, /www]
        volumeMounts:
        - {name: shared, mountPath: /data, readOnly: true}
`;

describe('pod volumes on a real agent and Docker Engine', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let server: ServerProcess;
  let agent: AgentProcess;
  let dir: string;
  let volumeDir: string;
  let hostDir: string;
  const node = uniqueNode('e2e-vol');
  const cli = (args: string[]) =>
    berthCli(args, { env: { BERTH_SERVER: server.url, BERTH_TOKEN: server.adminToken, HOME: dir } });
  const containerOf = async (name: string) =>
    (await nodeContainers(node)).find(
      (c) => c.Labels['berth.dev/deployment'] === 'default/vol' && c.Labels['berth.dev/container'] === name,
    );
  let replica = '';

  beforeAll(async () => {
    await requireDocker([HTTPD_1]);
    db = await freshPostgres();
    server = await startServerProcess({ databaseUrl: db.url, env: { BERTH_RECONCILE_INTERVAL_MS: '500' } });
    const joinToken = (await server.call('POST', '/v1/join-tokens', {})).body.token;
    dir = await tempDir('berth-e2e-vol');
    // On the disk: the agent mounts a tmpfs there before it writes any file.
    volumeDir = join(dir, 'volumes');
    agent = startAgentProcess({
      server: server.url,
      name: node,
      dataDir: join(dir, 'agent'),
      joinToken,
      env: { BERTH_VOLUME_DIR: volumeDir },
    });
    await eventually(
      async () => (await server.call('GET', `/v1/nodes/${node}`)).status === 200,
      30_000,
      'agent registration',
    );
    // hostPath only where the namespace policy allows it: an admin allows this test's directory.
    hostDir = join(dir, 'node');
    const policy = await server.call('PUT', '/v1/namespaces/default/policy', {
      spec: { allowedHostPaths: [{ pathPrefix: hostDir }] },
    });
    expect(policy.status).toBe(201);
    const file = join(dir, 'app.yaml');
    writeFileSync(file, manifest(hostDir));
    const applied = await cli(['apply', '-f', file]);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    replica = await eventually(
      async () => {
        const [r] = (await server.call('GET', `${NS}/replicas?deployment=vol`)).body.items as {
          id: string;
          ready: boolean;
        }[];
        return r?.ready ? r.id : undefined;
      },
      60_000,
      'the replica to be ready',
    );
  });
  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    await server?.close();
    await db?.drop();
    // The tmpfs the agent mounted outlives it (it is the node's, as /run is); a test unmounts it.
    if (volumeDir) await run('umount', [join(volumeDir, node)]).catch(() => undefined);
    if (volumeDir) await rm(volumeDir, { recursive: true, force: true });
  });

  it('shares an emptyDir between the containers: one writes, the other reads it and may not write', async () => {
    const writer = (await containerOf('writer'))!;
    const reader = (await containerOf('reader'))!;
    await sh(writer.Id, 'echo from-writer > /shared/note');
    expect(await sh(reader.Id, 'cat /data/note')).toBe('from-writer');
    const refused = await execIn(reader.Id, ['touch', '/data/other']);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/Read-only file system/);
    // A subPath of it: the kubelet makes the directory, and both containers see the same files.
    await sh(writer.Id, 'echo cached > /var/cache/app/entry');
    expect(await sh(reader.Id, 'cat /data/cache/app/entry')).toBe('cached');
    // The fsGroup owns the emptyDir, setgid: what is made in it is the group's too.
    expect(await sh(writer.Id, 'stat -c "%a %g" /shared /shared/note')).toBe('2777 2000\n644 2000');
  });

  it('binds a hostPath the policy allows, made by DirectoryOrCreate; a missing Directory keeps a replica from starting', async () => {
    const writer = (await containerOf('writer'))!;
    await sh(writer.Id, 'echo to-the-node > /node-logs/app.log');
    expect(readFileSync(join(hostDir, 'logs', 'app.log'), 'utf8')).toBe('to-the-node\n');
    const missing = join(hostDir, 'absent');
    const put = await server.call('PUT', `${NS}/deployments/nohost`, {
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'nohost' } },
        template: {
          metadata: { labels: { app: 'nohost' } },
          spec: {
            volumes: [{ name: 'h', hostPath: { path: missing, type: 'Directory' } }],
            containers: [{ name: 'c', image: HTTPD_1, volumeMounts: [{ name: 'h', mountPath: '/h' }] }],
          },
        },
      },
    });
    expect(put.status).toBe(201);
    const message = await eventually(
      async () => {
        const [r] = (await server.call('GET', `${NS}/replicas?deployment=nohost`)).body.items as {
          message: string | null;
        }[];
        return r?.message?.includes('hostPath') ? r.message : undefined;
      },
      30_000,
      'the replica to say why it does not start',
    );
    expect(message).toContain(`volume "h": hostPath type check failed: ${missing} is not a directory`);
    expect(
      await nodeContainers(node).then((cs) =>
        cs.filter(
          (c) =>
            c.Labels['berth.dev/deployment'] === 'default/nohost' && c.Labels['berth.dev/container'] === 'c',
        ),
      ),
    ).toEqual([]);
    expect((await server.call('DELETE', `${NS}/deployments/nohost`)).status).toBe(200);
  });

  it('evicts a replica whose disk emptyDir passes its sizeLimit, and the controller replaces it', async () => {
    const started = Date.now();
    const put = await server.call('PUT', `${NS}/deployments/bounded`, {
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'bounded' } },
        template: {
          metadata: { labels: { app: 'bounded' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            volumes: [{ name: 'cache', emptyDir: { sizeLimit: '1Mi' } }],
            containers: [
              {
                name: 'c',
                image: HTTPD_1,
                command: [
                  'sh',
                  '-c',
                  'dd if=/dev/zero of=/cache/fill bs=1024 count=2048; exec httpd -f -p 8080 -h /www',
                ],
                volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
              },
            ],
          },
        },
      },
    });
    expect(put.status).toBe(201);
    // The agent measures every 10 s: the first replica is evicted within two rounds.
    const evicted = await eventually(
      async () => {
        const events = (await server.call('GET', `${NS}/events?object=deployment/bounded`)).body.items as {
          reason: string;
          message: string;
        }[];
        return events.find((e) => e.reason === 'Evicted');
      },
      45_000,
      'the eviction',
    );
    expect(evicted.message).toMatch(
      /^replica \S+: Evicted: Usage of EmptyDir volume "cache" exceeds the limit "1Mi"\.$/,
    );
    const first = evicted.message.split(' ')[1]!.replace(/:$/, '');
    await eventually(
      async () =>
        ((await server.call('GET', `${NS}/replicas?deployment=bounded`)).body.items as { id: string }[]).some(
          (r) => r.id !== first,
        ),
      30_000,
      'a replacement',
    );
    console.log(
      `emptyDir sizeLimit: evicted and replaced ${((Date.now() - started) / 1000).toFixed(1)} s after the PUT`,
    );
    expect((await server.call('DELETE', `${NS}/deployments/bounded`)).status).toBe(200);
  });

  it('mounts a memory emptyDir as a tmpfs of its sizeLimit', async () => {
    const writer = (await containerOf('writer'))!;
    expect(await sh(writer.Id, 'grep " /scratch " /proc/mounts')).toMatch(
      /^tmpfs \/scratch tmpfs rw,.*size=16384k/,
    );
  });

  it('writes configMap and secret files with their modes, read-only, and the secret never on disk', async () => {
    const writer = (await containerOf('writer'))!;
    expect(await sh(writer.Id, 'cat /etc/app/greeting.txt; echo; cat /etc/app/app.conf')).toBe(
      'hello\nlevel=info',
    );
    expect(
      await sh(
        writer.Id,
        'stat -L -c "%a %n" /etc/app/app.conf /etc/tls/keys/server.key /etc/tls/server.crt',
      ),
    ).toBe('644 /etc/app/app.conf\n440 /etc/tls/keys/server.key\n444 /etc/tls/server.crt');
    // The pod's fsGroup owns the files (and reads them: 0400 became 0440, as the kubelet does).
    expect(await sh(writer.Id, 'stat -L -c %g /etc/app/app.conf /etc/tls/keys/server.key | sort -u')).toBe(
      '2000',
    );
    expect(await sh(writer.Id, 'cat /etc/tls/keys/server.key')).toBe('PRIVATE KEY');
    expect(await sh(writer.Id, 'ls -a /etc/app | tr "\\n" " "')).toMatch(
      /^\. \.\. \.\.\d{4}_\S+ \.\.data app\.conf greeting\.txt$/,
    );
    const refused = await execIn(writer.Id, ['touch', '/etc/app/new']);
    expect(refused.out).toMatch(/Read-only file system/);
    expect(await sh(writer.Id, 'grep " /etc/tls " /proc/mounts')).toMatch(/^tmpfs \/etc\/tls tmpfs ro,/);
    // The volume directory was on the disk: the agent mounted a tmpfs over it first.
    expect(statfsSync(join(volumeDir, node)).type).toBe(TMPFS_MAGIC);
  });

  it('swaps the files of a changed ConfigMap into the running container, without a restart; a subPath keeps its copy', async () => {
    const writer = (await containerOf('writer'))!;
    const started = Date.now();
    const put = await server.call('PUT', `${NS}/configmaps/app-config`, {
      data: { 'greeting.txt': 'hello again', 'app.conf': 'level=debug' },
    });
    expect(put.status).toBe(200);
    await eventually(
      async () => (await sh(writer.Id, 'cat /etc/app/greeting.txt')) === 'hello again',
      60_000,
      'the new file in the container',
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `configMap volume: the changed file was seen in the running container ${seconds.toFixed(2)} s after the PUT`,
    );
    // The write wakes the agent's long-poll: without that it would learn of it at its next poll,
    // 25 s later (the wait it asks for).
    expect(seconds).toBeLessThan(20);
    expect(await sh(writer.Id, 'cat /etc/app/app.conf')).toBe('level=debug');
    expect(await sh(writer.Id, 'cat /greeting.txt')).toBe('hello');
    const now = (await containerOf('writer'))!;
    expect(now.Id).toBe(writer.Id);
    expect((await docker.getContainer(now.Id).inspect()).RestartCount).toBe(0);
  });

  it('keeps the emptyDir data across a container restart, and removes every volume with the replica', async () => {
    const writer = (await containerOf('writer'))!;
    await sh(writer.Id, 'echo kept > /shared/kept; echo mem > /scratch/kept');
    await docker.getContainer(writer.Id).kill();
    const restarted = await eventually(
      async () => {
        const [r] = (await server.call('GET', `${NS}/replicas?deployment=vol`)).body.items as {
          ready: boolean;
          restartCount: number;
        }[];
        if (!r?.ready || r.restartCount < 1) return undefined;
        const c = await containerOf('writer');
        return c?.State === 'running' ? c : undefined;
      },
      60_000,
      'the writer restarted',
    );
    expect(await sh(restarted.Id, 'cat /shared/kept /scratch/kept')).toBe('kept\nmem');

    const disk = join(dir, 'agent', 'volumes', replica);
    const memory = join(volumeDir, node, replica);
    expect(existsSync(disk) && existsSync(memory)).toBe(true);
    expect((await cli(['delete', 'deployment', 'vol'])).code).toBe(0);
    await eventually(
      async () => (await server.call('GET', `${NS}/replicas?deployment=vol`)).body.items.length === 0,
      60_000,
      'the replica gone',
    );
    await eventually(async () => !existsSync(disk) && !existsSync(memory), 30_000, 'the volumes removed');
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(memory);
  });
});
