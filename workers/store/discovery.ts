import { and, asc, inArray, sql } from 'drizzle-orm';
import type { Assignment } from '../../common/agent-protocol.ts';
import type { ServicePort, ServiceSpec } from '../../common/service.ts';
import type { Database } from '../../db/database.ts';
import { services } from '../../db/schema/index.ts';

/**
 * The discovery environment: each replica is told, once at its creation, where the services of
 * its namespace are. The controller fixes it when it creates a replica; the agent protocol adds it
 * to every container of the replica's assignment.
 */

export interface DiscoveryService {
  name: string;
  /** Its first routable public host, for BERTH_SERVICE_<NAME>_URL/_HOST. */
  host?: string | undefined;
  /** Its cluster IP and ports, for Kubernetes' variables (none when headless or ExternalName). */
  cluster?: { ip: string; ports: Pick<ServicePort, 'name' | 'port' | 'protocol'>[] } | undefined;
  createdAt: Date;
}

/**
 * The services of these namespaces that give a replica variables: those with a routable
 * (non-wildcard) host, and those with a cluster IP.
 */
export async function loadDiscoveryServices(
  db: Database,
  namespaces: string[],
): Promise<Map<string, DiscoveryService[]>> {
  const out = new Map<string, DiscoveryService[]>();
  if (namespaces.length === 0) return out;
  const rows = await db
    .select({
      namespace: services.namespace,
      name: services.name,
      hosts: services.hosts,
      clusterIp: services.clusterIp,
      spec: services.spec,
      createdAt: services.createdAt,
    })
    .from(services)
    .where(
      and(
        inArray(services.namespace, namespaces),
        sql`(jsonb_array_length(${services.hosts}) > 0 or ${services.clusterIp} is not null)`,
      ),
    )
    .orderBy(asc(services.name));
  for (const r of rows) {
    const host = r.hosts.find((h) => !h.startsWith('*.'));
    const ports = ((r.spec as ServiceSpec).ports ?? []).map((p) => ({
      name: p.name,
      port: p.port,
      protocol: p.protocol,
    }));
    const cluster = r.clusterIp && ports.length ? { ip: r.clusterIp, ports } : undefined;
    if (!host && !cluster) continue;
    const list = out.get(r.namespace) ?? [];
    list.push({ name: r.name, host, cluster, createdAt: r.createdAt });
    out.set(r.namespace, list);
  }
  return out;
}

export const discoveryVarPrefix = (service: string) =>
  `BERTH_SERVICE_${service.toUpperCase().replace(/-/g, '_')}`;

/**
 * BERTH_SERVICE_<NAME>_URL/_HOST for one replica, and (unless the pod sets enableServiceLinks:
 * false) Kubernetes' service variables. As in Kubernetes, a replica sees only the services that
 * existed when it was created: a container's environment is part of what the agent compares, so
 * a service created later must not change (and so restart) replicas that are already running.
 * The user's own variables of the same name win.
 */
export function discoveryEnv(
  list: DiscoveryService[] | undefined,
  replicaCreatedAt: Date,
  userNames: ReadonlySet<string>,
  options: { serviceLinks: boolean } = { serviceLinks: true },
): { name: string; value: string }[] {
  const env: { name: string; value: string }[] = [];
  for (const s of list ?? []) {
    if (s.createdAt.getTime() > replicaCreatedAt.getTime()) continue;
    const vars: [string, string][] = [];
    if (s.host) {
      const prefix = discoveryVarPrefix(s.name);
      vars.push([`${prefix}_URL`, `http://${s.host}`], [`${prefix}_HOST`, s.host]);
    }
    if (s.cluster && options.serviceLinks) vars.push(...serviceLinkVars(s.name, s.cluster));
    for (const [name, value] of vars) if (!userNames.has(name)) env.push({ name, value });
  }
  return env;
}

/** Kubernetes' variable name of a service or port name: upper case, `-` as `_`. */
const envName = (name: string) => name.toUpperCase().replace(/-/g, '_');

/**
 * The variables the kubelet writes for a service with a cluster IP: `<SVC>_SERVICE_HOST`,
 * `<SVC>_SERVICE_PORT` (its first port) and `<SVC>_SERVICE_PORT_<NAME>` per named port, then the
 * Docker-link style ones: `<SVC>_PORT` for the first port and, per port,
 * `<SVC>_PORT_<port>_<PROTO>` with its `_PROTO`, `_PORT` and `_ADDR`.
 */
export function serviceLinkVars(
  service: string,
  cluster: NonNullable<DiscoveryService['cluster']>,
): [string, string][] {
  const prefix = envName(service);
  const first = cluster.ports[0];
  if (!first) return [];
  const out: [string, string][] = [
    [`${prefix}_SERVICE_HOST`, cluster.ip],
    [`${prefix}_SERVICE_PORT`, String(first.port)],
  ];
  for (const p of cluster.ports)
    if (p.name) out.push([`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port)]);
  cluster.ports.forEach((p, i) => {
    const proto = p.protocol.toLowerCase();
    const url = `${proto}://${cluster.ip}:${p.port}`;
    if (i === 0) out.push([`${prefix}_PORT`, url]);
    const portPrefix = `${prefix}_PORT_${p.port}_${p.protocol}`;
    out.push(
      [portPrefix, url],
      [`${portPrefix}_PROTO`, proto],
      [`${portPrefix}_PORT`, String(p.port)],
      [`${portPrefix}_ADDR`, cluster.ip],
    );
  });
  return out;
}

/** An assignment with service variables added to each container that does not set them itself. */
export function withServiceEnv(assignment: Assignment, env: { name: string; value: string }[]): Assignment {
  if (!env.length || assignment.desired !== 'running') return assignment;
  return {
    ...assignment,
    containers: assignment.containers.map((c) => {
      const own = new Set(c.env.map((e) => e.name));
      const extra = env.filter((e) => !own.has(e.name));
      return extra.length ? { ...c, env: [...c.env, ...extra] } : c;
    }),
  };
}
