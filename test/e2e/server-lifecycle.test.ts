import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, ROOT } from '../support/processes.ts';

/**
 * The README's first command as a new user runs it: `npm start` on an empty data dir with the
 * embedded database, then a clean SIGTERM, then a restart that keeps everything.
 */
describe('npm start on the embedded database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-start-'));
  let port = 0;
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  // A free port can be taken by a test beside this one before the server binds it: then again on another.
  const start = async (): Promise<Awaited<ReturnType<typeof startOnce>>> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await startOnce();
      } catch (e) {
        if (attempt < 3 && /EADDRINUSE/.test(String(e))) continue;
        throw e;
      }
    }
  };
  const startOnce = async () => {
    port = await freePort();
    const child = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        BERTH_DATA_DIR: dataDir,
        BERTH_LOCAL_AGENT: '0',
        BERTH_ADMIN_TOKEN: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // A bound for a loaded machine, where a start with its build has taken over 90 s; it fails only a hung one.
    const deadline = Date.now() + 240_000;
    while (!/listening on/.test(output)) {
      if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm start did not listen:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { child, output: () => output, exited };
  };
  // SIGTERM goes to the server process itself (as systemd or a container runtime would send it);
  // npm then exits with the server's own exit code.
  const stop = async (child: ChildProcess, exited: Promise<number | null>) => {
    const server = execSync(`pgrep -g ${child.pid} -f "^node .*dist/server.mjs"`)
      .toString()
      .trim()
      .split('\n')[0]!;
    process.kill(Number(server), 'SIGTERM');
    return exited;
  };

  it('starts, prints the URL and where the admin token is, and writes the token 0600', async () => {
    const { child, output, exited } = await start();
    const lines = output()
      .split('\n')
      .filter((l) => l.includes('listening on'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`http://localhost:${port}`);
    expect(lines[0]).toContain(join(dataDir, 'admin-token'));
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    expect(statSync(join(dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
    // Printed on the line after the one above, which may arrive in a later chunk of the pipe.
    for (let i = 0; i < 100 && !output().includes(token); i++) await new Promise((r) => setTimeout(r, 50));
    expect(output()).toContain(token);

    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const put = await fetch(`${base}/v1/namespaces/default/deployments/kept`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({
        spec: { replicas: 2, template: { spec: { containers: [{ name: 'c', image: 'x:1' }] } } },
      }),
    });
    expect(put.status).toBe(201);

    // An agent's long-poll is in flight when SIGTERM arrives: it is answered (not cut), then the
    // process exits 0.
    const join_ = await (
      await fetch(`${base}/v1/join-tokens`, { method: 'POST', headers, body: '{}' })
    ).json();
    const reg = await (
      await fetch(`${base}/v1/agent/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          joinToken: join_.token,
          name: 'n1',
          capacity: { cpu: 1, memoryBytes: 2 ** 30 },
          address: '127.0.0.1',
        }),
      })
    ).json();
    const first = await fetch(`${base}/v1/agent/assignments`, {
      headers: { authorization: `Bearer ${reg.nodeToken}` },
    });
    await first.body?.cancel();
    const inFlight = fetch(`${base}/v1/agent/assignments?wait=25`, {
      headers: { authorization: `Bearer ${reg.nodeToken}`, 'if-none-match': first.headers.get('etag')! },
    });
    await new Promise((r) => setTimeout(r, 300));
    const code = await stop(child, exited);
    expect([200, 304]).toContain((await inFlight).status);
    expect(output()).toContain('SIGTERM: finishing in-flight requests');
    expect(code).toBe(0);
  });

  it('keeps every object and the same token across a restart on the same data dir', async () => {
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const { child, output, exited } = await start();
    expect(output()).not.toContain('shown once');
    const res = await fetch(`http://127.0.0.1:${port}/v1/namespaces/default/deployments/kept`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect((await res.json()).spec.replicas).toBe(2);
    expect(await stop(child, exited)).toBe(0);
  });
});
