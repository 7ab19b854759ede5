import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { deployments, revisions } from '../../db/schema/index.ts';

/**
 * Every stored revision of a namespace's live Deployments in one read (Jobs share the table but
 * have no history to show): what the Kubernetes face shows as ReplicaSets and pod-template-hash
 * labels, without a read per deployment.
 */
export async function listNamespaceRevisions(db: Database, namespace: string) {
  const rows = await db
    .select({ deployment: deployments.name, revision: revisions })
    .from(revisions)
    .innerJoin(deployments, eq(deployments.id, revisions.deploymentId))
    .where(
      and(
        eq(deployments.namespace, namespace),
        eq(deployments.kind, 'Deployment'),
        isNull(deployments.deletedAt),
      ),
    )
    .orderBy(asc(deployments.name), asc(revisions.revision));
  return rows.map(({ deployment, revision: r }) => ({
    deployment,
    revision: r.revision,
    templateHash: r.templateHash,
    template: r.template,
    createdAt: r.createdAt.toISOString(),
  }));
}
export type NamespaceRevision = Awaited<ReturnType<typeof listNamespaceRevisions>>[number];
