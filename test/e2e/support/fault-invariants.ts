/**
 * Rollout bounds checked from outside, straight from Postgres: every ~50 ms one consistent
 * snapshot (a single statement) of every deployment and its replicas. A deployment whose current
 * spec the controller has acted on (`status.observedGeneration == generation`) must never have
 * more live replicas than `replicas + maxSurge` (and, when asked, fewer ready than
 * `replicas - maxUnavailable`). Before the controller has seen a spec change, the old spec's
 * replicas are still legitimately there, so such samples are not judged.
 */
export type Query = <T = Record<string, any>>(text: string, params?: unknown[]) => Promise<T[]>;

interface Row {
  namespace: string;
  name: string;
  generation: string;
  observed: string | null;
  spec: {
    replicas: number;
    strategy: {
      type: string;
      rollingUpdate?: { maxSurge: number | string; maxUnavailable: number | string };
    };
  };
  running: string;
  ready: string;
}

/** Kubernetes' IntOrString resolution: surge rounds up, unavailable rounds down. */
export function bounds(spec: Row['spec']): { maxSurge: number; maxUnavailable: number } {
  if (spec.strategy.type !== 'RollingUpdate' || !spec.strategy.rollingUpdate)
    return { maxSurge: 0, maxUnavailable: 0 };
  const resolve = (v: number | string, up: boolean) => {
    if (typeof v === 'number') return v;
    const exact = (Number(v.replace('%', '')) * spec.replicas) / 100;
    return up ? Math.ceil(exact) : Math.floor(exact);
  };
  const maxSurge = resolve(spec.strategy.rollingUpdate.maxSurge, true);
  let maxUnavailable = resolve(spec.strategy.rollingUpdate.maxUnavailable, false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, spec.replicas) };
}

export interface BoundsReport {
  samples: number;
  judged: number;
  violations: string[];
  /** Highest live count seen above `replicas`, per deployment. */
  maxOver: Map<string, number>;
}

export function startBoundsSampler(
  query: Query,
  o: { intervalMs?: number; checkAvailability?: (deployment: string) => boolean } = {},
) {
  const report: BoundsReport = { samples: 0, judged: 0, violations: [], maxOver: new Map() };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      let rows: Row[] = [];
      try {
        rows = await query<Row>(`
          select d.namespace, d.name, d.generation::text, d.status->>'observedGeneration' as observed, d.spec,
            count(r.id) filter (where r.desired = 'running' and r.phase <> 'Lost')::text as running,
            count(r.id) filter (where r.desired = 'running' and r.ready)::text as ready
          from deployments d left join replicas r on r.deployment_id = d.id
          where d.deleted_at is null
          group by d.id`);
      } catch {
        // The sampler's own connection hiccuped: skip this sample.
      }
      report.samples++;
      for (const row of rows) {
        if (row.observed !== row.generation) continue;
        report.judged++;
        const key = `${row.namespace}/${row.name}`;
        const { maxSurge, maxUnavailable } = bounds(row.spec);
        const running = Number(row.running);
        const ready = Number(row.ready);
        report.maxOver.set(key, Math.max(report.maxOver.get(key) ?? 0, running - row.spec.replicas));
        if (running > row.spec.replicas + maxSurge && report.violations.length < 50) {
          report.violations.push(
            `${key} generation ${row.generation}: ${running} live > ${row.spec.replicas} + maxSurge ${maxSurge}`,
          );
        }
        if (
          o.checkAvailability?.(key) &&
          ready < row.spec.replicas - maxUnavailable &&
          report.violations.length < 50
        ) {
          report.violations.push(
            `${key} generation ${row.generation}: ${ready} ready < ${row.spec.replicas} - maxUnavailable ${maxUnavailable}`,
          );
        }
      }
      await new Promise((r) => setTimeout(r, Math.max(0, (o.intervalMs ?? 50) - (Date.now() - started))));
    }
  })();
  return {
    report,
    async stop(): Promise<BoundsReport> {
      stopped = true;
      await loop;
      return report;
    },
  };
}

/**
 * The end state every fault must converge to: each live deployment has exactly `spec.replicas`
 * replicas desired running (none Lost, all placed, all ready), and nothing else is running.
 */
export async function convergedProblems(query: Query): Promise<string[]> {
  const rows = await query<{
    key: string;
    want: number;
    running: string;
    placed: string;
    ready: string;
    lost: string;
  }>(`
    select d.namespace || '/' || d.name as key, (d.spec->>'replicas')::int as want,
      count(r.id) filter (where r.desired = 'running')::text as running,
      count(r.id) filter (where r.desired = 'running' and r.node_id is not null)::text as placed,
      count(r.id) filter (where r.desired = 'running' and r.ready)::text as ready,
      count(r.id) filter (where r.desired = 'running' and r.phase = 'Lost')::text as lost
    from deployments d left join replicas r on r.deployment_id = d.id
    where d.deleted_at is null group by d.id`);
  const problems: string[] = [];
  for (const r of rows) {
    const [running, placed, ready, lost] = [r.running, r.placed, r.ready, r.lost].map(Number);
    if (running !== r.want || placed !== r.want || ready !== r.want || lost !== 0)
      problems.push(
        `${r.key}: want ${r.want}, running ${running}, placed ${placed}, ready ${ready}, lost ${lost}`,
      );
  }
  const orphans = await query<{ n: string }>(`
    select count(*)::text as n from replicas r join deployments d on d.id = r.deployment_id
    where d.deleted_at is not null and r.desired = 'running'`);
  if (Number(orphans[0]?.n ?? 0) > 0)
    problems.push(`${orphans[0]!.n} replicas of deleted deployments still running`);
  return problems;
}
