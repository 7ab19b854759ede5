import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssignedProbe, Probe } from '../common/deployment.ts';
import {
  initialDelayMs,
  initialProbeState,
  nextProbeDelayMs,
  type ProbeState,
  probeTarget,
  recordProbeResult,
  runProbe,
  startupVerdict,
} from './probes.ts';

const probe = (over: object) => Probe.parse({ httpGet: { port: 8080 }, ...over });

describe('probe state', () => {
  it('readiness starts false and needs successThreshold successes in a row', () => {
    const p = probe({ successThreshold: 2 });
    let s: ProbeState = initialProbeState('readiness');
    expect(s.ok).toBe(false);
    s = recordProbeResult(s, p, true);
    expect(s.ok).toBe(false);
    s = recordProbeResult(s, p, false);
    s = recordProbeResult(s, p, true);
    expect(s.ok).toBe(false);
    s = recordProbeResult(s, p, true);
    expect(s).toMatchObject({ ok: true, everOk: true });
  });

  it('liveness starts true and fails after failureThreshold failures in a row', () => {
    const p = probe({ failureThreshold: 3 });
    let s = initialProbeState('liveness');
    expect(s.ok).toBe(true);
    s = recordProbeResult(s, p, false);
    s = recordProbeResult(s, p, false);
    s = recordProbeResult(s, p, true);
    s = recordProbeResult(s, p, false);
    s = recordProbeResult(s, p, false);
    expect(s.ok).toBe(true);
    s = recordProbeResult(s, p, false);
    expect(s.ok).toBe(false);
  });

  it('a startup probe starts at its first success and fails after failureThreshold failures in a row', () => {
    const p = probe({ failureThreshold: 3 });
    let s = initialProbeState('startup');
    expect(startupVerdict(s, p)).toBe('pending');
    s = recordProbeResult(s, p, false);
    s = recordProbeResult(s, p, false);
    expect(startupVerdict(s, p)).toBe('pending');
    expect(startupVerdict(recordProbeResult(s, p, true), p)).toBe('started');
    expect(startupVerdict(recordProbeResult(s, p, false), p)).toBe('failed');
    // Startup probes keep Kubernetes' period: no fast-path, whose failures would shorten the start.
    expect(nextProbeDelayMs('startup', probe({ periodSeconds: 4 }), s, 0)).toBe(4000);
  });

  it('counts initialDelaySeconds from the container start', () => {
    const p = probe({ initialDelaySeconds: 5 });
    expect(initialDelayMs(p, undefined, 1000)).toBe(5000);
    expect(initialDelayMs(p, 1000, 3000)).toBe(3000);
    expect(initialDelayMs(p, 1000, 60_000)).toBe(0);
  });

  it('probes fast until the first readiness success, then at periodSeconds', () => {
    const p = probe({ periodSeconds: 10 });
    const s = initialProbeState('readiness');
    const delays = [0, 1, 2, 5, 20, 50].map((a) => nextProbeDelayMs('readiness', p, s, a));
    expect(delays).toEqual([50, 63, 78, 153, 1000, 1000]);
    expect(nextProbeDelayMs('readiness', p, { ...s, ok: true, everOk: true }, 0)).toBe(10_000);
    expect(nextProbeDelayMs('liveness', p, initialProbeState('liveness'), 0)).toBe(10_000);
    // The fast path never probes slower than the period itself.
    expect(nextProbeDelayMs('readiness', probe({ periodSeconds: 1 }), s, 40)).toBe(1000);
  });
});

describe('probe target', () => {
  const ctx = {
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' as const }],
    hostPorts: [{ containerPort: 8080, hostPort: 32768 }],
    address: '10.0.0.5',
    podIp: '172.17.0.2',
  };
  it('uses the published host port on the node address, resolving named ports', () => {
    expect(probeTarget({ port: 'http' }, ctx)).toEqual({ host: '10.0.0.5', port: 32768 });
    expect(probeTarget({ port: 8080 }, ctx)).toEqual({ host: '10.0.0.5', port: 32768 });
  });
  it('falls back to the pod address for unpublished ports', () => {
    expect(probeTarget({ port: 9000 }, ctx)).toEqual({ host: '172.17.0.2', port: 9000 });
    expect(probeTarget({ port: 'nope' }, ctx)).toEqual({ error: 'probe names unknown port "nope"' });
  });
  it("ignores a host stored before the API refused it: only the pod's own addresses are probed", () => {
    const stored = AssignedProbe.parse({ tcpSocket: { port: 9000, host: '169.254.169.254' } });
    expect(probeTarget(stored.tcpSocket!, ctx)).toEqual({ host: '172.17.0.2', port: 9000 });
    const http = AssignedProbe.parse({ httpGet: { port: 'http', host: '10.0.0.1' } });
    expect(probeTarget(http.httpGet!, ctx)).toEqual({ host: '10.0.0.5', port: 32768 });
  });
});

describe('runProbe', () => {
  let port = 0;
  const server = createServer((req, res) => {
    res.statusCode = req.url === '/healthz' ? 200 : req.url === '/slow' ? 200 : 503;
    if (req.url === '/slow') setTimeout(() => res.end(), 1500);
    else res.end();
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const ctx = () => ({ ports: [], hostPorts: [{ containerPort: 80, hostPort: port }], address: '127.0.0.1' });
  const noExec = async () => 1;

  it('httpGet: 2xx/3xx succeed, others fail with the status, timeouts fail', async () => {
    expect(await runProbe(probe({ httpGet: { port: 80, path: '/healthz' } }), ctx(), noExec)).toEqual({
      ok: true,
    });
    expect(await runProbe(probe({ httpGet: { port: 80, path: '/x' } }), ctx(), noExec)).toEqual({
      ok: false,
      detail: 'HTTP probe failed with statuscode: 503',
    });
    const slow = await runProbe(
      probe({ httpGet: { port: 80, path: '/slow' }, timeoutSeconds: 1 }),
      ctx(),
      noExec,
    );
    expect(slow.ok).toBe(false);
  });

  it('tcpSocket: connects or fails', async () => {
    expect(await runProbe(Probe.parse({ tcpSocket: { port: 80 } }), ctx(), noExec)).toEqual({ ok: true });
    const closed = { ...ctx(), hostPorts: [{ containerPort: 80, hostPort: 1 }] };
    expect((await runProbe(Probe.parse({ tcpSocket: { port: 80 } }), closed, noExec)).ok).toBe(false);
  });

  it('exec: exit code 0 succeeds', async () => {
    const p = Probe.parse({ exec: { command: ['true'] } });
    expect(await runProbe(p, ctx(), async () => 0)).toEqual({ ok: true });
    expect(await runProbe(p, ctx(), async () => 2)).toEqual({ ok: false, detail: 'command exited with 2' });
  });
});
