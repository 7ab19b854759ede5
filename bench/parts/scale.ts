import { allReady, httpdDeployment } from '../lib/berth-api.ts';
import type { BerthStack } from '../lib/berth-stack.ts';
import {
  createSwarmService,
  removeSwarmService,
  updateSwarmService,
  waitContainerCount,
  waitSwarmRunning,
} from '../lib/engine.ts';
import { type Section, VERSUS } from '../lib/report.ts';
import { fmtMs, fmtRatio } from '../lib/stats.ts';

export interface ScaleFigures {
  from: number;
  to: number;
  berth: { upMs: number; downApiMs: number; downContainersMs: number };
  swarm?: { upMs: number; downApiMs: number; downContainersMs: number };
}

/**
 * Berth: a Deployment at 3 ready, `PUT .../scale` to 30 until 30 ready, then to 3: until the
 * status counts 3 replicas, and until only 3 containers are left running on the engine.
 */
async function berthScale(stack: BerthStack, from: number, to: number) {
  const name = 'scale';
  await stack.api.putDeployment(name, httpdDeployment({ replicas: from, app: name }));
  await stack.api.waitFor(name, allReady(from));
  let t0 = performance.now();
  await stack.api.scale(name, to);
  const up = await stack.api.waitFor(name, allReady(to), { what: `${to} ready` });
  const upMs = up.at - t0;
  t0 = performance.now();
  await stack.api.scale(name, from);
  const down = await stack.api.waitFor(
    name,
    (d) => d.status.observedGeneration >= d.metadata.generation && d.status.replicas === from,
    { what: `${from} replicas` },
  );
  const gone = await waitContainerCount(
    [stack.nodeLabel, `berth.dev/deployment=default/${name}`],
    from,
    60_000,
  );
  const result = { upMs, downApiMs: down.at - t0, downContainersMs: gone - t0 };
  await stack.clear(name);
  return result;
}

/** Swarm: the service at 3 running, `docker service scale` to 30 until 30/30, then back to 3. */
async function swarmScale(from: number, to: number, runLabel: string) {
  const name = 'bench-scale';
  const label = `com.docker.swarm.service.name=${name}`;
  await createSwarmService({ name, replicas: from, runLabel });
  await waitSwarmRunning(name, from);
  let t0 = performance.now();
  await updateSwarmService(name, { replicas: to });
  const upMs = (await waitSwarmRunning(name, to)) - t0;
  t0 = performance.now();
  await updateSwarmService(name, { replicas: from });
  const downApiMs = (await waitSwarmRunning(name, from)) - t0;
  const downContainersMs = (await waitContainerCount(label, from, 60_000)) - t0;
  await removeSwarmService(name);
  await waitContainerCount(label, 0, 60_000);
  return { upMs, downApiMs, downContainersMs };
}

export async function scaleUpDown(o: {
  stack: BerthStack;
  swarm: boolean;
  runLabel: string;
  log: (s: string) => void;
}): Promise<{ section: Section; figures: ScaleFigures }> {
  const from = 3;
  const to = 30;
  const berth = await berthScale(o.stack, from, to);
  o.log(`scale Berth: up ${Math.round(berth.upMs)} ms, down ${Math.round(berth.downContainersMs)} ms`);
  const swarm = o.swarm ? await swarmScale(from, to, o.runLabel) : undefined;
  if (swarm)
    o.log(`scale Swarm: up ${Math.round(swarm.upMs)} ms, down ${Math.round(swarm.downContainersMs)} ms`);
  const figures: ScaleFigures = { from, to, berth, ...(swarm ? { swarm } : {}) };
  const row = (what: string, key: keyof ScaleFigures['berth']) => [
    what,
    fmtMs(berth[key]),
    swarm ? fmtMs(swarm[key]) : 'not run',
    swarm ? fmtRatio(berth[key], swarm[key]) : '',
    '',
    '',
  ];
  return {
    figures,
    section: {
      title: 'Scale 3 → 30 → 3 (real Docker Engine)',
      intro:
        'Berth: `PUT .../scale`; Swarm: `docker service scale` (a service update through the Engine API). ' +
        'Up: until all 30 are ready (Berth status) or 30/30 running (Swarm). Down: until the API says 3 ' +
        '(Berth `status.replicas`, Swarm running tasks), and until only 3 containers are left running.',
      columns: VERSUS,
      rows: [
        row(`scale ${from} → ${to}, until all ready`, 'upMs'),
        row(`scale ${to} → ${from}, until the API says ${from}`, 'downApiMs'),
        row(`scale ${to} → ${from}, until ${from} containers are left`, 'downContainersMs'),
      ],
      notes: [
        "Berth's scale-down includes its default 2 s drain delay (replicas leave the service endpoints, " +
          'serve 2 s more, then get SIGTERM); Swarm stops its tasks at once.',
      ],
      data: figures,
    },
  };
}
