import { allReady, httpdDeployment } from '../lib/berth-api.ts';
import type { BerthStack } from '../lib/berth-stack.ts';
import {
  BENCH_LABEL,
  createSwarmService,
  rawRun,
  removeSwarmService,
  waitContainerCount,
  waitSwarmRunning,
} from '../lib/engine.ts';
import { type Section, VERSUS } from '../lib/report.ts';
import { fmtRatio, fmtSummary, type Summary, summarize } from '../lib/stats.ts';

export interface ApplyFigures {
  replicas: number;
  berthMs: number[];
  swarmMs: number[];
  rawMs: number[];
}

const GOALS: Record<number, { ms: number; text: string }> = {
  3: { ms: 800, text: 'under 0.8 s' },
  30: { ms: 5000, text: 'under 5 s' },
};

/** One Berth repetition: PUT, then poll the API every 20 ms until readyReplicas == N. */
export async function berthApplyToReady(stack: BerthStack, n: number, name: string): Promise<number> {
  // No service routes to these replicas, so nothing needs the drain delay: clearing is quicker.
  const body = httpdDeployment({ replicas: n, app: name, drainDelaySeconds: 0 });
  const t0 = performance.now();
  await stack.api.putDeployment(name, body);
  const { at } = await stack.api.waitFor(name, allReady(n), { what: `${n} ready`, timeoutMs: 120_000 });
  const ms = at - t0;
  const c0 = performance.now();
  await stack.clear(name);
  if (process.env.BENCH_DEBUG) console.error(`clear ${name}: ${Math.round(performance.now() - c0)} ms`);
  return ms;
}

/** One Swarm repetition: create the service, then poll every 20 ms until N/N running (healthy). */
export async function swarmApplyToReady(n: number, name: string, runLabel: string): Promise<number> {
  const t0 = performance.now();
  await createSwarmService({ name, replicas: n, runLabel });
  const at = await waitSwarmRunning(name, n);
  const ms = at - t0;
  await removeSwarmService(name);
  await waitContainerCount(`com.docker.swarm.service.name=${name}`, 0, 60_000);
  return ms;
}

/**
 * Part 1: apply to all ready, Berth against Swarm against the engine's own limit, the three
 * interleaved per repetition so that noise from the shared machine falls on all of them alike.
 */
export async function applyToReady(o: {
  stack: BerthStack;
  swarm: boolean;
  sizes: { replicas: number; repetitions: number }[];
  runLabel: string;
  log: (s: string) => void;
}): Promise<{ section: Section; figures: ApplyFigures[] }> {
  const figures: ApplyFigures[] = [];
  for (const { replicas: n, repetitions } of o.sizes) {
    const f: ApplyFigures = { replicas: n, berthMs: [], swarmMs: [], rawMs: [] };
    figures.push(f);
    // One untimed round first: the engine's and the processes' caches are warm for every timed one.
    await berthApplyToReady(o.stack, n, `warm-${n}`);
    for (let rep = 1; rep <= repetitions; rep++) {
      f.berthMs.push(await berthApplyToReady(o.stack, n, `apply-${n}-${rep}`));
      if (o.swarm) f.swarmMs.push(await swarmApplyToReady(n, `bench-apply-${n}-${rep}`, o.runLabel));
      f.rawMs.push(await rawRun(n, `${o.runLabel}-raw`));
      o.log(
        `apply ${n} #${rep}: Berth ${Math.round(f.berthMs.at(-1)!)} ms` +
          (o.swarm ? `, Swarm ${Math.round(f.swarmMs.at(-1)!)} ms` : '') +
          `, engine ${Math.round(f.rawMs.at(-1)!)} ms`,
      );
    }
  }
  const rows = figures.map((f) => {
    const b = summarize(f.berthMs);
    const s = summarize(f.swarmMs);
    const r = summarize(f.rawMs);
    const goal = GOALS[f.replicas];
    return [
      `${f.replicas} replicas, apply → all ready`,
      fmtSummary(b),
      o.swarm ? fmtSummary(s) : 'not run',
      o.swarm ? fmtRatio(b.median, s.median) : '',
      `${fmtSummary(r)} (${f.replicas} parallel create+start until all answer)`,
      goal ? `${goal.text}: ${verdict(b, goal.ms)}` : '',
    ];
  });
  return {
    figures,
    section: {
      title: 'Apply to all ready (real Docker Engine)',
      intro:
        'Berth: `PUT` of a Deployment of `berth-test/httpd:1` (readiness `httpGet /healthz`, periodSeconds 1) ' +
        'to the Node control plane (own process, fresh real-Postgres database) with one `berth-agent` process ' +
        '(the installed bundle) registered beforehand; the clock stops at the first `GET` (every 20 ms) ' +
        'showing `readyReplicas == N`. Swarm: the same image as a service with `--init`, `--health-cmd wget ' +
        '/healthz --health-interval 1s`, created through the Engine API, until `N/N` running (healthy), polled ' +
        'every 20 ms. Engine limit: N containers created and started at once through the Engine API, until ' +
        'every one answers `/healthz`.',
      columns: VERSUS,
      rows,
      notes: [
        'Each size runs one untimed warm-up first. Containers are removed between repetitions ' +
          '(Berth: `DELETE` then `docker rm -f` by label `berth.dev/node`; Swarm: `docker service rm`).',
      ],
      data: figures,
    },
  };
}

export function verdict(s: Summary, goalMs: number): string {
  return s.median <= goalMs ? 'met' : 'NOT met';
}

export { BENCH_LABEL };
