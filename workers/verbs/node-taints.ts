import { eq } from 'drizzle-orm';
import { type Taint, taintText } from '../../common/scheduling.ts';
import type { NodeTaintsChange } from '../../common/wire/node.ts';
import type { Database } from '../../db/database.ts';
import { nodes } from '../../db/schema/index.ts';
import { invalid, notFound } from '../errors.ts';
import { recordEvents } from '../store/events.ts';
import { wakeWaitingDeployments } from '../store/wakeups.ts';
import { getNode } from './nodes.ts';

/**
 * A node's taints after a change, as `kubectl taint` edits them: an added taint replaces the one
 * with its key and effect; a removal without an effect removes every taint of the key. Removing
 * a taint the node does not have is an error at its path (kubectl's "not found"), so a typo is
 * not taken for success. Pure: tested through the route.
 */
export function changedTaints(
  current: readonly Taint[],
  change: NodeTaintsChange,
): { taints: Taint[] } | { errors: { path: string; message: string }[] } {
  let taints = [...current];
  const errors: { path: string; message: string }[] = [];
  (change.remove ?? []).forEach((r, i) => {
    const kept = taints.filter((t) => t.key !== r.key || (r.effect !== undefined && t.effect !== r.effect));
    if (kept.length === taints.length)
      errors.push({
        path: `remove[${i}]`,
        message: `taint "${r.key}${r.effect ? `:${r.effect}` : ''}" not found`,
      });
    taints = kept;
  });
  for (const t of change.add ?? []) {
    const taint: Taint = { key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect };
    const at = taints.findIndex((x) => x.key === t.key && x.effect === t.effect);
    if (at >= 0) taints[at] = taint;
    else taints.push(taint);
  }
  return errors.length ? { errors } : { taints };
}

/**
 * Change a node's taints. Taints only steer placement: replicas already there stay (Berth has no
 * NoExecute). A removed taint may let waiting replicas in: their deployments look again.
 */
export async function changeNodeTaints(db: Database, name: string, change: NodeTaintsChange, now: Date) {
  const outcome = await db.transaction(async (tx) => {
    const [row] = await tx
      .select({ taints: nodes.taints })
      .from(nodes)
      .where(eq(nodes.name, name))
      .for('update');
    if (!row) throw notFound(`node "${name}"`);
    const next = changedTaints(row.taints, change);
    if ('errors' in next) throw invalid(next.errors);
    await tx.update(nodes).set({ taints: next.taints }).where(eq(nodes.name, name));
    return { before: row.taints, after: next.taints };
  });
  const gone = outcome.before.filter(
    (t) => !outcome.after.some((a) => a.key === t.key && a.effect === t.effect && a.value === t.value),
  );
  const added = outcome.after.filter(
    (t) => !outcome.before.some((b) => b.key === t.key && b.effect === t.effect && b.value === t.value),
  );
  if (gone.length || added.length) {
    const said = [
      added.length ? `added ${added.map(taintText).join(', ')}` : '',
      gone.length ? `removed ${gone.map(taintText).join(', ')}` : '',
    ].filter(Boolean);
    await recordEvents(
      db,
      [
        {
          namespace: '',
          objectKind: 'node',
          objectName: name,
          type: 'Normal',
          reason: 'Tainted',
          message: `taints ${said.join('; ')}`,
        },
      ],
      now,
    );
  }
  const woken = gone.length ? await wakeWaitingDeployments(db) : [];
  return { node: await getNode(db, name), woken };
}
