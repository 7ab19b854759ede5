import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demuxDockerStream } from '../../agent/log-tail.ts';
import { freshPostgres } from '../support/databases.ts';
import { type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually, sleep } from '../support/sim-agents.ts';
import {
  type AgentProcess,
  cleanupDir,
  HTTPD_1,
  HTTPD_2,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
} from './support/agent-harness.ts';
import { berthCli } from './support/cli-run.ts';
import { type IsolatedEngine, startIsolatedEngine } from './support/fault-engine.ts';

/**
 * Services inside the cluster, end to end: two agents, each on a Docker Engine of its own (two
 * machines, as far as containers can tell), a frontend on one and its backends on the other.
 * From inside the frontend, Kubernetes' service names resolve and reach the backend across
 * nodes, a plain-TCP service answers its own protocol, a headless name resolves to the
 * endpoints, and a NodePort answers on every node. A steady request loop in the frontend then
 * lives through a rolling update of the backend, a killed backend container and 20 s without
 * the control plane, with not one failed request.
 */

const NS = 'shop';
/** Where each agent serves the node ingress (on its own address). */
const INGRESS_PORT = 18080;

const manifests = (frontendNode: string, backendNode: string, image = HTTPD_1) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend, namespace: ${NS}}
spec:
  replicas: 2
  selector: {matchLabels: {app: backend}}
  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: backend}}
    spec:
      automountServiceAccountToken: false
      nodeSelector: {berth.dev/node: ${backendNode}}
      containers:
      - name: web
        image: ${image}
        imagePullPolicy: IfNotPresent
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: ${NS}}
spec:
  selector: {app: backend}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: backend-headless, namespace: ${NS}}
spec:
  clusterIP: None
  selector: {app: backend}
  ports: [{name: http, port: 8080, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: backend-public, namespace: ${NS}}
spec:
  type: NodePort
  selector: {app: backend}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: redis, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis}}
    spec:
      automountServiceAccountToken: false
      nodeSelector: {berth.dev/node: ${backendNode}}
      containers:
      - name: redis
        image: ${HTTPD_1}
        imagePullPolicy: IfNotPresent
        # A server that speaks just enough of Redis' protocol: +PONG to every connection.
        command: [nc, -ll, -p, '6379', -e, sh, -c, 'read line; printf "+PONG\\r\\n"']
        ports: [{name: redis, containerPort: 6379}]
        readinessProbe: {tcpSocket: {port: redis}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: redis-master, namespace: ${NS}}
spec:
  selector: {app: redis}
  ports: [{name: redis, port: 6379, targetPort: redis}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: ${NS}}
spec:
  rules:
  - host: shop.test
    http:
      paths:
      - {path: /cgi-bin, pathType: Prefix, backend: {service: {name: backend, port: {name: http}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: frontend}}
  template:
    metadata: {labels: {app: frontend}}
    spec:
      automountServiceAccountToken: false
      nodeSelector: {berth.dev/node: ${frontendNode}}
      containers:
      - name: loop
        image: ${HTTPD_1}
        imagePullPolicy: IfNotPresent
        # Waits for the first answer, then calls the backend ten times a second, one line each.
        command:
        - sh
        - -c
        - |
          until timeout 2 wget -qO /dev/null http://backend/; do sleep 0.2; done
          echo started
          while true; do
            if timeout 3 wget -qO /dev/null http://backend/; then echo ok; else echo FAIL "$(date +%T)"; fi
            sleep 0.1
          done
`;

describe('services inside the cluster, across two nodes on two Docker engines', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let server: ServerProcess;
  let dir: string;
  const engines: IsolatedEngine[] = [];
  const agents: AgentProcess[] = [];
  const frontNode = uniqueNode('e2e-svc-front');
  const backNode = uniqueNode('e2e-svc-back');
  const addresses = { [frontNode]: '127.0.0.2', [backNode]: '127.0.0.3' };
  const cli = (args: string[]) =>
    berthCli(args, { env: { BERTH_SERVER: server.url, BERTH_TOKEN: server.adminToken, HOME: dir } });
  const apply = async (text: string, name: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    const applied = await cli(['apply', '-f', file]);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
  };
  const engineOf = (node: string) => engines[node === frontNode ? 0 : 1]!.docker;
  const containerOf = async (node: string, deployment: string): Promise<string> => {
    const list = await engineOf(node).listContainers({
      filters: { label: [`berth.dev/deployment=${NS}/${deployment}`], status: ['running'] },
    });
    if (!list[0]) throw new Error(`no running container of ${deployment} on ${node}`);
    return list[0].Id;
  };
  const run = (node: string, id: string, cmd: string[]) => execIn(engineOf(node), id, cmd);
  const frontend = () => containerOf(frontNode, 'frontend');
  const loopLines = async () => {
    const logs = (await engineOf(frontNode)
      .getContainer(await frontend())
      .logs({ stdout: true, stderr: true })) as unknown as Buffer;
    return demuxDockerStream(logs).split('\n');
  };
  const rolledOut = async (image: string) =>
    eventually(
      async () => {
        const d = (await server.call('GET', `/v1/namespaces/${NS}/deployments/backend`)).body;
        const items = (await server.call('GET', `/v1/namespaces/${NS}/replicas?deployment=backend`)).body
          .items as { ready: boolean; desired: string; revision: number }[];
        const running = items.filter((r) => r.desired === 'running');
        return (
          d.spec?.template?.spec?.containers?.[0]?.image === image &&
          running.length === 2 &&
          running.every((r) => r.ready && r.revision === d.status?.revision) &&
          items.length === 2
        );
      },
      120_000,
      `backend rolled out to ${image}`,
    );

  beforeAll(async () => {
    await requireDocker([HTTPD_1, HTTPD_2]);
    dir = await tempDir('berth-svc');
    engines.push(await startIsolatedEngine([HTTPD_1, HTTPD_2]));
    engines.push(await startIsolatedEngine([HTTPD_1, HTTPD_2]));
    db = await freshPostgres();
    server = await startServerProcess({ databaseUrl: db.url, env: { BERTH_RECONCILE_INTERVAL_MS: '500' } });
    const joinToken = (await server.call('POST', '/v1/join-tokens', { maxUses: 2 })).body.token;
    for (const [i, node] of [frontNode, backNode].entries()) {
      agents.push(
        startAgentProcess({
          server: server.url,
          name: node,
          dataDir: await tempDir(`berth-svc-agent-${i}`),
          joinToken,
          address: addresses[node],
          args: ['--ingress-listen', `${addresses[node]}:${INGRESS_PORT}`],
          env: { DOCKER_HOST: engines[i]!.host },
        }),
      );
    }
    await eventually(
      async () => {
        const items = (await server.call('GET', '/v1/nodes')).body.items as {
          name: string;
          status: string;
        }[];
        return [frontNode, backNode].every((n) => items.some((i) => i.name === n && i.status === 'Ready'));
      },
      60_000,
      'both nodes Ready',
    );
    await apply(manifests(frontNode, backNode), 'shop.yaml');
    await rolledOut(HTTPD_1);
    try {
      await eventually(
        async () => (await loopLines()).includes('started'),
        120_000,
        'the frontend reaching the backend',
      );
    } catch (e) {
      // What the frontend's replica and its loop said, to tell a slow start from a broken route.
      const replicas = (await server.call('GET', `/v1/namespaces/${NS}/replicas?deployment=frontend`)).body;
      const lines = await loopLines().catch((err: unknown) => [String(err)]);
      throw new Error(
        `${(e as Error).message}\nreplicas: ${JSON.stringify(replicas)}\nfrontend: ${lines.slice(-5).join(' | ')}`,
      );
    }
  }, 300_000); // Two engines loaded with images, two agents, two rollouts: over 180 s on a loaded machine.

  afterAll(async () => {
    for (const a of agents) await a.stop();
    await server?.close();
    for (const e of engines) await e.close().catch(() => {});
    await db?.drop();
    await cleanupDir(dir);
  });

  it('resolves every form of a service name inside a replica and reaches the backend on the other node', async () => {
    const id = await frontend();
    for (const url of [
      'http://backend/',
      'http://backend.shop/',
      'http://backend.shop.svc/',
      'http://backend.shop.svc.cluster.local:80/',
    ]) {
      const r = await run(frontNode, id, ['timeout', '5', 'wget', '-qO-', url]);
      expect([url, r.code, r.out.trim()]).toEqual([url, 0, 'v1']);
    }
    // The answer comes from a replica on the backend's node.
    const who = await run(frontNode, id, ['timeout', '5', 'wget', '-qO-', 'http://backend/cgi-bin/whoami']);
    expect(who.code).toBe(0);
    // Kubernetes' service variables, fixed when the frontend's replica was created.
    const env = await run(frontNode, id, ['env']);
    expect(env.out).toMatch(/^BACKEND_SERVICE_HOST=\d+\.\d+\.\d+\.\d+$/m);
    expect(env.out).toMatch(/^BACKEND_SERVICE_PORT=80$/m);
    expect(env.out).toMatch(/^BACKEND_PORT_80_TCP_ADDR=/m);
    // External names still go to the node's resolver: the machine's own name does.
  });

  it('reaches a plain TCP service by name with its own protocol', async () => {
    const r = await run(frontNode, await frontend(), [
      'sh',
      '-c',
      'printf "PING\\r\\n" | timeout 5 nc redis-master 6379',
    ]);
    expect(r.out).toContain('+PONG');
  });

  it('resolves a headless service to its ready endpoints, each reachable', async () => {
    const id = await frontend();
    const r = await run(frontNode, id, ['nslookup', 'backend-headless.shop.svc.cluster.local']);
    const addresses = [...r.out.matchAll(/Address(?: \d+)?:\s+(\d+\.\d+\.\d+\.\d+)(?!#|:53)/g)]
      .map((m) => m[1]!)
      .filter((a) => !r.out.includes(`Server:\t\t${a}`) && !r.out.includes(`${a}:53`));
    expect(new Set(addresses).size, r.out).toBe(2);
    for (const a of addresses) {
      const got = await run(frontNode, id, ['timeout', '5', 'wget', '-qO-', `http://${a}:8080/`]);
      expect([a, got.out.trim()]).toEqual([a, 'v1']);
    }
  });

  it('answers a NodePort on every node, whichever node runs the replicas', async () => {
    const svc = (await server.call('GET', `/v1/namespaces/${NS}/services/backend-public`)).body;
    const nodePort = svc.spec.ports[0].nodePort as number;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    for (const address of Object.values(addresses)) {
      const text = await eventually(
        async () => {
          const res = await fetch(`http://${address}:${nodePort}/`, { signal: AbortSignal.timeout(3000) });
          return res.ok ? res.text() : undefined;
        },
        20_000,
        `NodePort ${nodePort} on ${address}`,
      );
      expect(text.trim()).toBe('v1');
    }
  });

  it('routes an Ingress by path at the control plane and at every node, without the control plane on the path', async () => {
    const ask = (base: string, path: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest(`${base}${path}`, { headers: { host: 'shop.test' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
        });
        req.on('error', reject);
        req.end();
      });
    for (const base of [server.url, ...Object.values(addresses).map((a) => `http://${a}:${INGRESS_PORT}`)]) {
      const who = await eventually(
        async () => {
          const r = await ask(base, '/cgi-bin/whoami');
          return r.status === 200 ? r : undefined;
        },
        20_000,
        `the ingress at ${base}`,
      );
      expect(JSON.parse(who.text).version).toBe('v1');
      // A path no rule of the host matches: the ingress says so, no replica is asked.
      expect((await ask(base, '/elsewhere')).status).toBe(404);
    }
  });

  it('loses no request of a steady loop through a rolling update, a killed backend and 20 s without the control plane', async () => {
    const before = (await loopLines()).length;
    // When each phase began, to place a failed request (its line carries the time) if one fails.
    const phases: string[] = [];
    const phase = (what: string) => phases.push(`${new Date().toISOString().slice(11, 19)} ${what}`);
    phase('rolling update');
    await apply(manifests(frontNode, backNode, HTTPD_2), 'shop-v2.yaml');
    await rolledOut(HTTPD_2);
    phase('kill a backend container');
    // A backend container killed under the loop (the agent restarts it).
    const victim = await containerOf(backNode, 'backend');
    const killedAt = Math.floor(Date.now() / 1000);
    await engineOf(backNode).getContainer(victim).kill();
    await sleep(3000);
    // The control plane away for 20 s: routing goes on with what the nodes last heard.
    phase('control plane stopped');
    await server.stop();
    const duringStart = (await loopLines()).filter((l) => l === 'ok').length;
    await sleep(20_000);
    const duringEnd = (await loopLines()).filter((l) => l === 'ok').length;
    phase('control plane restarted');
    await server.restart();
    await sleep(2000);
    const lines = (await loopLines()).slice(before);
    // A request on its way to the container when it was SIGKILLed is lost, as in Kubernetes: its
    // connection dies with the container (when the container's network goes before a reset is
    // sent, wget waits out its 3 s). That one request at most: any other failure is routing's.
    const seconds = (hms: string) => {
      const [h, m, sec] = hms.split(':').map(Number);
      return h! * 3600 + m! * 60 + sec!;
    };
    const killedSecond = seconds(new Date(killedAt * 1000).toISOString().slice(11, 19));
    const inFlightAtKill = (l: string) => {
      const t = seconds(l.slice('FAIL '.length));
      return t >= killedSecond && t <= killedSecond + 3 + 1;
    };
    const failed = lines.filter((l) => l.startsWith('FAIL'));
    const routing = failed.filter((l) => !inFlightAtKill(l));
    expect(routing, phases.join('\n')).toEqual([]);
    expect(failed.length - routing.length, phases.join('\n')).toBeLessThanOrEqual(1);
    // The loop went on through the outage. Each round ends within its 3 s timeout plus 0.1 s, so
    // 20 s hold at least six rounds, each an ok or a FAIL line (about ten a second on a quiet
    // machine, but a busy one forks wget far slower).
    expect(duringEnd - duringStart).toBeGreaterThanOrEqual(5);
    const v2 = await run(frontNode, await frontend(), ['timeout', '5', 'wget', '-qO-', 'http://backend/']);
    expect(v2.out.trim()).toBe('v2');
  });
});

/** Runs a command in a container of `engine`; exit code and output. */
async function execIn(engine: Docker, id: string, cmd: string[]): Promise<{ code: number; out: string }> {
  const exec = await engine.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b));
  await new Promise((r) => stream.once('end', r));
  return { code: (await exec.inspect()).ExitCode ?? -1, out: demuxDockerStream(Buffer.concat(chunks)) };
}
