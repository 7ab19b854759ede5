import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IssuedPair, issue, makeCa } from '../support/certificates.ts';
import { freshPostgres } from '../support/databases.ts';
import {
  freeLoopbackAddress,
  httpsToHost,
  mapHost,
  PEBBLE,
  pebbleRoot,
  unmapHost,
} from '../support/pebble.ts';
import { freePort, type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually } from '../support/sim-agents.ts';
import {
  type AgentProcess,
  cleanupDir,
  docker,
  HTTPD_1,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
} from './support/agent-harness.ts';

const NS = `edge-${randomBytes(3).toString('hex')}`;

/**
 * HTTPS at a node's own ingress, with a certificate from an ACME CA (pebble, validating for real):
 * the host's name resolves to the node only, so the CA's HTTP-01 request reaches the node, which
 * relays the control plane's answer; the node then serves the certificate by SNI, verified
 * against pebble's root, for a replica's answer, and redirects plain HTTP, without the control
 * plane on the request's path.
 */
describe("HTTPS at the nodes' own ingress", () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let dir: string;
  let ca: IssuedPair;
  let root: string;
  let server: ServerProcess;
  let agent: AgentProcess;
  let address: string;
  let tlsPort: number;
  const node = uniqueNode('e2e-edge-tls');
  const host = `edge-${NS}.certs.berth.test`;

  beforeAll(async () => {
    await requireDocker([HTTPD_1]);
    dir = await tempDir('berth-edge-tls');
    ca = makeCa(dir);
    [db, root, address, tlsPort] = await Promise.all([
      freshPostgres(),
      pebbleRoot(),
      freeLoopbackAddress(),
      freePort(),
    ]);
    const api = issue(dir, ca, ['127.0.0.1'], 'api');
    server = await startServerProcess({
      databaseUrl: db.url,
      tlsCa: ca.cert,
      env: {
        BERTH_TLS_CERT_FILE: api.certFile,
        BERTH_TLS_KEY_FILE: api.keyFile,
        BERTH_ACME_EMAIL: 'ops@berth.test',
        BERTH_ACME_DIRECTORY: PEBBLE.directory,
        BERTH_ACME_CA_FILE: PEBBLE.apiCaFile,
        // The control plane's own plain listener is where pebble never looks: only the node answers.
        BERTH_HTTP_HOST: '127.0.0.1',
        BERTH_HTTP_PORT: String(await freePort()),
        BERTH_HSTS_SECONDS: '600',
        BERTH_RECONCILE_INTERVAL_MS: '500',
      },
    });
    const caFile = join(dir, 'agent-ca.pem');
    writeFileSync(caFile, ca.cert);
    const joinToken = (await server.call('POST', '/v1/join-tokens', {})).body.token;
    agent = startAgentProcess({
      server: server.url,
      name: node,
      dataDir: await tempDir('berth-edge-tls-agent'),
      joinToken,
      address,
      args: [
        '--ca-file',
        caFile,
        '--ingress-listen',
        `${address}:${PEBBLE.httpPort}`,
        '--ingress-tls-listen',
        `${address}:${tlsPort}`,
      ],
    });
    await eventually(
      async () =>
        ((await server.call('GET', '/v1/nodes')).body.items as { name: string; status: string }[]).some(
          (n) => n.name === node && n.status === 'Ready',
        ),
      120_000,
      'the node Ready',
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nagent:\n${agent.output().slice(-3000)}`);
    });
    await mapHost(host, address);
  }, 300_000);

  afterAll(async () => {
    await agent?.stop();
    await server?.close();
    await unmapHost(host);
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
    await db?.drop();
    await cleanupDir(dir);
  });

  it('gets a certificate validated at the node, serves it there by SNI for a replica, and redirects HTTP', async () => {
    const put = async (path: string, body: unknown) => {
      const res = await server.call('PUT', `/v1/namespaces/${NS}/${path}`, body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    };
    const applied = performance.now();
    await put('services/web', {
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }], hosts: [host] },
    });
    await put('deployments/web', {
      apiVersion: 'berth.dev/v1',
      kind: 'Deployment',
      metadata: { labels: { app: 'web' } },
      spec: {
        replicas: 1,
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: HTTPD_1, ports: [{ containerPort: 8080 }] }] },
        },
      },
    });

    const served = await eventually(
      async () => {
        const answer = await httpsToHost(tlsPort, host, root, '/', address).catch(() => undefined);
        return answer?.status === 200 ? answer : undefined;
      },
      120_000,
      `HTTPS for ${host} at the node, verified against pebble's root, answered by the replica`,
    ).catch(async (e: Error) => {
      const certificates = (await server.call('GET', '/v1/certificates')).body;
      throw new Error(
        `${e.message}\ncertificates: ${JSON.stringify(certificates)}\nagent:\n${agent.output().slice(-3000)}`,
      );
    });
    console.log(
      `HTTPS at the node for ${host}: ${((performance.now() - applied) / 1000).toFixed(2)} s after the Service and Deployment were applied`,
    );
    expect(served.issuer).toMatch(/^Pebble Intermediate CA/);
    expect(served.body.trim()).toBe('v1');
    expect(served.hsts).toBe('max-age=600');
    const row = ((await server.call('GET', '/v1/certificates')).body.items as { host: string }[]).find(
      (c) => c.host === host,
    );
    expect(row).toMatchObject({ status: 'Ready', orders: 1, failures: 0 });

    // Plain HTTP at the node: 308 to the same path and query over the node's HTTPS.
    const plain = await new Promise<{ status: number; location?: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: address, port: PEBBLE.httpPort, path: '/cart?item=42', headers: { host } },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, location: res.headers.location });
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(plain).toEqual({ status: 308, location: `https://${host}:${tlsPort}/cart?item=42` });
  });
});
