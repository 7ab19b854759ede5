import { sql } from 'drizzle-orm';
import { rowsOf } from '../../db/rows.ts';
import { type ServiceRow, serviceKind } from '../kinds/service.ts';
import { mutateObject } from '../store/objects.ts';
import type { ControllerDeps } from './deps.ts';

/**
 * Services stored before cluster IPs were assigned get theirs from the controller, a few per tick,
 * through the same write (and the same allocation rules) as an apply: without one, a service
 * written by an older control plane would have no address inside the cluster until someone
 * applied it again. Node ports are not handed out this way: they open every node, which only a
 * write by someone allowed to should do. Cheap when there is nothing to do: one query.
 */
export async function backfillServiceAddresses(deps: ControllerDeps, limit = 20): Promise<number> {
  const missing = rowsOf<{ namespace: string; name: string }>(
    await deps.db.execute(sql`
      select s.namespace, s.name from services s
      where s.cluster_ip is null
        and coalesce(s.spec->>'type', 'ClusterIP') <> 'ExternalName'
        and coalesce(s.spec->>'clusterIP', '') <> 'None'
      order by s.namespace, s.name
      limit ${limit}`),
  );
  let done = 0;
  for (const { namespace, name } of missing) {
    try {
      await mutateObject(
        deps.db,
        serviceKind,
        {
          namespace,
          name,
          now: deps.now(),
          admission: {
            admin: true,
            apiHosts: deps.config.apiHosts,
            serviceAddresses: {
              serviceCidr: deps.config.serviceCidr,
              nodePortRange: deps.config.nodePortRange,
            },
          },
        },
        async (row: ServiceRow) => {
          const state = await serviceKind.stateOf(row);
          // A LoadBalancer stored before node ports existed was its hosts alone: it stays so.
          const hostsOnly =
            state.spec.type === 'LoadBalancer' &&
            state.spec.allocateLoadBalancerNodePorts === undefined &&
            state.spec.ports.every((p) => p.nodePort === undefined);
          return {
            next: hostsOnly
              ? { ...state, spec: { ...state.spec, allocateLoadBalancerNodePorts: false } }
              : state,
          };
        },
      );
      done++;
    } catch (e) {
      // A full range or a race with an apply: said, and tried again at a later tick.
      deps.log.warn('could not assign a service its address', {
        service: `${namespace}/${name}`,
        error: String(e),
      });
    }
  }
  return done;
}
