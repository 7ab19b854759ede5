import { and, asc, eq, sql } from 'drizzle-orm';
import { canonicalJson } from '../../common/canonical-json.ts';
import type { PodTemplate } from '../../common/deployment.ts';
import {
  equalityLabels,
  matchesSelector,
  parseLabelSelector,
  type Requirement,
} from '../../common/label-selector.ts';
import type { ServiceInput, ServicePort, ServiceSpec } from '../../common/service.ts';
import type { Database } from '../../db/database.ts';
import { rowsOf } from '../../db/rows.ts';
import { services } from '../../db/schema/index.ts';
import { pgErrorCode } from '../../db/unavailable.ts';
import { conflict, DomainError, type FieldError, invalid, notFound } from '../errors.ts';
import { ensureNamespace } from '../store/namespaces.ts';

export type ServiceRow = typeof services.$inferSelect;

/** Arbitrary constant: applies that claim hostnames take turns, so two services never win one host. */
const HOSTS_LOCK = 727_274_007;

export function toServiceObject(row: ServiceRow) {
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'Service' as const,
    metadata: {
      name: row.name,
      namespace: row.namespace,
      uid: row.id,
      labels: row.labels,
      resourceVersion: String(row.resourceVersion),
      generation: row.generation,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    },
    spec: row.spec as ServiceSpec,
  };
}
export type ServiceObject = ReturnType<typeof toServiceObject>;

const byName = (namespace: string, name: string) =>
  and(eq(services.namespace, namespace), eq(services.name, name));

export async function getService(db: Database, namespace: string, name: string): Promise<ServiceRow> {
  const [row] = await db.select().from(services).where(byName(namespace, name));
  if (!row) throw notFound(`service "${namespace}/${name}"`);
  return row;
}

export async function listServices(
  db: Database,
  namespace: string,
  labelSelector?: string,
): Promise<ServiceRow[]> {
  let requirements: Requirement[] = [];
  try {
    requirements = labelSelector ? parseLabelSelector(labelSelector) : [];
  } catch (e) {
    throw invalid([{ path: 'labelSelector', message: (e as Error).message }]);
  }
  const equal = equalityLabels(requirements);
  const where = [eq(services.namespace, namespace)];
  if (Object.keys(equal).length) where.push(sql`${services.labels} @> ${JSON.stringify(equal)}::jsonb`);
  const rows = await db
    .select()
    .from(services)
    .where(and(...where))
    .orderBy(asc(services.name));
  return rows.filter((r) => matchesSelector(r.labels, requirements));
}

export interface ApplyServiceResult {
  row: ServiceRow;
  created: boolean;
  changed: boolean;
}

/**
 * Create or replace a service. An identical apply writes nothing (same resourceVersion and
 * generation); a spec change bumps generation; any write bumps resourceVersion. A hostname
 * belongs to one service at a time, across namespaces: claiming one that another service holds
 * is a 409 naming that service. `reservedHost` is the host the control plane was reached by:
 * routing it to a service would cut the API (and every agent) off, so it is refused.
 */
export async function applyService(
  db: Database,
  args: {
    namespace: string;
    name: string;
    input: ServiceInput;
    now: Date;
    createOnly?: boolean;
    reservedHost?: string;
  },
): Promise<ApplyServiceResult> {
  const { namespace, name, input, now } = args;
  const meta = input.metadata;
  const errors: FieldError[] = [];
  if (meta.name !== undefined && meta.name !== name)
    errors.push({ path: 'metadata.name', message: `must match the name in the URL ("${name}")` });
  if (meta.namespace !== undefined && meta.namespace !== namespace)
    errors.push({
      path: 'metadata.namespace',
      message: `must match the namespace in the URL ("${namespace}")`,
    });
  const spec = input.spec;
  const reserved = args.reservedHost?.toLowerCase();
  if (reserved) {
    spec.hosts.forEach((h, i) => {
      if (hostMatches(h, reserved))
        errors.push({
          path: `spec.hosts[${i}]`,
          message: `"${h}" would route the control plane's own host (${reserved}) away from the API`,
        });
    });
  }
  if (errors.length) throw invalid(errors);
  const labels = meta.labels ?? {};

  const attempt = () =>
    db.transaction(async (tx) => {
      const [existing] = await tx.select().from(services).where(byName(namespace, name)).for('update');
      if (existing && args.createOnly) throw conflict(`service "${namespace}/${name}" already exists`);
      if (!existing && meta.resourceVersion !== undefined)
        throw conflict(`service "${namespace}/${name}" does not exist, so resourceVersion cannot match`);
      if (
        existing &&
        meta.resourceVersion !== undefined &&
        meta.resourceVersion !== String(existing.resourceVersion)
      )
        throw conflict(
          `service "${namespace}/${name}" was modified (resourceVersion ${existing.resourceVersion}, you sent ${meta.resourceVersion}); read it again and retry`,
        );
      const specChanged = !existing || canonicalJson(spec) !== canonicalJson(existing.spec);
      const labelsChanged = !existing || canonicalJson(labels) !== canonicalJson(existing.labels);
      if (existing && !specChanged && !labelsChanged)
        return { row: existing, created: false, changed: false };
      if (specChanged) await claimHosts(tx, namespace, name, spec.hosts);
      if (!existing) {
        await ensureNamespace(tx, namespace);
        const [row] = await tx
          .insert(services)
          .values({
            id: crypto.randomUUID(),
            namespace,
            name,
            labels,
            spec,
            hosts: spec.hosts,
            generation: 1,
            resourceVersion: 1,
            createdAt: now,
            updatedAt: now,
          })
          .returning();
        return { row: row!, created: true, changed: true };
      }
      const [row] = await tx
        .update(services)
        .set({
          labels,
          spec,
          hosts: spec.hosts,
          generation: specChanged ? existing.generation + 1 : existing.generation,
          resourceVersion: existing.resourceVersion + 1,
          updatedAt: now,
        })
        .where(eq(services.id, existing.id))
        .returning();
      return { row: row!, created: false, changed: true };
    });
  try {
    return await attempt();
  } catch (e) {
    // Two concurrent creates of one name: the loser retries as an update of the winner's row.
    if (pgErrorCode(e) === '23505') return attempt();
    throw e;
  }
}

/** Refuse hostnames another service holds. Runs under a transaction lock so the check holds until commit. */
async function claimHosts(tx: Database, namespace: string, name: string, hosts: string[]): Promise<void> {
  if (hosts.length === 0) return;
  await tx.execute(sql`select pg_advisory_xact_lock(${HOSTS_LOCK})`);
  const others = await tx
    .select({ namespace: services.namespace, name: services.name, hosts: services.hosts })
    .from(services)
    .where(
      and(
        sql`${services.hosts} ?| array(select jsonb_array_elements_text(${JSON.stringify(hosts)}::jsonb))`,
        sql`not (${services.namespace} = ${namespace} and ${services.name} = ${name})`,
      ),
    );
  if (others.length === 0) return;
  const errors: FieldError[] = [];
  let detail = '';
  hosts.forEach((h, i) => {
    const holder = others.find((o) => o.hosts.includes(h));
    if (!holder) return;
    const message = `host "${h}" is already used by service "${holder.namespace}/${holder.name}"`;
    detail ||= message;
    errors.push({ path: `spec.hosts[${i}]`, message });
  });
  throw new DomainError('CONFLICT', detail, { errors });
}

export async function deleteService(db: Database, namespace: string, name: string): Promise<ServiceRow> {
  const [row] = await db.delete(services).where(byName(namespace, name)).returning();
  if (!row) throw notFound(`service "${namespace}/${name}"`);
  return row;
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
 * The port the ingress sends HTTP to: the one named "http", else the first. A service with
 * several ports (http plus metrics, say) is reached on the one meant for browsers.
 */
export function mainPort(spec: Pick<ServiceSpec, 'ports'>): ServicePort {
  return spec.ports.find((p) => p.name === 'http') ?? spec.ports[0]!;
}

interface EndpointRow {
  id: string;
  deployment_name: string;
  revision: number;
  host_ports: { containerPort: number; hostPort: number }[];
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
function hostPortOf(row: EndpointRow, targetPort: number | string): number | undefined {
  let containerPort: number | undefined;
  if (typeof targetPort === 'number') containerPort = targetPort;
  else {
    for (const c of row.template.spec.containers)
      for (const p of c.ports ?? []) if (p.name === targetPort) containerPort ??= p.containerPort;
  }
  if (containerPort === undefined) return undefined;
  return (row.host_ports ?? []).find((h) => h.containerPort === containerPort)?.hostPort;
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
