import { and, asc, inArray, sql } from 'drizzle-orm';
import type { Assignment } from '../../common/agent-protocol.ts';
import type { Database } from '../../db/database.ts';
import { services } from '../../db/schema/index.ts';

/**
 * The discovery environment: each replica is told, once at its creation, where the services of
 * its namespace are. The controller fixes it when it creates a replica; the agent protocol adds it
 * to every container of the replica's assignment.
 */

export interface DiscoveryService {
  name: string;
  host: string;
  createdAt: Date;
}

/** Services with a routable (non-wildcard) host, by namespace, for the discovery environment. */
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
      createdAt: services.createdAt,
    })
    .from(services)
    .where(and(inArray(services.namespace, namespaces), sql`jsonb_array_length(${services.hosts}) > 0`))
    .orderBy(asc(services.name));
  for (const r of rows) {
    const host = r.hosts.find((h) => !h.startsWith('*.'));
    if (!host) continue;
    const list = out.get(r.namespace) ?? [];
    list.push({ name: r.name, host, createdAt: r.createdAt });
    out.set(r.namespace, list);
  }
  return out;
}

export const discoveryVarPrefix = (service: string) =>
  `BERTH_SERVICE_${service.toUpperCase().replace(/-/g, '_')}`;

/**
 * BERTH_SERVICE_<NAME>_URL/_HOST for one replica. As with Kubernetes' service variables, a
 * replica sees only the services that existed when it was created: a container's environment
 * is part of what the agent compares, so a service created later must not change (and so
 * restart) replicas that are already running. The user's own variables of the same name win.
 */
export function discoveryEnv(
  list: DiscoveryService[] | undefined,
  replicaCreatedAt: Date,
  userNames: ReadonlySet<string>,
): { name: string; value: string }[] {
  const env: { name: string; value: string }[] = [];
  for (const s of list ?? []) {
    if (s.createdAt.getTime() > replicaCreatedAt.getTime()) continue;
    const prefix = discoveryVarPrefix(s.name);
    for (const [name, value] of [
      [`${prefix}_URL`, `http://${s.host}`],
      [`${prefix}_HOST`, s.host],
    ] as const) {
      if (!userNames.has(name)) env.push({ name, value });
    }
  }
  return env;
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
