import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IssuedPair, issue, makeCa } from '../support/certificates.ts';
import { freshPostgres } from '../support/databases.ts';
import { fetchTrusting, type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually } from '../support/sim-agents.ts';
import {
  type AgentProcess,
  cleanupDir,
  removeNodeContainers,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
} from './support/agent-harness.ts';
import { berthCli } from './support/cli-run.ts';

/**
 * The control plane serving HTTPS itself (BERTH_TLS_CERT_FILE/_KEY_FILE), with a certificate
 * from a private CA: its clients (a real agent, the CLI, kubectl) verify it, refuse it without
 * the CA, and accept it with the CA configured the way each documents.
 */
describe('HTTPS for the control plane on Node', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let server: ServerProcess;
  let dir: string;
  let ca: IssuedPair;
  const agents: AgentProcess[] = [];
  const nodes: string[] = [];

  beforeAll(async () => {
    await requireDocker();
    dir = await tempDir('berth-e2e-tls');
    ca = makeCa(dir);
    const pair = issue(dir, ca, ['berth.test', '127.0.0.1']);
    db = await freshPostgres();
    server = await startServerProcess({
      databaseUrl: db.url,
      tlsCa: ca.cert,
      env: { BERTH_TLS_CERT_FILE: pair.certFile, BERTH_TLS_KEY_FILE: pair.keyFile, HOST: '127.0.0.1' },
    });
  });
  afterAll(async () => {
    for (const a of agents) await a.stop();
    for (const n of nodes) await removeNodeContainers(n);
    await server?.close();
    await db?.drop();
    await cleanupDir(dir);
  });

  it('serves the certificate over TLS 1.2 and later only, and no plain HTTP', async () => {
    expect(server.output()).toMatch(/berth listening on https:/);
    const version = (max: 'TLSv1.1' | 'TLSv1.2') =>
      new Promise<string>((resolve) => {
        const s = connect(
          { port: server.port, host: '127.0.0.1', ca: ca.cert, maxVersion: max, minVersion: 'TLSv1' },
          () => {
            resolve(s.getProtocol() ?? '?');
            s.end();
          },
        );
        s.on('error', (e) => resolve(`refused: ${e.message}`));
      });
    expect(await version('TLSv1.2')).toBe('TLSv1.2');
    expect(await version('TLSv1.1')).toMatch(/^refused/);
    const res = await fetchTrusting(ca.cert)(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${server.port}/healthz`)).rejects.toThrow();
  });

  it('an agent refuses it without the CA, saying why, and registers with --ca-file', async () => {
    const joinToken = async () => (await server.call('POST', '/v1/join-tokens', {})).body.token as string;
    const untrusting = uniqueNode('e2e-tls-no-ca');
    nodes.push(untrusting);
    const refused = startAgentProcess({
      server: server.url,
      name: untrusting,
      dataDir: join(dir, 'agent-no-ca'),
      joinToken: await joinToken(),
    });
    agents.push(refused);
    await eventually(
      async () => /certificate/i.test(refused.output()),
      60_000,
      'the agent naming the certificate it refused',
    );
    expect((await server.call('GET', `/v1/nodes/${untrusting}`)).status).toBe(404);

    const trusting = uniqueNode('e2e-tls-ca');
    nodes.push(trusting);
    const caFile = join(dir, 'agent-ca.pem');
    writeFileSync(caFile, ca.cert);
    agents.push(
      startAgentProcess({
        server: server.url,
        name: trusting,
        dataDir: join(dir, 'agent-ca'),
        joinToken: await joinToken(),
        args: ['--ca-file', caFile],
      }),
    );
    const node = await eventually(
      async () => {
        const r = await server.call('GET', `/v1/nodes/${trusting}`);
        return r.status === 200 && r.body.status === 'Ready' ? r.body : undefined;
      },
      60_000,
      'the agent with the CA registering',
    );
    expect(node.name).toBe(trusting);
  });

  it('npm start’s own agent reaches its HTTPS server on 127.0.0.1, checking the public name against the CA Node trusts', async () => {
    const pair = issue(dir, ca, ['berth.test'], 'public');
    const db2 = await freshPostgres();
    const withAgent = await startServerProcess({
      databaseUrl: db2.url,
      tlsCa: ca.cert,
      env: {
        BERTH_TLS_CERT_FILE: pair.certFile,
        BERTH_TLS_KEY_FILE: pair.keyFile,
        BERTH_PUBLIC_URL: 'https://berth.test',
        BERTH_LOCAL_AGENT: '1',
        // A private CA: npm start is told of it as Node is (its agent trusts what Node trusts).
        NODE_EXTRA_CA_CERTS: ca.certFile,
      },
      // The certificate names berth.test only: the test's own calls check that name too.
      tlsServername: 'berth.test',
    });
    try {
      await eventually(
        async () => {
          const r = await withAgent.call('GET', '/v1/nodes/local');
          return r.status === 200 && r.body.status === 'Ready';
        },
        60_000,
        'node "local" Ready',
      );
    } finally {
      await withAgent.close();
      await removeNodeContainers('local');
      await db2.drop();
    }
  });

  it('the CLI refuses it without the CA and works with NODE_EXTRA_CA_CERTS', async () => {
    const env = { BERTH_SERVER: server.url, BERTH_TOKEN: server.adminToken, HOME: dir };
    const without = await berthCli(['get', 'nodes'], { env });
    expect(without.code).not.toBe(0);
    expect(without.stderr).toMatch(/certificate/i);
    const withCa = await berthCli(['get', 'nodes'], { env: { ...env, NODE_EXTRA_CA_CERTS: ca.certFile } });
    expect([withCa.code, withCa.stderr]).toEqual([0, '']);
  });

  it('kubectl reaches it directly with the kubeconfig berth prints', async () => {
    const printed = await berthCli(
      ['kubeconfig', '--server', server.url, '--certificate-authority', ca.certFile],
      { env: { BERTH_TOKEN: server.adminToken, HOME: dir } },
    );
    expect([printed.code, printed.stderr]).toEqual([0, '']);
    const config = join(dir, 'kubeconfig');
    writeFileSync(config, printed.stdout, { mode: 0o600 });
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.env.BERTH_KUBECTL ?? 'kubectl',
        ['get', 'namespaces', '-o', 'name'],
        { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: config }, timeout: 60_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      ),
    );
    expect([out.code, out.stderr]).toEqual([0, '']);
    expect(out.stdout).toContain('namespace/default');
  });
});
