import { sql } from 'drizzle-orm';
import type { PodTemplate } from '../../common/deployment.ts';
import type { ServiceInput, ServicePort, ServiceSpec } from '../../common/service.ts';
import type { Database } from '../../db/database.ts';
import { rowsOf } from '../../db/rows.ts';
import { services } from '../../db/schema/index.ts';
import { type ServiceRow, serviceKind } from '../kinds/service.ts';
import {
  applyObject,
  deleteObject,
  getObject,
  listObjects,
  type WriteOptions,
  type Written,
} from '../store/objects.ts';

export { type ServiceObject, type ServiceRow, toServiceObject } from '../kinds/service.ts';

export const getService = (db: Database, namespace: string, name: string) =>
  getObject(db, serviceKind, namespace, name);

export const listServices = (db: Database, namespace: string, labelSelector?: string) =>
  listObjects(db, serviceKind, namespace, labelSelector);

export const deleteService = (db: Database, namespace: string, name: string) =>
  deleteObject(db, serviceKind, namespace, name);

/**
 * Create or replace a service. A hostname belongs to one service at a time, across namespaces;
 * no service may take the API's own host names; a deployer claims only what its namespace's
 * policy allows (see kinds/service.ts).
 */
export function applyService(
  db: Database,
  args: { namespace: string; name: string; input: ServiceInput; createOnly?: boolean },
  write: WriteOptions,
): Promise<Written<ServiceRow>> {
  const { input } = args;
  return applyObject(
    db,
    serviceKind,
    {
      ...write,
      namespace: args.namespace,
      name: args.name,
      metadata: input.metadata,
      resourceVersion: input.metadata.resourceVersion,
      ...(args.createOnly ? { createOnly: true } : {}),
    },
    { spec: input.spec, labels: input.metadata.labels ?? {}, annotations: input.metadata.annotations ?? {} },
  );
}

// ---- endpoints ------------------------------------------------------------------------------

export interface Endpoint {
  replica: string;
  deployment: string;
  revision: number;
  node: string;
  /** The node's address: with `port`, reaches the container from outside its node. */
  address: string;
  /** Host port published for the service's main port (see `mainPort`). */
  port: number;
  /** Every service port this replica publishes, when the service has more than one. */
  ports?: { name?: string; port: number; hostPort: number }[];
}

/**
 * The port the ingress sends HTTP to: the TCP one named "http", else the first TCP one. A service with
 * several ports (http plus metrics, say) is reached on the one meant for browsers.
 */
export function mainPort(spec: Pick<ServiceSpec, 'ports'>): ServicePort {
  const tcp = spec.ports.filter((p) => p.protocol === 'TCP');
  return tcp.find((p) => p.name === 'http') ?? tcp[0] ?? spec.ports[0]!;
}

interface EndpointRow {
  id: string;
  deployment_name: string;
  revision: number;
  host_ports: { containerPort: number; hostPort: number; protocol?: 'UDP' }[];
  node: string;
  address: string;
  template: PodTemplate;
}

/**
 * Ready replicas that match a selector, with the host port of each service port. A replica
 * matches through the labels of the template it was created from (its revision), so during a
 * rollout that changes labels the old and new replicas are judged each by their own. Only
 * replicas the controller wants running, that report ready, on Ready nodes count: a replica
 * told to stop drops out in the same transaction that tells it, before its agent stops it.
 */
export async function findEndpoints(
  db: Database,
  target: { namespace: string; spec: Pick<ServiceSpec, 'selector' | 'ports'> },
): Promise<Endpoint[]> {
  // An ExternalName service selects nothing: its name is a CNAME.
  if (target.spec.selector === undefined) return [];
  const result = await db.execute(sql`
    select r.id, r.deployment_name, r.revision, r.host_ports, n.name as node, n.address, v.template
    from replicas r
    join nodes n on n.id = r.node_id
    join revisions v on v.deployment_id = r.deployment_id and v.revision = r.revision
    where r.namespace = ${target.namespace} and r.desired = 'running' and r.ready and n.status = 'Ready'
      and coalesce(v.template->'metadata'->'labels', '{}'::jsonb) @> ${JSON.stringify(target.spec.selector)}::jsonb
    order by r.id`);
  const main = mainPort(target.spec);
  const out: Endpoint[] = [];
  for (const row of rowsOf<EndpointRow>(result)) {
    const port = hostPortOf(row, main.targetPort);
    if (port === undefined) continue;
    const endpoint: Endpoint = {
      replica: row.id,
      deployment: row.deployment_name,
      revision: Number(row.revision),
      node: row.node,
      address: row.address,
      port,
    };
    if (target.spec.ports.length > 1) {
      endpoint.ports = [];
      for (const p of target.spec.ports) {
        const hostPort = hostPortOf(row, p.targetPort);
        if (hostPort !== undefined)
          endpoint.ports.push({ ...(p.name ? { name: p.name } : {}), port: p.port, hostPort });
      }
    }
    out.push(endpoint);
  }
  return out;
}

/** A targetPort (number, or a container port's name in the replica's template) → its published host port. */
export function hostPortOf(
  row: Pick<EndpointRow, 'host_ports' | 'template'>,
  targetPort: number | string,
  protocol: 'TCP' | 'UDP' = 'TCP',
): number | undefined {
  let containerPort: number | undefined;
  if (typeof targetPort === 'number') containerPort = targetPort;
  else {
    // A sidecar's ports too (an init container with restartPolicy Always), as Kubernetes finds them.
    const pod = row.template.spec;
    const sidecars = (pod.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
    for (const c of [...pod.containers, ...sidecars])
      for (const p of c.ports ?? [])
        if (p.name === targetPort && (p.protocol ?? 'TCP') === protocol) containerPort ??= p.containerPort;
  }
  if (containerPort === undefined) return undefined;
  return (row.host_ports ?? []).find(
    (h) => h.containerPort === containerPort && (h.protocol ?? 'TCP') === protocol,
  )?.hostPort;
}

export async function listEndpoints(db: Database, namespace: string, name: string) {
  const row = await getService(db, namespace, name);
  return { service: row, items: await findEndpoints(db, { namespace, spec: row.spec as ServiceSpec }) };
}

// ---- ingress routes -------------------------------------------------------------------------

export interface ServiceRoute {
  namespace: string;
  name: string;
  hosts: string[];
  spec: ServiceSpec;
}

/** Every service that has hostnames: the ingress's routing table. */
export async function loadServiceRoutes(db: Database): Promise<ServiceRoute[]> {
  const rows = await db
    .select({
      namespace: services.namespace,
      name: services.name,
      hosts: services.hosts,
      spec: services.spec,
    })
    .from(services)
    .where(sql`jsonb_array_length(${services.hosts}) > 0`);
  return rows.map((r) => ({ ...r, spec: r.spec as ServiceSpec }));
}

/** `*.example.com` matches exactly one more label (a.example.com, not example.com nor a.b.example.com). */
export function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === pattern.slice(2);
}
