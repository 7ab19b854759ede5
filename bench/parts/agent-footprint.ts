import { allReady, httpdDeployment } from '../lib/berth-api.ts';
import type { BerthStack } from '../lib/berth-stack.ts';
import { dockerdPid } from '../lib/engine.ts';
import { type Footprint, sampleFootprint } from '../lib/processes.ts';
import type { Section } from '../lib/report.ts';
import { fmtBytes } from '../lib/stats.ts';

export interface FootprintSample {
  probePeriodSeconds: number;
  agent: Footprint;
  dockerd?: Footprint;
}

export interface FootprintFigures {
  containers: number;
  samples: FootprintSample[];
}

const RSS_GOAL = 60 * 1024 * 1024;
const CPU_GOAL = 0.01;

/**
 * Part 5: a fresh berth-agent process (the installed bundle) idle with 30 ready containers:
 * CPU share of one core and RSS from /proc over a window, dockerd's own over the same window
 * for reference. Twice: readiness probes at Kubernetes' default period (10 s), then every
 * second (the benchmark's probe in the other parts).
 */
export async function agentFootprint(o: {
  stack: BerthStack;
  seconds: number;
  log: (s: string) => void;
}): Promise<{ section: Section; figures: FootprintFigures }> {
  const n = 30;
  await o.stack.freshAgent();
  const samples: FootprintSample[] = [];
  for (const [period, seconds] of [
    [10, o.seconds],
    [1, Math.max(10, Math.round(o.seconds * 0.66))],
  ] as const) {
    const name = `idle-${period}`;
    await o.stack.api.putDeployment(
      name,
      httpdDeployment({ replicas: n, app: name, probePeriodSeconds: period }),
    );
    await o.stack.api.waitFor(name, allReady(n), { what: `${n} ready` });
    // A service in front of them: the agent's DNS and proxy hold its ${n} endpoints while sampled.
    await o.stack.api.call('PUT', `/v1/namespaces/default/services/${name}`, {
      spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    // Let the start-up work (first reports, the probes' fast start, the burst's garbage) settle.
    await new Promise((r) => setTimeout(r, 5000));
    const dpid = await dockerdPid();
    const [agent, dockerd] = await Promise.all([
      sampleFootprint(o.stack.agent.pid, seconds * 1000),
      dpid ? sampleFootprint(dpid, seconds * 1000) : Promise.resolve(undefined),
    ]);
    o.log(
      `agent idle, probes every ${period} s: ${fmtBytes(agent.rssMedianBytes)}, ${(agent.cpuShare * 100).toFixed(2)}% of a core`,
    );
    samples.push({ probePeriodSeconds: period, agent, ...(dockerd ? { dockerd } : {}) });
    await o.stack.clear(name);
    await o.stack.api.call('DELETE', `/v1/namespaces/default/services/${name}`).catch(() => {});
  }
  const pct = (f: Footprint) => `${(f.cpuShare * 100).toFixed(2)}% of a core`;
  const rows: string[][] = [];
  for (const s of samples) {
    const goal = s.probePeriodSeconds === 10;
    rows.push([
      `RSS, probes every ${s.probePeriodSeconds} s (median of 1 s samples; max)`,
      `${fmtBytes(s.agent.rssMedianBytes)}; ${fmtBytes(s.agent.rssMaxBytes)}`,
      s.dockerd ? `${fmtBytes(s.dockerd.rssMedianBytes)}; ${fmtBytes(s.dockerd.rssMaxBytes)}` : 'not found',
      goal ? `≤ 60 MB: ${s.agent.rssMaxBytes <= RSS_GOAL ? 'met' : 'NOT met'}` : '',
    ]);
    rows.push([
      `CPU, probes every ${s.probePeriodSeconds} s (user+system over ${Math.round(s.agent.seconds)} s)`,
      pct(s.agent),
      s.dockerd ? pct(s.dockerd) : 'not found',
      goal ? `< 1% of a core: ${s.agent.cpuShare < CPU_GOAL ? 'met' : 'NOT met'}` : '',
    ]);
  }
  return {
    figures: { containers: n, samples },
    section: {
      title: 'Agent footprint, idle with 30 containers',
      intro:
        `A fresh \`berth-agent\` process (the installed single-file bundle) with ${n} ready replicas of ` +
        "`berth-test/httpd:1`, each with an `httpGet` readiness probe, behind a service (the agent's DNS and " +
        'proxy route it), sampled from `/proc/<pid>/stat` and ' +
        '`/proc/<pid>/status` after 5 s of settling; `dockerd` over the same window for reference. The goal ' +
        "is measured with Kubernetes' default probe period (10 s); probes every second (as in the other parts) " +
        'are shown for what they cost.',
      columns: ['figure', 'berth-agent', 'dockerd (reference)', 'goal'],
      rows,
      notes: [
        "dockerd's figures include the work it does for every client on this shared machine, not only for the agent.",
      ],
      data: { containers: n, samples },
    },
  };
}
