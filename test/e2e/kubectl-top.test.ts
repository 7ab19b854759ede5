import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerProcess } from '../support/processes.ts';
import { eventually } from '../support/sim-agents.ts';
import { type AgentProcess, HTTPD_1 } from './support/agent-harness.ts';
import { type KubectlCluster, startKubectlCluster } from './support/kubectl-cluster.ts';
import { KUBECTL } from './support/kubectl-front.ts';

/**
 * The real kubectl (v1.32) running `top` against Berth: a real agent samples its containers
 * through the Docker Engine and its machine through /proc, sends the samples with its status
 * reports, and the control plane serves them as metrics.k8s.io. The agent samples every 15 s and
 * reports at least every 10 s, so figures appear within about half a minute of a pod starting;
 * the waits allow 90 s for a loaded machine.
 */
const NS = '/v1/namespaces/default';

let cluster: KubectlCluster;
let server: ServerProcess;
let agent: AgentProcess;
let front: KubectlCluster['front'];
let pod: string;
let node: string;

// `busy` counts in a loop for a moment every second (some CPU); `holder` keeps 20 MiB in a
// tmpfs, which is memory no one can reclaim (the working set counts it, not the file cache).
const busy = {
  name: 'busy',
  image: HTTPD_1,
  command: ['sh', '-c', 'while true; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 1; done'],
};
const holder = {
  name: 'holder',
  image: HTTPD_1,
  command: ['sh', '-c', 'dd if=/dev/zero of=/dev/shm/fill bs=1048576 count=20 && exec sleep 3600'],
};

async function ok(args: string[]): Promise<string> {
  const r = await front.kubectl(args);
  expect(r.code, `kubectl ${args.join(' ')}\n${r.stderr}\n${server.output().slice(-2000)}`).toBe(0);
  return r.stdout;
}

/** kubectl's rows (header dropped), as cells, once `done` holds for them. */
async function rowsOnce(args: string[], done: (rows: string[][]) => boolean, what: string) {
  let last = '';
  try {
    return await eventually(
      async () => {
        const r = await front.kubectl(args);
        last = `${r.stdout}${r.stderr}`;
        if (r.code !== 0) return undefined;
        const rows = r.stdout
          .trim()
          .split('\n')
          .slice(1)
          .map((l) => l.trim().split(/\s+/));
        return done(rows) ? rows : undefined;
      },
      90_000,
      what,
    );
  } catch (e) {
    throw new Error(
      `${(e as Error).message}; kubectl ${args.join(' ')} said: ${last}\n${agent.output().slice(-3000)}`,
    );
  }
}

beforeAll(async () => {
  cluster = await startKubectlCluster('ktop', { registrationMs: 30000 });
  ({ server, agent, node, front } = cluster);
  const res = await server.call('PUT', `${NS}/deployments/load`, {
    spec: {
      replicas: 1,
      template: {
        metadata: { labels: { app: 'load' } },
        spec: { terminationGracePeriodSeconds: 1, containers: [busy, holder] },
      },
    },
  });
  expect(res.status).toBe(201);
  pod = await eventually(
    async () => {
      const items = (await server.call('GET', `${NS}/replicas?deployment=load`)).body.items as {
        id: string;
        ready: boolean;
      }[];
      return items.length === 1 && items[0]!.ready ? items[0]!.id : undefined;
    },
    60_000,
    'load to be ready',
  );
}, 300_000);

afterAll(async () => {
  await cluster?.close();
});

const millicores = (cell: string | undefined) => Number(cell?.replace(/m$/, ''));
const mebibytes = (cell: string | undefined) => Number(cell?.replace(/Mi$/, ''));

describe(`kubectl (${KUBECTL}) top`, () => {
  it('prints CPU and memory of the running pod, per container with --containers', async () => {
    const rows = await rowsOnce(
      ['top', 'pods'],
      (r) => r.some((c) => c[0] === pod),
      `${pod} in kubectl top pods`,
    );
    const row = rows.find((c) => c[0] === pod)!;
    expect(row).toHaveLength(3);
    expect(row[1]).toMatch(/^\d+m$/);
    expect(row[2]).toMatch(/^\d+Mi$/);
    // The working set holds the 20 MiB in tmpfs (and the header is kubectl's own).
    expect(mebibytes(row[2])).toBeGreaterThanOrEqual(19);
    expect(await ok(['top', 'pods'])).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);

    const containers = await rowsOnce(
      ['top', 'pods', '--containers', '-l', 'app=load'],
      (r) => r.length === 2,
      'both containers',
    );
    const by = new Map(containers.map((c) => [c[1], c]));
    expect([...by.keys()].sort()).toEqual(['busy', 'holder']);
    expect(by.get('busy')![0]).toBe(pod);
    // Counting in a loop shows, however slow the machine: at least a millicore.
    expect(millicores(by.get('busy')![2])).toBeGreaterThanOrEqual(1);
    expect(mebibytes(by.get('holder')![3])).toBeGreaterThanOrEqual(19);

    // Every namespace (-A), and a selector that matches nothing.
    const all = await ok(['top', 'pods', '-A']);
    expect(all).toMatch(new RegExp(`^default\\s+${pod}\\s+\\d+m\\s+\\d+Mi`, 'm'));
    const none = await front.kubectl(['top', 'pods', '-l', 'app=none']);
    expect(`${none.stdout}${none.stderr}`).toMatch(/No resources found/);
  });

  it('has new figures from an agent restarted with its saved state', async () => {
    // Resumed with its saved state and ETag (so its polls may be 304s, which carry the sampling
    // interval too), it samples again. Its containers keep running meanwhile.
    const restartedAt = Date.now();
    agent = await cluster.restartAgent();
    const sampled = await eventually(
      async () => {
        const res = await server.call('GET', `/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/${pod}`);
        const at = res.status === 200 ? Date.parse((res.body as { timestamp: string }).timestamp) : 0;
        // Whole seconds on the wire: a sample taken after the restart is at or after its second.
        return at >= Math.floor(restartedAt / 1000) * 1000 ? res.body : undefined;
      },
      90_000,
      'a sample taken after the restart',
    );
    expect(sampled).toMatchObject({ kind: 'PodMetrics', metadata: { name: pod } });
  });

  it('prints CPU and memory of the node, with shares of what it offers', async () => {
    const rows = await rowsOnce(
      ['top', 'nodes'],
      (r) => r.some((c) => c[0] === node),
      `${node} in kubectl top nodes`,
    );
    const row = rows.find((c) => c[0] === node)!;
    expect(row).toHaveLength(5);
    expect(row[1]).toMatch(/^\d+m$/);
    expect(row[2]).toMatch(/^\d+%$/);
    expect(row[3]).toMatch(/^\d+Mi$/);
    expect(row[4]).toMatch(/^\d+%$/);
    // A machine running a control plane, Postgres and Docker uses some of both.
    expect(millicores(row[1])).toBeGreaterThan(0);
    expect(mebibytes(row[3])).toBeGreaterThan(0);
  });
});
