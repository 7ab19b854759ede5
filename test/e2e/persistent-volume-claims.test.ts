import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demuxDockerStream } from '../../agent/log-tail.ts';
import { freshPostgres } from '../support/databases.ts';
import { type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually } from '../support/sim-agents.ts';
import {
  type AgentProcess,
  cleanupDir,
  docker,
  HTTPD_1,
  HTTPD_2,
  nodeContainers,
  removeNodeContainers,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
} from './support/agent-harness.ts';
import { berthCli } from './support/cli-run.ts';

/**
 * A PersistentVolumeClaim on the real agent and Docker Engine: its data outlives a killed
 * container, an agent restart, a rolling update and the deployment itself; deleting the claim
 * removes its Docker volume.
 */
const NS = '/v1/namespaces/default';

const deploymentDoc = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: keeper}
spec:
  replicas: 1
  selector:
    matchLabels: {app: keeper}
  template:
    metadata:
      labels: {app: keeper}
    spec:
      terminationGracePeriodSeconds: 1
      automountServiceAccountToken: false
      volumes:
      - name: data
        persistentVolumeClaim: {claimName: keeper-data}
      containers:
      - name: web
        image: ${image}
        command: [sh, -c, 'echo started >> /data/starts; exec httpd -f -p 8080 -h /www']
        volumeMounts:
        - {name: data, mountPath: /data}
`;
const MANIFEST = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: keeper-data}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local-path
  resources:
    requests: {storage: 1Gi}
---
${deploymentDoc(HTTPD_1)}`;

async function sh(id: string, script: string): Promise<string> {
  const exec = await docker.getContainer(id).exec({
    Cmd: ['sh', '-c', script],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b));
  await new Promise((r) => stream.once('end', r));
  return demuxDockerStream(Buffer.concat(chunks)).trim();
}

describe('a PersistentVolumeClaim on a real agent and Docker Engine', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let server: ServerProcess;
  let agent: AgentProcess;
  let dir: string;
  let joinToken = '';
  let volume = '';
  const node = uniqueNode('e2e-pvc');
  const cli = (args: string[]) =>
    berthCli(args, { env: { BERTH_SERVER: server.url, BERTH_TOKEN: server.adminToken, HOME: dir } });
  const startAgent = () =>
    startAgentProcess({ server: server.url, name: node, dataDir: join(dir, 'agent'), joinToken });
  /** The running container of the deployment's ready replica (of `image`, when given). */
  const running = (image?: string) =>
    eventually(
      async () => {
        const items = (await server.call('GET', `${NS}/replicas?deployment=keeper`)).body.items as {
          id: string;
          ready: boolean;
        }[];
        if (items.length !== 1 || !items[0]!.ready) return undefined;
        const c = (await nodeContainers(node)).find(
          (x) => x.Labels['berth.dev/replica'] === items[0]!.id && x.State === 'running',
        );
        return c && (!image || c.Image === image) ? c : undefined;
      },
      60_000,
      'one ready replica with a running container',
    );
  /** `berth apply -f` the first time (the claim and the Deployment together), then the API. */
  const apply = async (yaml: string, through: 'cli' | 'api') => {
    if (through === 'api') {
      const res = await fetch(`${server.url}/v1/apply?namespace=default`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/yaml' },
        body: yaml,
      });
      expect(res.status, await res.text()).toBe(200);
      return;
    }
    const file = join(dir, 'app.yaml');
    writeFileSync(file, yaml);
    const applied = await cli(['apply', '-f', file]);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
  };

  beforeAll(async () => {
    await requireDocker([HTTPD_1, HTTPD_2]);
    db = await freshPostgres();
    server = await startServerProcess({ databaseUrl: db.url, env: { BERTH_RECONCILE_INTERVAL_MS: '500' } });
    joinToken = (await server.call('POST', '/v1/join-tokens', {})).body.token;
    dir = await tempDir('berth-e2e-pvc');
    agent = startAgent();
    await eventually(
      async () => (await server.call('GET', `/v1/nodes/${node}`)).status === 200,
      30_000,
      'agent registration',
    );
  });
  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    if (volume)
      await docker
        .getVolume(volume)
        .remove()
        .catch(() => undefined);
    await server?.close();
    await db?.drop();
    await cleanupDir(dir);
  });

  it('keeps the data through a killed container, an agent restart, a rolling update and a re-created deployment; deleting the claim removes the volume', async () => {
    const t0 = Date.now();
    await apply(MANIFEST, 'cli');
    const first = await running();
    await sh(first.Id, 'echo precious > /data/marker');
    const claim = (await server.call('GET', `${NS}/persistentvolumeclaims/keeper-data`)).body;
    expect(claim.status).toMatchObject({ phase: 'Bound', nodeName: node, capacity: { storage: '1Gi' } });
    volume = `berth-pvc-${claim.metadata.uid}`;
    const info = await docker.getVolume(volume).inspect();
    expect(info.Labels).toEqual({
      'berth.dev/claim-namespace': 'default',
      'berth.dev/claim-name': 'keeper-data',
      'berth.dev/claim-uid': claim.metadata.uid,
      'berth.dev/node': node,
    });
    const listed = await cli(['get', 'pvc']);
    expect(listed.stdout).toMatch(new RegExp(`keeper-data\\s+Bound\\s+${node}\\s+1Gi\\s+RWO\\s+local-path`));

    // The container is killed: it is started again, and reads what it wrote.
    await docker.getContainer(first.Id).kill();
    const replaced = await eventually(
      async () => {
        const [r] = (await server.call('GET', `${NS}/replicas?deployment=keeper`)).body.items as {
          restartCount: number;
        }[];
        return r && r.restartCount >= 1 ? running() : undefined;
      },
      60_000,
      'the killed container running again',
    );
    expect(await sh(replaced.Id, 'cat /data/marker; wc -l < /data/starts')).toBe('precious\n2');

    // The agent restarts: the volume is left alone, and the container keeps it.
    await agent.stop();
    agent = startAgent();
    await eventually(async () => agent.output().includes('agent started'), 30_000, 'the agent started again');
    expect((await docker.getVolume(volume).inspect()).Name).toBe(volume);
    expect(await sh((await running()).Id, 'cat /data/marker')).toBe('precious');

    // A rolling update to a new image: the new replica reads the same data.
    await apply(deploymentDoc(HTTPD_2), 'api');
    const updated = await running(HTTPD_2);
    expect(await sh(updated.Id, 'cat /data/marker')).toBe('precious');

    // The deployment goes and comes back: the claim and its data stay.
    expect((await server.call('DELETE', `${NS}/deployments/keeper`)).status).toBe(200);
    await eventually(
      async () => (await server.call('GET', `${NS}/replicas?deployment=keeper`)).body.items.length === 0,
      60_000,
      'the replicas gone',
    );
    expect((await server.call('GET', `${NS}/persistentvolumeclaims/keeper-data`)).status).toBe(200);
    await apply(deploymentDoc(HTTPD_1), 'api');
    const again = await running(HTTPD_1);
    expect(await sh(again.Id, 'cat /data/marker; wc -l < /data/starts')).toMatch(/^precious\n[4-9]$/);

    // Deleting the claim while it is in use: Terminating until the replica is gone, then the
    // agent removes the volume on the control plane's word.
    const deleted = await cli(['delete', 'pvc', 'keeper-data']);
    expect([deleted.code, deleted.stdout]).toEqual([0, 'persistentvolumeclaim/keeper-data deleted\n']);
    const terminating = (await server.call('GET', `${NS}/persistentvolumeclaims/keeper-data`)).body;
    expect(terminating.metadata.deletionTimestamp).toEqual(expect.any(String));
    expect((await docker.getVolume(volume).inspect()).Name).toBe(volume);
    expect((await server.call('DELETE', `${NS}/deployments/keeper`)).status).toBe(200);
    await eventually(
      async () => (await server.call('GET', `${NS}/persistentvolumeclaims/keeper-data`)).status === 404,
      60_000,
      'the claim gone',
    );
    await eventually(
      async () =>
        docker
          .getVolume(volume)
          .inspect()
          .then(
            () => false,
            () => true,
          ),
      60_000,
      'the Docker volume removed',
    );
    console.log(`persistentVolumeClaim e2e: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});
