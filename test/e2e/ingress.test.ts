import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres } from '../support/databases.ts';
import { controlPlaneArgs } from '../support/launch.ts';
import { seedPglite } from '../support/pglite-template.ts';
import { startServerProcess } from '../support/processes.ts';
import { docker, HTTPD_1, HTTPD_2, ROOT, requireDocker, until } from './support/agent-harness.ts';

/**
 * The ingress end to end: `npm start` as a process with its local agent running
 * berth-test/httpd replicas on the real Docker Engine, and requests sent to the server with a
 * service's Host header, as a browser pointed at that hostname would.
 */

const NS = `ingress-${randomBytes(3).toString('hex')}`;
const HOST = 'web.test';
const ADMIN = `ingress-e2e-admin-${randomBytes(8).toString('hex')}`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * The replica: busybox httpd serving a writable copy of its site, ready while /ready exists (so
 * a test can make it unready). An httpGet probe, not exec: it costs no `docker exec`, which on
 * a busy machine can outlast a probe timeout and flap readiness for reasons of its own.
 */
function deployment(image: string, replicas = 3) {
  return {
    apiVersion: 'berth.dev/v1',
    kind: 'Deployment',
    metadata: { labels: { app: 'web' } },
    spec: {
      replicas,
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image,
              command: [
                'sh',
                '-c',
                'cp -a /www /tmp/www && touch /tmp/www/ready && exec httpd -f -p 8080 -h /tmp/www',
              ],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: {
                httpGet: { path: '/ready', port: 'http' },
                periodSeconds: 1,
                timeoutSeconds: 3,
                failureThreshold: 2,
              },
            },
          ],
          terminationGracePeriodSeconds: 5,
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    },
  };
}

describe('ingress through the real server and Docker', () => {
  let child: ChildProcess;
  let log = '';
  let url = '';
  let port = 0;
  let dataDir = '';
  // Like a browser: one kept-alive connection per concurrent request.
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  /**
   * GET with the service's Host (fetch would replace Host; node:http sends it as given). A kept-alive
   * socket the server closed as idle just as it was reused fails with ECONNRESET before the request
   * reached anyone: sent again once, as browsers and Node's own docs do.
   */
  const viaIngress = (path: string, host = HOST, retried = false) =>
    new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, agent, headers: { host } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }),
        );
        res.on('error', reject);
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (!retried && req.reusedSocket && err.code === 'ECONNRESET')
          viaIngress(path, host, true).then(resolve, reject);
        else reject(err);
      });
      req.end();
    });
  const whoami = async () => {
    const res = await viaIngress('/cgi-bin/whoami');
    if (res.status !== 200) throw new Error(`whoami answered ${res.status}: ${res.text}`);
    return JSON.parse(res.text) as { version: string; hostname: string };
  };
  const endpoints = async () =>
    (await call('GET', `/v1/namespaces/${NS}/services/web/endpoints`)).body.items as {
      replica: string;
      port: number;
    }[];
  const replicaContainer = async (replica: string) => {
    const [c] = await docker.listContainers({ filters: { label: [`berth.dev/replica=${replica}`] } });
    if (!c) throw new Error(`no container for replica ${replica}`);
    return docker.getContainer(c.Id);
  };
  const exec = async (replica: string, cmd: string[]) => {
    const e = await (await replicaContainer(replica)).exec({
      Cmd: cmd,
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await e.start({});
    await new Promise((r) => {
      stream.on('end', r);
      stream.resume();
    });
  };

  beforeAll(async () => {
    await requireDocker([HTTPD_1, HTTPD_2]);
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    dataDir = await mkdtemp(join(tmpdir(), 'berth-ingress-e2e-'));
    await seedPglite(dataDir);
    child = spawn(process.execPath, controlPlaneArgs(), {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        BERTH_DATA_DIR: dataDir,
        BERTH_ADMIN_TOKEN: ADMIN,
        BERTH_LOCAL_AGENT: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (d: Buffer) => {
      log += String(d);
      if (log.length > 2_000_000) log = log.slice(-1_000_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    await until(
      'the server and its local agent',
      async () => {
        if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}:\n${log}`);
        const nodes = await call('GET', '/v1/nodes');
        return nodes.body?.items?.some(
          (n: { name: string; status: string }) => n.name === 'local' && n.status === 'Ready',
        );
      },
      // A bound for a loaded machine (the server migrates its database, then its agent registers).
      240_000,
    );
  }, 300_000);

  afterAll(async () => {
    agent.destroy();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    // The local agent leaves containers running when the server stops: remove this test's.
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`berth.dev/namespace=${NS}`] },
    });
    await Promise.all(
      left.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => {}),
      ),
    );
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('spreads requests for the service host over all three replicas', async () => {
    expect(
      (
        await call('PUT', `/v1/namespaces/${NS}/services/web`, {
          spec: {
            selector: { app: 'web' },
            ports: [{ name: 'http', port: 80, targetPort: 'http' }],
            hosts: [HOST],
          },
        })
      ).status,
    ).toBe(201);
    expect((await call('PUT', `/v1/namespaces/${NS}/deployments/web`, deployment(HTTPD_1))).status).toBe(201);
    await until('3 endpoints', async () => (await endpoints()).length === 3 || undefined, 60_000);
    const counts = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const me = await whoami();
      expect(me.version).toBe('v1');
      counts.set(me.hostname, (counts.get(me.hostname) ?? 0) + 1);
    }
    expect(counts.size).toBe(3);
    for (const n of counts.values()) expect(n).toBeGreaterThanOrEqual(5);
    // The control plane's own host still answers the API.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('stops sending traffic to a replica whose readiness fails, and resumes when it recovers', async () => {
    const [victim] = await endpoints();
    const hostname = (await (await replicaContainer(victim!.replica)).inspect()).Config.Hostname;
    await exec(victim!.replica, ['rm', '-f', '/tmp/www/ready']);
    const t0 = Date.now();
    await until('the unready replica to leave the endpoints', async () => {
      const list = await endpoints();
      return (list.length === 2 && !list.some((e) => e.replica === victim!.replica)) || undefined;
    });
    console.log(`readiness failure → out of the endpoints in ${Date.now() - t0} ms`);
    for (let i = 0; i < 20; i++) expect((await whoami()).hostname).not.toBe(hostname);
    await exec(victim!.replica, ['touch', '/tmp/www/ready']);
    await until('the replica to come back', async () => (await endpoints()).length === 3 || undefined);
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) seen.add((await whoami()).hostname);
    expect(seen.has(hostname)).toBe(true);
  });

  it('rolls 3 replicas from httpd:1 to httpd:2 under a steady request loop without one failed request', async () => {
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const versions: string[] = [];
    const loop = async () => {
      while (!stop) {
        try {
          const res = await viaIngress('/');
          if (res.status === 200) {
            ok++;
            versions.push(res.text.trim());
          } else failures.push(`${res.status} ${res.text.slice(0, 200)}`);
        } catch (e) {
          failures.push(String(e));
        }
      }
    };
    const loops = Array.from({ length: 4 }, loop);
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    expect((await call('PUT', `/v1/namespaces/${NS}/deployments/web`, deployment(HTTPD_2))).status).toBe(200);
    await until(
      'the rollout to finish and the old replicas to go',
      async () => {
        const d = (await call('GET', `/v1/namespaces/${NS}/deployments/web`)).body;
        const reps = (await call('GET', `/v1/namespaces/${NS}/replicas?deployment=web`)).body.items as {
          revision: number;
        }[];
        const done =
          d.status.updatedReplicas === 3 &&
          d.status.readyReplicas === 3 &&
          d.status.replicas === 3 &&
          reps.length === 3 &&
          reps.every((r) => r.revision === 2);
        return done || undefined;
      },
      90_000,
    );
    const rolledMs = Date.now() - started;
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await Promise.all(loops);
    console.log(
      `rolling update of 3 replicas: ${rolledMs} ms; ${ok} requests during it, ${failures.length} failed` +
        (failures.length ? `: ${failures.slice(0, 5).join(' | ')}` : ''),
    );
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(100);
    expect(versions).toContain('v1');
    expect(versions.slice(-20).every((v) => v === 'v2')).toBe(true);
    // New replicas were created after the service: they see it in their environment.
    const env = await viaIngress('/cgi-bin/env');
    expect(env.text).toContain(`BERTH_SERVICE_WEB_URL=http://${HOST}`);
    expect(env.text).toContain(`BERTH_SERVICE_WEB_HOST=${HOST}`);
  });

  it("lets a second server on the same Docker Engine run without a local agent, leaving the first one's containers alone", async () => {
    const ours = async () =>
      (
        await docker.listContainers({
          filters: { label: ['berth.dev/node=local', `berth.dev/namespace=${NS}`] },
        })
      )
        .map((c) => c.Id)
        .sort();
    const before = await ours();
    expect(before.length).toBeGreaterThan(0);
    const db = await freshPostgres();
    // Its own database: a second node "local" there would count this server's containers as its orphans.
    const second = await startServerProcess({
      databaseUrl: db.url,
      env: { BERTH_LOCAL_AGENT: 'auto', ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}) },
    });
    try {
      await until(
        'the second server to decide about its local agent',
        async () =>
          /running without a local agent: another Berth \(pid \d+\)/.test(second.output()) || undefined,
        30_000,
      );
      expect((await second.call('GET', '/v1/nodes')).body.items).toEqual([]);
      expect(await ours()).toEqual(before);
    } finally {
      await second.stop();
      await db.drop();
    }
  });

  it('routes an Ingress by path, and passes on a CGI answer whose lines end in a bare LF', async () => {
    // busybox httpd writes its status line with CRLF and a CGI's headers as the script does.
    const script = "#!/bin/sh\nprintf 'Content-Type: text/plain\\nX-Cgi: lf\\n\\nbare lf\\n'\n";
    for (const e of await endpoints())
      await exec(e.replica, [
        'sh',
        '-c',
        `printf '%b' "$0" > /tmp/www/cgi-bin/lf && chmod 755 /tmp/www/cgi-bin/lf`,
        script,
      ]);
    const applied = await call('POST', `/v1/apply?namespace=${NS}`, [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'paths' },
        spec: {
          rules: [
            {
              host: 'paths.test',
              http: {
                paths: [
                  {
                    path: '/cgi-bin',
                    pathType: 'Prefix',
                    backend: { service: { name: 'web', port: { name: 'http' } } },
                  },
                  {
                    path: '/gone',
                    pathType: 'Prefix',
                    backend: { service: { name: 'nowhere', port: { number: 80 } } },
                  },
                ],
              },
            },
          ],
        },
      },
    ]);
    expect(applied.status).toBe(200);
    for (let i = 0; i < 6; i++) {
      const lf = await viaIngress('/cgi-bin/lf', 'paths.test');
      expect(lf.status, lf.text).toBe(200);
      expect(lf.text).toBe('bare lf\n');
    }
    expect(JSON.parse((await viaIngress('/cgi-bin/whoami', 'paths.test')).text).version).toBe('v2');
    const other = await viaIngress('/healthz', 'paths.test');
    expect(other.status).toBe(404);
    expect(other.type).toBe('application/problem+json');
    expect((await viaIngress('/gone/x', 'paths.test')).status).toBe(503);
    expect((await call('DELETE', `/v1/namespaces/${NS}/ingresses/paths`)).status).toBe(200);
  });

  it('answers 503 problem+json with no ready endpoint, and stops routing once the service is deleted', async () => {
    await call('PUT', `/v1/namespaces/${NS}/deployments/web/scale`, { replicas: 0 });
    await until('no endpoints', async () => (await endpoints()).length === 0 || undefined, 30_000);
    const none = await viaIngress('/cgi-bin/whoami');
    expect(none.status).toBe(503);
    expect(none.type).toBe('application/problem+json');
    expect(JSON.parse(none.text)).toMatchObject({ code: 'UNAVAILABLE' });
    expect((await call('DELETE', `/v1/namespaces/${NS}/services/web`)).status).toBe(200);
    const gone = await viaIngress('/cgi-bin/whoami');
    expect(gone.status).toBe(404);
    expect(gone.type).toBe('application/problem+json');
  });
});
