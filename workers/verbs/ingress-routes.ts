import { asc, sql } from 'drizzle-orm';
import type { MapRoute } from '../../common/agent-protocol.ts';
import { type IngressSpec, matchType } from '../../common/ingress.ts';
import type { PathRule } from '../../common/ingress-routes.ts';
import type { ServiceSpec } from '../../common/service.ts';
import type { Database } from '../../db/database.ts';
import { ingresses, services } from '../../db/schema/index.ts';
import { loadServiceRoutes, mainPort, type ServiceRoute } from './services.ts';

/**
 * The routing table of the ingresses, from the database: every service's own hosts (`/` Prefix to
 * its main port) and every Ingress rule (host and path to a service port by number or name). The
 * control plane's ingress serves requests by it; `loadIngressRoutes` gives the same rules on the
 * wire, for the nodes' service map.
 */

/** Where a matched request goes: a service (and which of its ports), or why nothing can answer. */
export interface RoutedService extends ServiceRoute {
  /** The service port the request goes to; absent: the service's main port. */
  port?: number;
  /** A backend that does not exist (no such service or port): the ingress answers with this. */
  refusal?: { status: 404 | 503; detail: string };
}

export type IngressRoute = PathRule<RoutedService>;

/** A service's own hosts: `/` Prefix to the service itself (its main port). */
export function serviceHostRoutes(routes: readonly ServiceRoute[]): IngressRoute[] {
  return routes.flatMap((route) =>
    route.hosts.map((host) => ({ host, path: '/', pathType: 'Prefix' as const, value: route })),
  );
}

interface StoredIngress {
  namespace: string;
  name: string;
  spec: IngressSpec;
}

/** Each Ingress rule, its backend looked up among `found` (by `namespace/name`). */
export function ingressRuleRoutes(
  stored: readonly StoredIngress[],
  found: ReadonlyMap<string, { namespace: string; name: string; spec: ServiceSpec }>,
): IngressRoute[] {
  const out: IngressRoute[] = [];
  for (const ingress of stored) {
    for (const rule of ingress.spec.rules) {
      if (rule.host === undefined) continue;
      for (const p of rule.http.paths) {
        const { name, port } = p.backend.service;
        const key = `${ingress.namespace}/${name}`;
        const service = found.get(key);
        let value: RoutedService;
        if (!service)
          value = refused(
            ingress.namespace,
            name,
            `service "${key}" (of ingress "${ingress.name}") not found`,
          );
        else {
          const servicePort = service.spec.ports.find((sp) =>
            port.number !== undefined ? sp.port === port.number : sp.name === port.name,
          );
          value = servicePort
            ? { ...service, hosts: [rule.host], port: servicePort.port }
            : refused(
                ingress.namespace,
                name,
                `service "${key}" has no port ${port.number ?? JSON.stringify(port.name)} (ingress "${ingress.name}")`,
              );
        }
        out.push({ host: rule.host, path: p.path, pathType: matchType(p.pathType), value });
      }
    }
  }
  return out;
}

function refused(namespace: string, name: string, detail: string): RoutedService {
  return {
    namespace,
    name,
    hosts: [],
    spec: { selector: {}, ports: [], hosts: [] } as unknown as ServiceSpec,
    refusal: { status: 503, detail },
  };
}

/** Every Ingress's rules, their services read in the same pass. */
export async function loadIngressRuleRoutes(db: Database): Promise<IngressRoute[]> {
  const stored = (
    await db
      .select({ namespace: ingresses.namespace, name: ingresses.name, spec: ingresses.spec })
      .from(ingresses)
      .orderBy(asc(ingresses.namespace), asc(ingresses.name))
  ).map((r) => ({ ...r, spec: r.spec as IngressSpec }));
  if (stored.length === 0) return [];
  const wanted = new Map<string, { namespace: string; name: string }>();
  for (const i of stored)
    for (const rule of i.spec.rules)
      for (const p of rule.http.paths)
        wanted.set(`${i.namespace}/${p.backend.service.name}`, {
          namespace: i.namespace,
          name: p.backend.service.name,
        });
  const rows = await db
    .select({
      namespace: services.namespace,
      name: services.name,
      hosts: services.hosts,
      spec: services.spec,
    })
    .from(services)
    .where(
      sql`(${services.namespace}, ${services.name}) in (select x.namespace, x.name from jsonb_to_recordset(${JSON.stringify([...wanted.values()])}::jsonb) as x(namespace text, name text))`,
    );
  const found = new Map(rows.map((r) => [`${r.namespace}/${r.name}`, { ...r, spec: r.spec as ServiceSpec }]));
  return ingressRuleRoutes(stored, found);
}

/** The whole table: Ingress rules first, so of two equal rules an Ingress's is served. */
export async function loadRouting(db: Database): Promise<IngressRoute[]> {
  const rules = await loadIngressRuleRoutes(db);
  return [...rules, ...serviceHostRoutes(await loadServiceRoutes(db))];
}

/** The table as nodes receive it (common/agent-protocol.ts MapRoute): only backends that exist. */
export function toMapRoutes(routes: readonly IngressRoute[]): MapRoute[] {
  const out: MapRoute[] = [];
  for (const r of routes) {
    if (r.value.refusal) continue;
    out.push({
      host: r.host,
      path: r.path,
      pathType: r.pathType,
      namespace: r.value.namespace,
      service: r.value.name,
      port: r.value.port ?? mainPort(r.value.spec).port,
    });
  }
  return out;
}

/** Every route of the ingresses, for the nodes' service map. */
export async function loadIngressRoutes(db: Database): Promise<MapRoute[]> {
  return toMapRoutes(await loadRouting(db));
}
