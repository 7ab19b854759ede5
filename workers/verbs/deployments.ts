import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import { canonicalJson } from '../../common/canonical-json.ts';
import { DeploymentInput, type DeploymentSpec } from '../../common/deployment.ts';
import {
  equalityLabels,
  matchesSelector,
  parseLabelSelector,
  type Requirement,
} from '../../common/label-selector.ts';
import type { Database } from '../../db/database.ts';
import { type DeploymentStatus, deployments, revisions } from '../../db/schema/index.ts';
import { pgErrorCode } from '../../db/unavailable.ts';
import { conflict, DomainError, invalid, notFound, validate } from '../errors.ts';
import { recordEvents } from '../store/events.ts';
import { ensureNamespace } from '../store/namespaces.ts';
import { applyMergePatch } from './merge-patch.ts';

type DeploymentRow = typeof deployments.$inferSelect;

const EMPTY_STATUS: DeploymentStatus = {
  observedGeneration: 0,
  replicas: 0,
  updatedReplicas: 0,
  readyReplicas: 0,
  availableReplicas: 0,
  unavailableReplicas: 0,
  revision: null,
  conditions: [],
};

export function toDeploymentObject(row: DeploymentRow) {
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'Deployment' as const,
    metadata: {
      name: row.name,
      namespace: row.namespace,
      uid: row.id,
      labels: row.labels,
      ...(Object.keys(row.annotations).length ? { annotations: row.annotations } : {}),
      resourceVersion: String(row.resourceVersion),
      generation: row.generation,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    },
    spec: row.spec,
    status: row.status ?? EMPTY_STATUS,
  };
}
export type DeploymentObject = ReturnType<typeof toDeploymentObject>;

function liveRow(namespace: string, name: string) {
  return and(eq(deployments.namespace, namespace), eq(deployments.name, name), isNull(deployments.deletedAt));
}

export async function getDeployment(db: Database, namespace: string, name: string): Promise<DeploymentRow> {
  const [row] = await db.select().from(deployments).where(liveRow(namespace, name));
  if (!row) throw notFound(`deployment "${namespace}/${name}"`);
  return row;
}

export async function listDeployments(db: Database, namespace: string, labelSelector?: string) {
  let requirements: Requirement[] = [];
  try {
    requirements = labelSelector ? parseLabelSelector(labelSelector) : [];
  } catch (e) {
    throw invalid([{ path: 'labelSelector', message: (e as Error).message }]);
  }
  const equal = equalityLabels(requirements);
  const where = [eq(deployments.namespace, namespace), isNull(deployments.deletedAt)];
  if (Object.keys(equal).length) where.push(sql`${deployments.labels} @> ${JSON.stringify(equal)}::jsonb`);
  const rows = await db
    .select()
    .from(deployments)
    .where(and(...where))
    .orderBy(asc(deployments.name));
  return rows.filter((r) => matchesSelector(r.labels, requirements));
}

export interface ApplyResult {
  row: DeploymentRow;
  created: boolean;
  changed: boolean;
}

/**
 * Create or replace a deployment's spec and labels. An identical spec writes nothing (same
 * generation, same resourceVersion); a changed spec bumps generation; any write bumps
 * resourceVersion and marks the deployment for the controller.
 */
export async function applyDeployment(
  db: Database,
  args: { namespace: string; name: string; input: DeploymentInput; now: Date; createOnly?: boolean },
): Promise<ApplyResult> {
  const { namespace, name, input, now } = args;
  const meta = input.metadata;
  const pathErrors = [];
  if (meta.name !== undefined && meta.name !== name)
    pathErrors.push({ path: 'metadata.name', message: `must match the name in the URL ("${name}")` });
  if (meta.namespace !== undefined && meta.namespace !== namespace)
    pathErrors.push({
      path: 'metadata.namespace',
      message: `must match the namespace in the URL ("${namespace}")`,
    });
  if (pathErrors.length) throw invalid(pathErrors);

  const attempt = () =>
    db.transaction(async (tx) => {
      const [existing] = await tx.select().from(deployments).where(liveRow(namespace, name)).for('update');
      if (!existing) {
        if (meta.resourceVersion !== undefined)
          throw conflict(`deployment "${namespace}/${name}" does not exist, so resourceVersion cannot match`);
        await ensureNamespace(tx, namespace);
        const [row] = await tx
          .insert(deployments)
          .values({
            id: crypto.randomUUID(),
            namespace,
            name,
            labels: meta.labels ?? {},
            annotations: meta.annotations ?? {},
            spec: input.spec,
            generation: 1,
            resourceVersion: 1,
            createdAt: now,
            updatedAt: now,
            reconcileAt: now,
            progressAt: now,
          })
          .returning();
        return { row: row!, created: true, changed: true };
      }
      if (args.createOnly) throw conflict(`deployment "${namespace}/${name}" already exists`);
      return updateRow(tx, existing, {
        spec: input.spec,
        labels: meta.labels ?? {},
        annotations: meta.annotations ?? {},
        resourceVersion: meta.resourceVersion,
        now,
      });
    });
  try {
    return await attempt();
  } catch (e) {
    // Two concurrent creates of one name: the loser retries as an update of the winner's row.
    if (pgErrorCode(e) === '23505') return attempt();
    throw e;
  }
}

async function updateRow(
  tx: Database,
  existing: DeploymentRow,
  next: {
    spec: DeploymentSpec;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    resourceVersion: string | undefined;
    now: Date;
  },
): Promise<ApplyResult> {
  if (next.resourceVersion !== undefined && next.resourceVersion !== String(existing.resourceVersion)) {
    throw conflict(
      `deployment "${existing.namespace}/${existing.name}" was modified (resourceVersion ${existing.resourceVersion}, you sent ${next.resourceVersion}); read it again and retry`,
    );
  }
  const specChanged = canonicalJson(next.spec) !== canonicalJson(existing.spec);
  const metaChanged =
    canonicalJson(next.labels) !== canonicalJson(existing.labels) ||
    canonicalJson(next.annotations) !== canonicalJson(existing.annotations);
  if (!specChanged && !metaChanged) return { row: existing, created: false, changed: false };
  const templateChanged = canonicalJson(next.spec.template) !== canonicalJson(existing.spec.template);
  const [row] = await tx
    .update(deployments)
    .set({
      spec: next.spec,
      labels: next.labels,
      annotations: next.annotations,
      generation: specChanged ? existing.generation + 1 : existing.generation,
      resourceVersion: existing.resourceVersion + 1,
      updatedAt: next.now,
      ...(specChanged ? { reconcileAt: next.now } : {}),
      // A new template starts a new rollout: its progress deadline counts from now.
      ...(templateChanged || (existing.spec.paused && !next.spec.paused) ? { progressAt: next.now } : {}),
    })
    .where(eq(deployments.id, existing.id))
    .returning();
  return { row: row!, created: false, changed: true };
}

/** Read-modify-write of one deployment's spec under a row lock (scale, pause, rollback, patch). */
export async function mutateDeployment(
  db: Database,
  namespace: string,
  name: string,
  now: Date,
  change: (
    current: DeploymentRow,
    tx: Database,
  ) => Promise<{
    spec: unknown;
    labels?: unknown;
    annotations?: unknown;
    resourceVersion?: string;
  }>,
): Promise<ApplyResult> {
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(deployments).where(liveRow(namespace, name)).for('update');
    if (!existing) throw notFound(`deployment "${namespace}/${name}"`);
    const next = await change(existing, tx);
    const input = validate(DeploymentInput, {
      metadata: {
        labels: next.labels ?? existing.labels,
        annotations: next.annotations ?? existing.annotations,
      },
      spec: next.spec,
    });
    return updateRow(tx, existing, {
      spec: input.spec,
      labels: input.metadata.labels ?? {},
      annotations: input.metadata.annotations ?? {},
      resourceVersion: next.resourceVersion,
      now,
    });
  });
}

export function scaleDeployment(db: Database, namespace: string, name: string, replicas: number, now: Date) {
  return mutateDeployment(db, namespace, name, now, async (row) => ({ spec: { ...row.spec, replicas } }));
}

export function setPaused(db: Database, namespace: string, name: string, paused: boolean, now: Date) {
  return mutateDeployment(db, namespace, name, now, async (row) => ({ spec: { ...row.spec, paused } }));
}

/** JSON merge patch (RFC 7386) of `{metadata: {labels, annotations, resourceVersion}, spec}`. */
export function patchDeployment(db: Database, namespace: string, name: string, patch: unknown, now: Date) {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) {
    throw invalid([{ path: '', message: 'a merge patch must be a JSON object' }]);
  }
  const allowed = new Set(['apiVersion', 'kind', 'metadata', 'spec']);
  const unknown = Object.keys(patch).filter((k) => !allowed.has(k));
  if (unknown.length) throw invalid(unknown.map((k) => ({ path: k, message: 'cannot be patched' })));
  return mutateDeployment(db, namespace, name, now, async (row) => {
    const current = {
      metadata: { labels: row.labels, annotations: row.annotations },
      spec: row.spec,
    };
    const merged = applyMergePatch(current, patch) as {
      metadata?: { labels?: unknown; annotations?: unknown; resourceVersion?: unknown };
      spec?: unknown;
    };
    const meta = merged.metadata ?? {};
    const extra = Object.keys(meta).filter((k) => !['labels', 'annotations', 'resourceVersion'].includes(k));
    if (extra.length)
      throw invalid(extra.map((k) => ({ path: `metadata.${k}`, message: 'cannot be patched' })));
    if (meta.resourceVersion !== undefined && typeof meta.resourceVersion !== 'string')
      throw invalid([{ path: 'metadata.resourceVersion', message: 'must be a string' }]);
    return {
      spec: merged.spec,
      labels: meta.labels ?? {},
      annotations: meta.annotations ?? {},
      resourceVersion: meta.resourceVersion as string | undefined,
    };
  });
}

export async function deleteDeployment(db: Database, namespace: string, name: string, now: Date) {
  const [row] = await db
    .update(deployments)
    .set({
      deletedAt: now,
      reconcileAt: now,
      updatedAt: now,
      resourceVersion: sql`${deployments.resourceVersion} + 1`,
    })
    .where(liveRow(namespace, name))
    .returning();
  if (!row) throw notFound(`deployment "${namespace}/${name}"`);
  await recordEvents(
    db,
    [
      {
        namespace,
        objectKind: 'deployment',
        objectName: name,
        type: 'Normal',
        reason: 'Deleted',
        message: 'deployment deleted; its replicas are being stopped',
      },
    ],
    now,
  );
  return row;
}

export async function listRevisions(db: Database, namespace: string, name: string) {
  const deployment = await getDeployment(db, namespace, name);
  const rows = await db
    .select()
    .from(revisions)
    .where(eq(revisions.deploymentId, deployment.id))
    .orderBy(desc(revisions.revision));
  const current = deployment.status?.revision ?? null;
  return rows.map((r) => ({
    revision: r.revision,
    current: r.revision === current,
    templateHash: r.templateHash,
    template: r.template,
    createdAt: r.createdAt.toISOString(),
    availableAt: r.availableAt?.toISOString() ?? null,
  }));
}

/**
 * Put an earlier revision's template back. Default: the revision before the current one.
 * The controller then sees the template of an existing revision and rolls to it.
 */
export async function rollbackDeployment(
  db: Database,
  namespace: string,
  name: string,
  toRevision: number | undefined,
  now: Date,
) {
  let target = 0;
  const result = await mutateDeployment(db, namespace, name, now, async (row, tx) => {
    const history = await tx
      .select()
      .from(revisions)
      .where(eq(revisions.deploymentId, row.id))
      .orderBy(desc(revisions.revision));
    const current = row.status?.revision ?? history[0]?.revision;
    const chosen =
      toRevision !== undefined
        ? history.find((r) => r.revision === toRevision)
        : history.find((r) => current !== undefined && r.revision < current);
    if (!chosen) {
      if (toRevision !== undefined)
        throw invalid([{ path: 'toRevision', message: `revision ${toRevision} not found in the history` }]);
      throw new DomainError(
        'CONFLICT',
        `deployment "${namespace}/${name}" has no earlier revision to roll back to`,
      );
    }
    target = chosen.revision;
    return { spec: { ...row.spec, template: chosen.template } };
  });
  await recordEvents(
    db,
    [
      {
        namespace,
        objectKind: 'deployment',
        objectName: name,
        type: 'Normal',
        reason: 'RollbackRequested',
        message: `rolling back to revision ${target}`,
      },
    ],
    now,
  );
  return { ...result, toRevision: target };
}
