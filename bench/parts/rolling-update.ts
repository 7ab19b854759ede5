import { request } from 'node:http';
import { allReady, httpdDeployment, rolledOut } from '../lib/berth-api.ts';
import type { BerthStack } from '../lib/berth-stack.ts';
import {
  createSwarmService,
  httpOk,
  IMAGE_2,
  removeSwarmService,
  swarmHealthyPorts,
  updateSwarmService,
  waitContainerCount,
  waitSwarmRunning,
  waitSwarmUpdate,
} from '../lib/engine.ts';
import { freePort } from '../lib/processes.ts';
import { type Section, VERSUS } from '../lib/report.ts';
import { type LoopResult, roundRobin, startRequestLoop } from '../lib/request-loop.ts';
import { fmtMs, fmtRatio } from '../lib/stats.ts';

export interface RollFigure {
  ms: number;
  /** Requests during the update, per client path. */
  loops: Partial<Record<ClientPath, LoopResult>>;
}
type ClientPath = 'ingress' | 'direct' | 'mesh';

export interface RollFigures {
  replicas: number;
  berthDefault: RollFigure;
  berthNoUnavailable: RollFigure;
  swarmDefault?: RollFigure;
  swarmBatch?: RollFigure & { parallelism: number };
}

/** Kubernetes' rounding: surge up, unavailable down. */
export function berthBatch(n: number, surgePct: number, unavailablePct: number): number {
  return Math.ceil((n * surgePct) / 100) + Math.floor((n * unavailablePct) / 100);
}

const EVERY_MS = 40;

/**
 * Berth: a Deployment at v1 behind a Service with a host, then a `PUT` of the same Deployment
 * with image :2. Two clients at once: one through the control plane's ingress (`Host:` header),
 * one round-robin straight to the ready replicas' host ports as the replicas API lists them.
 * Duration: until the status shows the rollout finished (every replica updated and available,
 * no old one left); the clients keep going until the old containers are gone.
 */
async function berthRoll(
  stack: BerthStack,
  n: number,
  name: string,
  strategy: { maxSurge: string; maxUnavailable: string | number },
): Promise<RollFigure> {
  const host = `${name}.bench.test`;
  await stack.api.call('PUT', `/v1/namespaces/default/services/${name}`, {
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }], hosts: [host] },
  });
  const v1 = httpdDeployment({ replicas: n, app: name, ...strategy });
  await stack.api.putDeployment(name, v1);
  await stack.api.waitFor(name, allReady(n), { what: `${n} ready at v1` });
  const port = Number(new URL(stack.cp.url).port);
  await waitServing(port, host, n);
  const rr = roundRobin(async () =>
    (await stack.api.replicas(name))
      .filter((r) => r.ready && r.desired === 'running')
      .flatMap((r) => r.hostPorts.filter((p) => p.containerPort === 8080).map((p) => p.hostPort)),
  );
  await rr.ready;
  const ingress = startRequestLoop({ port, host, everyMs: EVERY_MS });
  const direct = startRequestLoop({ port: rr.next, everyMs: EVERY_MS });
  const t0 = performance.now();
  await stack.api.putDeployment(
    name,
    httpdDeployment({ replicas: n, app: name, image: IMAGE_2, ...strategy }),
  );
  const { at } = await stack.api.waitFor(name, rolledOut(n), { what: 'rollout', timeoutMs: 300_000 });
  await waitContainerCount(stack.nodeLabel, n, 60_000);
  const loops = { ingress: await ingress.stop(), direct: await direct.stop() };
  await rr.stop();
  await stack.clear(name);
  await stack.api.call('DELETE', `/v1/namespaces/default/services/${name}`).catch(() => {});
  return { ms: at - t0, loops };
}

/** The service answers (through the ingress, whose routing state is cached for up to a second). */
async function waitServing(port: number, host: string | undefined, times: number, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let ok = 0;
  while (ok < times) {
    if (Date.now() > deadline) throw new Error(`nothing answers on ${host ?? '127.0.0.1'}:${port}`);
    if (await httpOkWithHost(port, host)) ok++;
    else await new Promise((r) => setTimeout(r, 50));
  }
}

function httpOkWithHost(port: number, host: string | undefined): Promise<boolean> {
  if (!host) return httpOk(port, '/');
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

let meshWorks: Promise<boolean> | undefined;

/**
 * Swarm's routing mesh needs IPVS in the kernel; some kernels (e.g. minimal VM kernels) lack
 * it, and then a published port never answers. Tried once per run with a one-replica service.
 */
function swarmMeshWorks(runLabel: string): Promise<boolean> {
  meshWorks ??= (async () => {
    const name = 'bench-mesh-probe';
    const port = await freePort();
    await createSwarmService({ name, replicas: 1, runLabel, publish: { mode: 'ingress', port } });
    try {
      await waitSwarmRunning(name, 1);
      await waitServing(port, undefined, 1, 8000);
      return true;
    } catch {
      return false;
    } finally {
      await removeSwarmService(name);
      await waitContainerCount(`com.docker.swarm.service.name=${name}`, 0, 60_000);
    }
  })();
  return meshWorks;
}

/**
 * Swarm: the service at v1, then `docker service update --image :2` (detached, through the
 * Engine API). The client goes through the routing mesh's published port; where the mesh
 * cannot work, tasks publish host ports and the client round-robins over the healthy ones as
 * the Engine lists them (the same client as Berth's direct one). Duration: until the update
 * is `completed`.
 */
async function swarmRoll(
  n: number,
  name: string,
  runLabel: string,
  parallelism?: number,
): Promise<RollFigure> {
  const mesh = await swarmMeshWorks(runLabel);
  const port = await freePort();
  await createSwarmService({
    name,
    replicas: n,
    runLabel,
    publish: mesh ? { mode: 'ingress', port } : { mode: 'host' },
  });
  await waitSwarmRunning(name, n);
  const rr = mesh ? undefined : roundRobin(() => swarmHealthyPorts(name));
  if (mesh) await waitServing(port, undefined, n);
  else await rr!.ready;
  const loop = startRequestLoop({ port: mesh ? port : rr!.next, everyMs: EVERY_MS });
  const t0 = performance.now();
  await updateSwarmService(name, { image: IMAGE_2, ...(parallelism ? { parallelism } : {}) });
  const at = await waitSwarmUpdate(name);
  await waitContainerCount(`com.docker.swarm.service.name=${name}`, n, 60_000);
  const result = await loop.stop();
  await rr?.stop();
  await removeSwarmService(name);
  await waitContainerCount(`com.docker.swarm.service.name=${name}`, 0, 60_000);
  return { ms: at - t0, loops: mesh ? { mesh: result } : { direct: result } };
}

export async function rollingUpdate(o: {
  stack: BerthStack;
  swarm: boolean;
  sizes: number[];
  runLabel: string;
  log: (s: string) => void;
}): Promise<{ section: Section; figures: RollFigures[] }> {
  const figures: RollFigures[] = [];
  for (const n of o.sizes) {
    const batch = berthBatch(n, 25, 25);
    const berthDefault = await berthRoll(o.stack, n, `roll-${n}-a`, {
      maxSurge: '25%',
      maxUnavailable: '25%',
    });
    o.log(`rolling ${n} Berth 25%/25%: ${Math.round(berthDefault.ms)} ms, ${failedText(berthDefault)}`);
    const berthNoUnavailable = await berthRoll(o.stack, n, `roll-${n}-b`, {
      maxSurge: '25%',
      maxUnavailable: 0,
    });
    o.log(
      `rolling ${n} Berth 25%/0: ${Math.round(berthNoUnavailable.ms)} ms, ${failedText(berthNoUnavailable)}`,
    );
    const f: RollFigures = { replicas: n, berthDefault, berthNoUnavailable };
    if (o.swarm) {
      f.swarmDefault = await swarmRoll(n, `bench-roll-${n}-a`, o.runLabel);
      o.log(
        `rolling ${n} Swarm defaults: ${Math.round(f.swarmDefault.ms)} ms, ${failedText(f.swarmDefault)}`,
      );
      // Swarm's default parallelism is 1: with a batch of 1 the second Swarm run would repeat the first.
      f.swarmBatch =
        batch > 1
          ? {
              ...(await swarmRoll(n, `bench-roll-${n}-b`, o.runLabel, batch)),
              parallelism: batch,
            }
          : { ...f.swarmDefault, parallelism: 1 };
      o.log(`rolling ${n} Swarm parallelism ${batch}: ${Math.round(f.swarmBatch.ms)} ms`);
    }
    figures.push(f);
  }

  const rows: string[][] = [];
  for (const f of figures) {
    const goal =
      f.replicas === 3
        ? `under 5 s, zero failed: ${f.berthDefault.ms <= 5000 && !anyFailed(f.berthDefault) ? 'met' : 'NOT met'}`
        : 'zero failed';
    rows.push([
      `rolling update of ${f.replicas}: Berth defaults (maxSurge 25%, maxUnavailable 25%) vs Swarm defaults (parallelism 1, stop-first)`,
      rollText(f.berthDefault),
      f.swarmDefault ? rollText(f.swarmDefault) : 'not run',
      f.swarmDefault ? fmtRatio(f.berthDefault.ms, f.swarmDefault.ms) : '',
      '',
      goal,
    ]);
    rows.push([
      `rolling update of ${f.replicas}: Berth maxSurge 25%, maxUnavailable 0 vs Swarm --update-parallelism ${f.swarmBatch?.parallelism ?? berthBatch(f.replicas, 25, 25)} (Berth's default batch)`,
      rollText(f.berthNoUnavailable),
      f.swarmBatch ? rollText(f.swarmBatch) : 'not run',
      f.swarmBatch ? fmtRatio(f.berthNoUnavailable.ms, f.swarmBatch.ms) : '',
      '',
      'zero failed',
    ]);
  }
  return {
    figures,
    section: {
      title: 'Rolling update under traffic (real Docker Engine)',
      intro:
        'From the update request (`PUT` of the Deployment with `berth-test/httpd:2`; `docker service update ' +
        '--image`) until the rollout is complete (Berth: every replica updated and available and no old one ' +
        "left, per the Deployment's status; Swarm: `UpdateStatus` completed). Meanwhile clients send 25 " +
        'requests/s each, every request on a new connection with a 3 s timeout, until the old containers are ' +
        "gone: for Berth one through the control plane's ingress (a Service with a host, `Host:` header) and one " +
        "round-robin over the ready replicas' host ports as the replicas API lists them (re-read every 100 ms); " +
        "for Swarm one through the routing mesh's published port, or, where the kernel has no IPVS for the mesh, " +
        "round-robin over the healthy tasks' host ports (`--publish mode=host`) as the Engine lists them " +
        '(re-read every 100 ms). A request fails on a connection error, a timeout or a status other than 200.',
      columns: VERSUS,
      rows,
      notes: [
        `Berth's batch: maxSurge rounded up plus maxUnavailable rounded down (${o.sizes.map((n) => `${berthBatch(n, 25, 25)} of ${n}`).join(', ')}), ` +
          "the number of replicas it replaces at once with the defaults. With a batch of 1, Swarm's second row repeats its first.",
        'Both run their containers with an init process (Swarm: `--init`), so a stop is immediate rather than ' +
          "busybox httpd's ignored SIGTERM waiting out the grace period. Berth keeps its default 2 s drain delay " +
          '(a stopping replica leaves the endpoints, then serves 2 s more before SIGTERM).',
      ],
      data: figures,
    },
  };
}

function loopText(path: ClientPath, r: LoopResult): string {
  const reasons = Object.entries(r.reasons)
    .map(([k, v]) => `${k}×${v}`)
    .join(', ');
  return `${path} ${r.failed}/${r.total} failed${reasons ? ` (${reasons})` : ''}`;
}

function failedText(f: RollFigure): string {
  return Object.entries(f.loops)
    .map(([path, r]) => loopText(path as ClientPath, r!))
    .join(', ');
}

const anyFailed = (f: RollFigure) => Object.values(f.loops).some((r) => r!.failed > 0);

function rollText(f: RollFigure): string {
  return `${fmtMs(f.ms)}; ${failedText(f)}`;
}
