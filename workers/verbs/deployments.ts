import { desc, eq, sql } from 'drizzle-orm';
import { DeploymentInput } from '../../common/deployment.ts';
import type { Database } from '../../db/database.ts';
import { deployments, revisions } from '../../db/schema/index.ts';
import { conflict, invalid, notFound, validate } from '../errors.ts';
import { type DeploymentRow, deploymentKind } from '../kinds/deployment.ts';
import { recordEvents } from '../store/events.ts';
import {
  applyObject,
  getObject,
  listObjects,
  mutateObject,
  type WriteOptions,
  type Written,
  whereName,
} from '../store/objects.ts';
import { applyMergePatch } from './merge-patch.ts';

export { type DeploymentObject, type DeploymentRow, toDeploymentObject } from '../kinds/deployment.ts';
export type ApplyResult = Written<DeploymentRow>;

export const getDeployment = (db: Database, namespace: string, name: string) =>
  getObject(db, deploymentKind, namespace, name);

export const listDeployments = (db: Database, namespace: string, labelSelector?: string) =>
  listObjects(db, deploymentKind, namespace, labelSelector);

/**
 * Create or replace a deployment's spec and metadata. An identical spec writes nothing (same
 * generation, same resourceVersion); a changed spec bumps generation and makes the deployment
 * due for the controller.
 */
export function applyDeployment(
  db: Database,
  args: { namespace: string; name: string; input: DeploymentInput; createOnly?: boolean },
  write: WriteOptions,
): Promise<ApplyResult> {
  const meta = args.input.metadata;
  return applyObject(
    db,
    deploymentKind,
    {
      ...write,
      namespace: args.namespace,
      name: args.name,
      metadata: meta,
      resourceVersion: meta.resourceVersion,
      ...(args.createOnly ? { createOnly: true } : {}),
    },
    { spec: args.input.spec, labels: meta.labels ?? {}, annotations: meta.annotations ?? {} },
  );
}

/**
 * Read-modify-write of one deployment under its row lock (scale, pause, rollback, patch): the
 * result is validated like any other write.
 */
export function mutateDeployment(
  db: Database,
  target: { namespace: string; name: string } & WriteOptions,
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
  return mutateObject(db, deploymentKind, target, async (current, tx) => {
    const next = await change(current, tx);
    const input = validate(DeploymentInput, {
      metadata: {
        labels: next.labels ?? current.labels,
        annotations: next.annotations ?? current.annotations,
      },
      spec: next.spec,
    });
    return {
      next: {
        spec: input.spec,
        labels: input.metadata.labels ?? {},
        annotations: input.metadata.annotations ?? {},
      },
      ...(next.resourceVersion !== undefined ? { resourceVersion: next.resourceVersion } : {}),
    };
  });
}

export function scaleDeployment(
  db: Database,
  namespace: string,
  name: string,
  replicas: number,
  write: WriteOptions,
) {
  return mutateDeployment(db, { namespace, name, ...write }, async (row) => ({
    spec: { ...row.spec, replicas },
  }));
}

export function setPaused(
  db: Database,
  namespace: string,
  name: string,
  paused: boolean,
  write: WriteOptions,
) {
  return mutateDeployment(db, { namespace, name, ...write }, async (row) => ({
    spec: { ...row.spec, paused },
  }));
}

/** JSON merge patch (RFC 7386) of `{metadata: {labels, annotations, resourceVersion}, spec}`. */
export function patchDeployment(
  db: Database,
  namespace: string,
  name: string,
  patch: unknown,
  write: WriteOptions,
) {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) {
    throw invalid([{ path: '', message: 'a merge patch must be a JSON object' }]);
  }
  const allowed = new Set(['apiVersion', 'kind', 'metadata', 'spec']);
  const unknown = Object.keys(patch).filter((k) => !allowed.has(k));
  if (unknown.length) throw invalid(unknown.map((k) => ({ path: k, message: 'cannot be patched' })));
  return mutateDeployment(db, { namespace, name, ...write }, async (row) => {
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
    .where(whereName(deploymentKind, namespace, name))
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
  write: WriteOptions,
) {
  let target = 0;
  const result = await mutateDeployment(db, { namespace, name, ...write }, async (row, tx) => {
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
      throw conflict(`deployment "${namespace}/${name}" has no earlier revision to roll back to`);
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
    write.now,
  );
  return { ...result, toRevision: target };
}
