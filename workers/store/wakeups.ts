import { sql } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { rowsOf } from '../../db/rows.ts';

/**
 * Wake-ups: how anything other than a deployment's own write asks the controller to look at it
 * again (db/schema/deployment-wakeups.ts). Writers append and never wait; the reconciler
 * consumes them under its row locks.
 */

/** Ask for these deployments to be reconciled. Safe inside any transaction: it locks nothing. */
export async function wakeDeployments(db: Database, ids: Iterable<string>): Promise<void> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return;
  await db.execute(sql`
    insert into deployment_wakeups (deployment_id)
    select id::uuid from jsonb_array_elements_text(${JSON.stringify(unique)}::jsonb) as ids(id)`);
}

/** Room appeared (a node joined or came back, replicas went away): wake every deployment with replicas waiting for a place. */
export async function wakeWaitingDeployments(db: Database): Promise<string[]> {
  const woken = await db.execute(sql`
    insert into deployment_wakeups (deployment_id)
    select distinct deployment_id from replicas where node_id is null and desired = 'running'
    returning deployment_id`);
  return rowsOf<{ deployment_id: string }>(woken).map((r) => r.deployment_id);
}

/**
 * Consume the wake-ups of deployments the caller has just locked, before it reads their state.
 * In READ COMMITTED this statement sees exactly the wake-ups committed before it began, and
 * what each announced was committed with it, so the reads that follow see it. A wake-up
 * committed later is not deleted: the next run (or `wokenAgain`) picks it up.
 */
export async function consumeWakeups(tx: Database, lockedIds: string[]): Promise<void> {
  if (lockedIds.length === 0) return;
  await tx.execute(sql`
    delete from deployment_wakeups
    where deployment_id in (select id::uuid from jsonb_array_elements_text(${JSON.stringify(lockedIds)}::jsonb) as ids(id))`);
}

/**
 * Turn wake-ups into due times (`now`, the controller's clock, as any write that makes a
 * deployment due) for the due batches, which take deployments oldest due first. Deployments a
 * run holds are skipped, not waited for: their wake-ups stay, and that run looks at them again
 * once it commits (`wokenAgain`).
 */
export async function promoteWakeups(db: Database, now: Date): Promise<void> {
  await db.execute(sql`
    with locked as (
      select id from deployments
      where id in (select deployment_id from deployment_wakeups)
      for update skip locked),
    consumed as (
      delete from deployment_wakeups w using locked where w.deployment_id = locked.id
      returning w.deployment_id)
    update deployments d set reconcile_at = least(coalesce(d.reconcile_at, ${now}), ${now})
    where d.id in (select deployment_id from consumed)`);
}

/**
 * After a run commits: which of its deployments were woken while it held them. Those wake-ups'
 * writers tried to reconcile at once, found the rows locked and skipped them.
 */
export async function wokenAgain(db: Database, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.execute(sql`
    select distinct deployment_id from deployment_wakeups
    where deployment_id in (select id::uuid from jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb) as ids(id))`);
  return rowsOf<{ deployment_id: string }>(rows).map((r) => r.deployment_id);
}

/** Wake-ups of deployments deleted meanwhile (no foreign key removes them). */
export async function forgetOrphanWakeups(db: Database): Promise<void> {
  await db.execute(sql`
    delete from deployment_wakeups w
    where not exists (select 1 from deployments d where d.id = w.deployment_id)`);
}
