import { and, sql } from 'drizzle-orm';
import { type IngressSpec, matchType } from '../../common/ingress.ts';
import type { Database } from '../../db/database.ts';
import { ingresses, services } from '../../db/schema/index.ts';

/**
 * Who holds a host name, across services and ingresses. A host belongs to one namespace at a
 * time: within it, a service's hosts and any number of ingresses share it by path; another
 * namespace's claim is a 409. Callers hold the hosts lock (kinds/service.ts HOSTS_LOCK) so the
 * answer stands until they commit.
 */

export interface HostHolder {
  kind: 'service' | 'ingress';
  namespace: string;
  name: string;
  hosts: string[];
  /** An ingress's rules (for the paths it routes). */
  spec?: IngressSpec;
}

const overlapping = (column: typeof services.hosts | typeof ingresses.hosts, hosts: string[]) =>
  sql`${column} ?| array(select jsonb_array_elements_text(${JSON.stringify(hosts)}::jsonb))`;

/** Ingresses that route any of `hosts`, but for `except` (the one being written). */
export async function ingressesHolding(
  tx: Database,
  hosts: string[],
  except?: { namespace: string; name: string },
): Promise<HostHolder[]> {
  if (hosts.length === 0) return [];
  const rows = await tx
    .select({
      namespace: ingresses.namespace,
      name: ingresses.name,
      hosts: ingresses.hosts,
      spec: ingresses.spec,
    })
    .from(ingresses)
    .where(
      and(
        overlapping(ingresses.hosts, hosts),
        except
          ? sql`not (${ingresses.namespace} = ${except.namespace} and ${ingresses.name} = ${except.name})`
          : undefined,
      ),
    );
  return rows.map((r) => ({ kind: 'ingress', ...r, spec: r.spec as IngressSpec }));
}

/** Services whose own hosts include any of `hosts`. */
export async function servicesHolding(tx: Database, hosts: string[]): Promise<HostHolder[]> {
  if (hosts.length === 0) return [];
  const rows = await tx
    .select({ namespace: services.namespace, name: services.name, hosts: services.hosts })
    .from(services)
    .where(overlapping(services.hosts, hosts));
  return rows.map((r) => ({ kind: 'service', ...r }));
}

/** Whether an ingress routes `/` (Prefix) on `host`: what a service's own host routes. */
export function routesRoot(spec: IngressSpec, host: string): boolean {
  return spec.rules.some(
    (r) => r.host === host && r.http.paths.some((p) => p.path === '/' && matchType(p.pathType) === 'Prefix'),
  );
}

/**
 * A service's hosts against the ingresses: a host an ingress of another namespace routes, or one
 * an ingress of the same namespace routes at `/` (the service would take the same requests),
 * each → the message of its 409.
 */
export async function ingressConflictsOfService(
  tx: Database,
  namespace: string,
  hosts: string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const holder of await ingressesHolding(tx, hosts)) {
    for (const host of hosts) {
      if (out.has(host) || !holder.hosts.includes(host)) continue;
      if (holder.namespace !== namespace)
        out.set(host, `host "${host}" is already used by an ingress in another namespace`);
      else if (holder.spec && routesRoot(holder.spec, host))
        out.set(host, `host "${host}" path "/" is already routed by ingress "${namespace}/${holder.name}"`);
    }
  }
  return out;
}
