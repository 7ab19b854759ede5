import { sql } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { rowsOf } from '../../db/rows.ts';
import { type ClaimRequest, type ClaimView, claimKey } from './claim-placement.ts';

/**
 * The claims placement reads and binds, in its transaction: read under their row locks (after
 * the placement lock), so a claim deleted or bound by another control-plane copy is seen as it is,
 * and bound with a versioned write (only while unbound), so a claim binds to one node, once.
 */

/** The claims the requests mount, locked; undefined when no request mounts any. */
export async function lockClaims(
  tx: Database,
  requests: readonly ClaimRequest[],
): Promise<Map<string, ClaimView> | undefined> {
  const wanted = new Map<string, { namespace: string; name: string }>();
  for (const r of requests)
    for (const name of r.claims ?? []) {
      const namespace = r.namespace ?? r.group.slice(0, r.group.indexOf('/'));
      wanted.set(claimKey(namespace, name), { namespace, name });
    }
  if (wanted.size === 0) return undefined;
  const rows = await tx.execute(sql`
    select c.id, c.namespace, c.name, c.node_name as "nodeName", c.deleting_at is not null as terminating,
      c.access_modes @> '["ReadWriteOncePod"]'::jsonb as "oncePod"
    from persistent_volume_claims c
    join jsonb_to_recordset(${JSON.stringify([...wanted.values()])}::jsonb) as w(namespace text, name text)
      on c.namespace = w.namespace and c.name = w.name
    order by c.id
    for update of c`);
  const claims = new Map<string, ClaimView>();
  for (const r of rowsOf<Omit<ClaimView, 'held'>>(rows))
    claims.set(claimKey(r.namespace, r.name), { ...r, held: r.oncePod ? await heldByReplica(tx, r) : false });
  return claims;
}

/** Whether a replica placed on a node mounts the claim (ReadWriteOncePod: then no other may). */
async function heldByReplica(tx: Database, claim: { namespace: string; name: string }): Promise<boolean> {
  const rows = await tx.execute(sql`
    select 1 from replicas r
    join revisions v on v.deployment_id = r.deployment_id and v.revision = r.revision
    where r.namespace = ${claim.namespace} and r.node_id is not null
      and v.template @> ${JSON.stringify({ spec: { volumes: [{ persistentVolumeClaim: { claimName: claim.name } }] } })}::jsonb
    limit 1`);
  return rowsOf(rows).length > 0;
}

/** Bind claims to the nodes their first replicas were placed on (claim id → node name). */
export async function bindClaims(tx: Database, bound: ReadonlyMap<string, string>, now: Date): Promise<void> {
  if (bound.size === 0) return;
  const rows = [...bound].map(([id, node]) => ({ id, node }));
  await tx.execute(sql`
    update persistent_volume_claims c
    set node_name = v.node, bound_at = ${now}, updated_at = ${now}, resource_version = c.resource_version + 1
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id uuid, node text)
    where c.id = v.id and c.node_name is null`);
}
