import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { zodFieldErrors } from '../../common/manifest.ts';
import { Labels, Name } from '../../common/names.ts';
import type { FieldError } from '../../common/problem.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { DomainError } from '../errors.ts';
import { mediaType } from '../http/body.ts';
import { reconcileAfter } from '../http/reconcile-after.ts';
import { wakeAgents } from '../http/wake-agents.ts';
import {
  DEFAULT_NAMESPACE,
  deleteNamespace,
  getNamespace,
  type NamespaceInput,
  type NamespaceRow,
  writeNamespace,
} from '../verbs/namespaces.ts';
import { type KubeObject, kubeNamespace } from './objects.ts';
import { applyPatch, patchTypeOf } from './patches.ts';
import { findResource, type KubeResource } from './resources.ts';
import { forbiddenStatus, KubeStatusError, notFoundStatus } from './status.ts';
import { stampVersions } from './versions.ts';
import {
  alreadyExistsStatus,
  answering,
  dryRunOf,
  guard,
  invalidStatus,
  readDeleteOptions,
  readObject,
  readPatch,
  unsupportedPatch,
  userName,
} from './writes.ts';

/**
 * Namespaces written through the Kubernetes face: `kubectl create namespace`, `apply -f ns.yaml`
 * (client- and server-side), `label`/`annotate`, `delete namespace`. Namespaces are cluster-scoped,
 * so every write is an admin's (a deployer gets kubectl's Forbidden); a namespace's only fields
 * Berth keeps are its labels and annotations. Deleting one deletes every object in it through
 * their own delete verbs (verbs/namespaces.ts); it shows Terminating until the last has gone.
 */

type Ctx = Context<AppEnv>;

const NAMESPACES = findResource('', 'v1', 'namespaces') as KubeResource;

/** The label Kubernetes sets on every namespace: shown, never stored. */
const NAME_LABEL = 'kubernetes.io/metadata.name';

const NamespaceBody = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('Namespace').optional(),
  metadata: z
    .object({
      name: Name.optional(),
      labels: Labels.optional(),
      annotations: z.record(z.string().max(253), z.string().max(65536)).optional(),
    })
    .default({}),
  spec: z
    .object({
      finalizers: z
        .array(z.literal('kubernetes', { error: 'only the "kubernetes" finalizer is supported by Berth' }))
        .optional(),
    })
    .optional(),
});

export function kubeNamespaceRoutes(app: Hono<AppEnv>, deps: AppDeps) {
  app.post(
    '/api/v1/namespaces',
    answering(async (c) => {
      const dryRun = dryRunOf(c);
      const body = await readObject(c);
      mayWrite(c, 'create');
      const input = inputOf(body, undefined);
      const { object, created } = await write(input.name, input, { createOnly: true, dryRun });
      return c.json(object, created ? 201 : 200);
    }),
  );
  app.put(
    '/api/v1/namespaces/:name',
    answering(async (c) => {
      const name = c.req.param('name') ?? '';
      const dryRun = dryRunOf(c);
      const body = await readObject(c);
      mayWrite(c, 'update', name);
      const current = await currentOf(name);
      if (!current) throw notFoundStatus(NAMESPACES, name);
      const sent = (body.metadata as { resourceVersion?: unknown } | undefined)?.resourceVersion;
      if (sent !== undefined && sent !== current.metadata.resourceVersion) throw conflict(name);
      const { object } = await write(name, inputOf(body, name), { createOnly: false, dryRun });
      return c.json(object);
    }),
  );
  app.patch(
    '/api/v1/namespaces/:name',
    answering(async (c) => {
      const name = c.req.param('name') ?? '';
      const dryRun = dryRunOf(c);
      const type = patchTypeOf(mediaType(c));
      if (!type) throw unsupportedPatch(mediaType(c));
      const body = await readPatch(c, type);
      mayWrite(c, 'patch', name);
      const current = await currentOf(name);
      if (!current) {
        // Server-side apply creates what is not there yet.
        if (type !== 'apply') throw notFoundStatus(NAMESPACES, name);
        const { object } = await write(name, inputOf(body, name), { createOnly: true, dryRun });
        return c.json(object, 201);
      }
      const patched = guard(NAMESPACES, name, () => applyPatch(type, 'Namespace', current, body));
      const { object } = await write(name, inputOf(patched, name), { createOnly: false, dryRun });
      return c.json(object);
    }),
  );
  app.delete('/api/v1/namespaces/:name', async (c) => {
    const name = c.req.param('name') ?? '';
    const options = await readDeleteOptions(c);
    const dryRun = dryRunOf(c) || (options.dryRun ?? false);
    mayWrite(c, 'delete', name);
    if (name === DEFAULT_NAMESPACE)
      throw new KubeStatusError(
        'FORBIDDEN',
        `namespaces "${name}" is forbidden: this namespace may not be deleted`,
        {
          name,
          group: '',
          kind: 'namespaces',
        },
      );
    const current = await currentOf(name);
    if (!current) throw notFoundStatus(NAMESPACES, name);
    const pre = options.preconditions;
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion)
      throw conflict(name);
    if (dryRun) return c.json(terminating(current, deps.now()));
    const { row, stopping, wakeNodes } = await deleteNamespace(deps.db, name, deps.now());
    if (stopping.length) reconcileAfter(c, deps, stopping);
    wakeAgents(c, deps, wakeNodes);
    // Kubernetes answers the namespace, Terminating, while its objects go; it went at once when it was empty.
    if (row) return c.json(await shown(row));
    return c.json({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, group: '', kind: 'namespaces', uid: current.metadata.uid },
    });
  });

  async function shown(row: NamespaceRow): Promise<KubeObject> {
    const object = kubeNamespace({
      ...row,
      createdAt: row.createdAt.toISOString(),
      terminatingAt: row.terminatingAt?.toISOString() ?? null,
    });
    await stampVersions(deps.db, 'namespaces', [object]);
    return object;
  }

  async function currentOf(name: string): Promise<KubeObject | undefined> {
    try {
      return await shown(await getNamespace(deps.db, name));
    } catch (e) {
      if (e instanceof DomainError && e.code === 'NOT_FOUND') return undefined;
      throw e;
    }
  }

  async function write(
    name: string,
    input: NamespaceInput,
    options: { createOnly: boolean; dryRun: boolean },
  ): Promise<{ object: KubeObject; created: boolean }> {
    try {
      const { row, created } = await writeNamespace(deps.db, name, input, options);
      return { object: await shown(row), created };
    } catch (e) {
      if (e instanceof DomainError && e.code === 'CONFLICT' && options.createOnly)
        throw alreadyExistsStatus(
          NAMESPACES,
          name,
          /being deleted/.test(e.detail) ? 'object is being deleted: ' : '',
        );
      throw e;
    }
  }
}

/** Namespaces are cluster-scoped: writing one is an admin's, as every cluster-wide write in Berth. */
function mayWrite(c: Ctx, verb: string, name?: string) {
  const p = c.get('principal');
  if (p.kind !== 'user' || p.role !== 'admin')
    throw forbiddenStatus(NAMESPACES, userName(p), verb, name ? { name } : {});
}

function conflict(name: string) {
  return new KubeStatusError(
    'CONFLICT',
    `Operation cannot be fulfilled on namespaces "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: '', kind: 'namespaces' },
  );
}

/** A Namespace sent (or patched) as what Berth keeps of it; `name` is the URL's, when there is one. */
function inputOf(body: unknown, name: string | undefined): NamespaceInput & { name: string } {
  const parsed = NamespaceBody.safeParse(body);
  const errors: FieldError[] = parsed.success ? [] : zodFieldErrors(parsed.error, [], body);
  const metadata = parsed.success ? parsed.data.metadata : {};
  const named = metadata.name ?? name;
  if (!named && errors.length === 0)
    errors.push({ path: 'metadata.name', message: 'Required value: name is required' });
  if (name !== undefined && metadata.name !== undefined && metadata.name !== name)
    throw new KubeStatusError(
      'BAD_REQUEST',
      `the name of the object (${metadata.name}) does not match the name on the URL (${name})`,
    );
  if (errors.length) throw invalidStatus(NAMESPACES, named ?? '', errors);
  const { [NAME_LABEL]: _shown, ...labels } = metadata.labels ?? {};
  return { name: named as string, labels, annotations: metadata.annotations ?? {} };
}

/** What a dry-run delete answers: the namespace as it would be while its objects go. */
function terminating(current: KubeObject, now: Date): KubeObject {
  return {
    ...current,
    metadata: { ...current.metadata, deletionTimestamp: now.toISOString() },
    status: { phase: 'Terminating' },
  };
}
