import { eq, sql } from 'drizzle-orm';
import type { MapEndpoint, MapService, ServiceMap } from '../../common/agent-protocol.ts';
import type { PodTemplate } from '../../common/deployment.ts';
import { serviceTrafficFrom } from '../../common/policy.ts';
import { affinitySeconds, HEADLESS, type ServiceSpec, serviceType } from '../../common/service.ts';
import type { Database } from '../../db/database.ts';
import { rowsOf } from '../../db/rows.ts';
import { namespacePolicies, networkVersions, services } from '../../db/schema/index.ts';
import { loadIngressRoutes } from './ingress-routes.ts';
import { hostPortOf } from './services.ts';

/**
 * The service map every node routes by (common/agent-protocol.ts ServiceMap): each service with
 * its ready endpoints, who may reach it, and the hosts the ingress serves. It is the same for
 * every node, so a process builds it once per version (network_versions, bumped by database
 * triggers) and hands the same object to every agent's poll.
 */

export const CLUSTER_DOMAIN = 'cluster.local';

export async function readNetworkVersion(db: Database): Promise<number> {
  const [row] = await db
    .select({ version: networkVersions.version })
    .from(networkVersions)
    .where(eq(networkVersions.id, 1));
  return row?.version ?? 0;
}

interface EndpointRow {
  id: string;
  namespace: string;
  host_ports: { containerPort: number; hostPort: number; protocol?: 'UDP' }[];
  node: string;
  address: string;
  template: PodTemplate;
}

/** Builds the map as the database holds it now (call after reading the version it answers for). */
export async function buildServiceMap(db: Database, options: { endpointCidr: string }): Promise<ServiceMap> {
  const serviceRows = await db
    .select({ namespace: services.namespace, name: services.name, spec: services.spec })
    .from(services)
    .orderBy(services.namespace, services.name);
  const endpointRows = rowsOf<EndpointRow>(
    await db.execute(sql`
      select r.id, r.namespace, r.host_ports, n.name as node, n.address, v.template
      from replicas r
      join nodes n on n.id = r.node_id
      join revisions v on v.deployment_id = r.deployment_id and v.revision = r.revision
      where r.desired = 'running' and r.ready and n.status = 'Ready'
      order by r.id`),
  );
  const policies = await db
    .select({ namespace: namespacePolicies.namespace, spec: namespacePolicies.spec })
    .from(namespacePolicies);
  const reachable = new Map<string, string[]>();
  for (const p of policies) {
    const from = serviceTrafficFrom(p.spec, p.namespace);
    if (from) reachable.set(p.namespace, from);
  }
  const byNamespace = new Map<string, EndpointRow[]>();
  for (const row of endpointRows) {
    const list = byNamespace.get(row.namespace) ?? [];
    list.push(row);
    byNamespace.set(row.namespace, list);
  }
  const mapped = serviceRows.map((row) =>
    mapService(row.namespace, row.name, row.spec as ServiceSpec, byNamespace.get(row.namespace) ?? []),
  );
  for (const s of mapped) {
    const from = reachable.get(s.namespace);
    if (from) s.reachableFrom = from;
  }
  const routes = await loadIngressRoutes(db);
  return {
    clusterDomain: CLUSTER_DOMAIN,
    endpointCidr: options.endpointCidr,
    services: mapped,
    ...(routes.length ? { routes } : {}),
  };
}

/** One service as nodes route it; pure, for tests. */
export function mapService(
  namespace: string,
  name: string,
  spec: ServiceSpec,
  candidates: readonly EndpointRow[],
): MapService {
  const type = serviceType(spec);
  const ports = spec.ports.map((p) => ({
    ...(p.name ? { name: p.name } : {}),
    protocol: p.protocol,
    port: p.port,
    ...(p.nodePort ? { nodePort: p.nodePort } : {}),
  }));
  const service: MapService = { namespace, name, type, ports, endpoints: [] };
  if (type === 'ExternalName') {
    if (spec.externalName) service.externalName = spec.externalName;
    return service;
  }
  if (spec.clusterIP === HEADLESS) service.headless = true;
  else if (spec.clusterIP) service.clusterIP = spec.clusterIP;
  const affinity = affinitySeconds(spec);
  if (affinity) service.affinitySeconds = affinity;
  const selector = spec.selector;
  if (!selector || Object.keys(selector).length === 0) return service;
  for (const row of candidates) {
    const labels = row.template.metadata?.labels ?? {};
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
    const hostPorts = spec.ports.map((p) => hostPortOf(row, p.targetPort, p.protocol) ?? null);
    // A replica that publishes none of the service's ports cannot be reached through it.
    if (hostPorts.every((h) => h === null)) continue;
    const endpoint: MapEndpoint = { replica: row.id, node: row.node, address: row.address, hostPorts };
    service.endpoints.push(endpoint);
  }
  return service;
}

/**
 * The map per version, built once per process however many agents poll: concurrent polls for
 * the same version share one build. On Workers (`shareBuilds: false`) only finished maps are
 * shared, since an isolate's requests may not wait on each other's I/O.
 */
export class ServiceMapCache {
  private done: { version: number; map: ServiceMap } | undefined;
  private building: { version: number; map: Promise<ServiceMap> } | undefined;

  constructor(private readonly shareBuilds = true) {}

  async get(version: number, build: () => Promise<ServiceMap>): Promise<ServiceMap> {
    if (this.done && this.done.version >= version) return this.done.map;
    if (this.shareBuilds && this.building && this.building.version >= version) return this.building.map;
    const entry = { version, map: build() };
    if (this.shareBuilds) this.building = entry;
    try {
      const map = await entry.map;
      if (!this.done || this.done.version < version) this.done = { version, map };
      return map;
    } finally {
      if (this.building === entry) this.building = undefined;
    }
  }
}
