import { sql } from 'drizzle-orm';
import { rowsOf } from '../../db/rows.ts';
import { type ServiceRow, serviceKind } from '../kinds/service.ts';
import { mutateObject } from '../store/objects.ts';
import type { ControllerDeps } from './deps.ts';

/**
 * Services stored before cluster IPs and node ports were assigned get theirs from the controller,
 * a few per tick, through the same write (and the same allocation rules) as an apply: without
 * one, a service written by an older control plane would have no address inside the cluster
 * until someone applied it again. Cheap when there is nothing to do: one indexed query.
 */
export async function backfillServiceAddresses(deps: ControllerDeps, limit = 20): Promise<number> {
  const missing = rowsOf<{ namespace: string; name: string }>(
    await deps.db.execute(sql`
      select s.namespace, s.name from services s
      where (s.cluster_ip is null
          and coalesce(s.spec->>'type', 'ClusterIP') <> 'ExternalName'
          and coalesce(s.spec->>'clusterIP', '') <> 'None')
        or (s.spec->>'type' in ('NodePort', 'LoadBalancer')
          and exists (select 1 from jsonb_array_elements(s.spec->'ports') p where p->'nodePort' is null))
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
        async (row: ServiceRow) => ({ next: await serviceKind.stateOf(row) }),
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
