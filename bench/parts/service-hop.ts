import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { allReady, httpdDeployment } from '../lib/berth-api.ts';
import type { BerthStack } from '../lib/berth-stack.ts';
import { docker, removeContainersWithLabel } from '../lib/engine.ts';
import { ROOT } from '../lib/processes.ts';
import type { Section } from '../lib/report.ts';
import { percentile } from '../lib/stats.ts';

const run = promisify(execFile);

interface HopFigures {
  directMs: { p50: number; p99: number };
  serviceMs: { p50: number; p99: number };
  addedMs: { p50: number; p99: number };
}

export interface ServiceHopFigures {
  requests: number;
  /** A new TCP connection per request (busybox httpd). */
  newConnection: HopFigures;
  /** Round trips on a connection kept open (an echo server), as pools, gRPC and Redis clients do. */
  openConnection: HopFigures;
}

const ADDED_P50_GOAL_MS = 0.3;

/**
 * Part 6: what the service hop costs a replica. A client replica and backend replicas on one node,
 * in one namespace; from inside the client's network namespace, requests to the backend's own
 * address and through its service's cluster address (the node's iptables redirect to berth-agent's
 * proxy on the bridge, which connects to the replica on its pod address), alternating: over a new
 * connection each (`GET /`), and as round trips on a connection kept open (a line echoed).
 */
export async function serviceHop(o: {
  stack: BerthStack;
  requests: number;
  log: (s: string) => void;
}): Promise<{ section: Section; figures: ServiceHopFigures }> {
  const { api } = o.stack;
  await api.putDeployment('hop-backend', httpdDeployment({ replicas: 1, app: 'hop-backend' }));
  const echo = httpdDeployment({ replicas: 1, app: 'hop-echo' });
  const echoContainer = echo.spec.template.spec.containers[0] as Record<string, unknown>;
  // busybox nc: a `cat` per connection echoes each line back at once.
  echoContainer.command = ['nc', '-ll', '-p', '9000', '-e', 'cat'];
  echoContainer.ports = [{ name: 'echo', containerPort: 9000 }];
  echoContainer.readinessProbe = { tcpSocket: { port: 9000 }, periodSeconds: 1 };
  await api.putDeployment('hop-echo', echo);
  await api.putDeployment('hop-client', httpdDeployment({ replicas: 1, app: 'hop-client' }));
  const service = async (name: string, port: number, targetPort: number) =>
    (
      await api.call('PUT', `/v1/namespaces/default/services/${name}`, {
        spec: { selector: { app: name }, ports: [{ name: 'main', port, targetPort }] },
      })
    ).spec.clusterIP as string;
  const backendIp = await service('hop-backend', 80, 8080);
  const echoIp = await service('hop-echo', 9000, 9000);
  for (const d of ['hop-backend', 'hop-echo', 'hop-client'])
    await api.waitFor(d, allReady(1), { what: '1 ready' });
  const container = async (deployment: string) => {
    const [c] = await docker.listContainers({
      filters: { label: [o.stack.nodeLabel, `berth.dev/deployment=default/${deployment}`] },
    });
    if (!c) throw new Error(`no container of ${deployment}`);
    return docker.getContainer(c.Id).inspect();
  };
  const addressOf = async (deployment: string) => {
    const ip = Object.values((await container(deployment)).NetworkSettings.Networks)[0]?.IPAddress;
    if (!ip) throw new Error(`${deployment} has no address`);
    return ip;
  };
  const client = await container('hop-client');
  const hop = (mode: 'new' | 'open', direct: string, via: string, n: number) =>
    run(
      'nsenter',
      [
        `--net=/proc/${client.State.Pid}/ns/net`,
        process.execPath,
        join(ROOT, 'bench/lib/hop-client.mjs'),
        mode,
        direct,
        via,
        String(n),
      ],
      { maxBuffer: 64 * 1024 * 1024, timeout: 600_000 },
    );
  const newArgs = [`${await addressOf('hop-backend')}:8080`, `${backendIp}:80`] as const;
  const openArgs = [`${await addressOf('hop-echo')}:9000`, `${echoIp}:9000`] as const;
  // The node routes a service once its map arrived: until then the cluster address answers nothing.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await hop('new', ...newArgs, 1);
      await hop('open', ...openArgs, 1);
      break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`the service addresses never answered: ${String(e)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const figures = async (mode: 'new' | 'open', args: readonly [string, string]): Promise<HopFigures> => {
    const { stdout } = await hop(mode, ...args, o.requests);
    const samples = JSON.parse(stdout) as { direct: number[]; service: number[] };
    const stat = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) });
    const directMs = stat(samples.direct);
    const serviceMs = stat(samples.service);
    return {
      directMs,
      serviceMs,
      addedMs: { p50: serviceMs.p50 - directMs.p50, p99: serviceMs.p99 - directMs.p99 },
    };
  };
  const openConnection = await figures('open', openArgs);
  const newConnection = await figures('new', newArgs);
  o.log(
    `service hop: +${openConnection.addedMs.p50.toFixed(3)} ms at p50 on an open connection, ` +
      `+${newConnection.addedMs.p50.toFixed(3)} ms with a new connection per request`,
  );
  // clear() waits for the node to hold no container at all: the others go first, by hand.
  for (const d of ['hop-client', 'hop-echo']) {
    await api.deleteDeployment(d).catch(() => {});
    await removeContainersWithLabel([o.stack.nodeLabel, `berth.dev/deployment=default/${d}`]);
  }
  await o.stack.clear('hop-backend');
  for (const s of ['hop-backend', 'hop-echo'])
    await api.call('DELETE', `/v1/namespaces/default/services/${s}`).catch(() => {});
  const ms = (v: number) => `${v.toFixed(3)} ms`;
  const row = (what: string, f: HopFigures, goal: boolean): string[][] => [
    [
      `${what}, p50`,
      ms(f.directMs.p50),
      ms(f.serviceMs.p50),
      ms(f.addedMs.p50),
      goal ? `< ${ADDED_P50_GOAL_MS} ms added: ${f.addedMs.p50 < ADDED_P50_GOAL_MS ? 'met' : 'NOT met'}` : '',
    ],
    [`${what}, p99`, ms(f.directMs.p99), ms(f.serviceMs.p99), ms(f.addedMs.p99), ''],
  ];
  return {
    figures: { requests: o.requests, newConnection, openConnection },
    section: {
      title: 'Service hop inside the cluster',
      intro:
        `From inside a replica's network namespace, ${o.requests} requests each to a backend replica's own ` +
        "address and through its service's cluster address (the node's iptables redirect to berth-agent's " +
        'proxy on the namespace bridge, which connects to the replica on its pod address), alternating: round ' +
        'trips of a line on a connection kept open (an echo server), and `GET /` over a new connection each ' +
        '(busybox httpd, which forks a process per connection).',
      columns: ['figure', 'direct to the replica', 'through the service', 'added', 'goal'],
      rows: [...row('open connection', openConnection, true), ...row('new connection', newConnection, false)],
      notes: [
        'A new connection through the service costs two TCP handshakes instead of one, and wakes the ' +
          "agent's event loop several times before the first byte: that is what the new-connection figure adds.",
      ],
      data: { requests: o.requests, newConnection, openConnection },
    },
  };
}
