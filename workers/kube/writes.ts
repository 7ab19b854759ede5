import type { Context, Hono } from 'hono';
import { canonicalJson } from '../../common/canonical-json.ts';
import { ManifestSyntaxError, normalizeManifests, parseManifestText } from '../../common/manifest.ts';
import { manifestFieldErrors } from '../../common/manifest-issues.ts';
import type { FieldError } from '../../common/problem.ts';
import type { Node } from '../../common/wire/node.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { can } from '../auth/authorize.ts';
import type { Principal } from '../auth/principal.ts';
import { DomainError } from '../errors.ts';
import { mediaType, readBodyBytes, readBodyText, unstorableStrings } from '../http/body.ts';
import { reconcileAfter } from '../http/reconcile-after.ts';
import { wakeAgents } from '../http/wake-agents.ts';
import { addWarningHeaders } from '../http/warning-header.ts';
import { writeOptions } from '../routes/params.ts';
import { applyManifests } from '../verbs/apply.ts';
import { NamespaceTerminating } from '../verbs/namespaces.ts';
import { getNode, setUnschedulable } from '../verbs/nodes.ts';
import { ApplyConflict, applyFields, type ManagedFieldsEntry, updateFields } from './field-ownership.ts';
import { type FieldWriter, fieldWriter, forceOf } from './field-writer.ts';
import type { KubeObject } from './objects.ts';
import { kubeNode } from './objects.ts';
import { openApiDocuments, openApiGroupVersion } from './openapi.ts';
import {
  applyPatch,
  type PatchType,
  patchNamesResourceVersion,
  patchTypeOf,
  toManifest,
  withoutImpliedSelector,
} from './patches.ts';
import { decodeKubeProtobuf, PROTOBUF_MEDIA_TYPE, ProtobufError, ProtobufKindError } from './protobuf.ts';
import { findResource, groupVersion, type KubeResource, qualifiedName } from './resources.ts';
import { scaleOf, scaleReplicas } from './scale.ts';
import { forbiddenStatus, KubeStatusError, notFoundStatus, statusObject } from './status.ts';
import { PatchError } from './strategic-merge.ts';
import { berthResourceVersion, stampVersions } from './versions.ts';
import { type Current, WRITABLE, type WritableKind } from './write-kinds.ts';

/**
 * Writes through the Kubernetes face: create (POST), replace (PUT), patch (four types), delete,
 * `?dryRun=All`, and the scale subresource, for the kinds in write-kinds.ts; node cordon. Every
 * write of an object becomes one document of `POST /v1/apply`'s verb, converted by the same
 * code (common/manifest-kubernetes.ts), so it meets exactly the rules `/v1` does.
 */

/** How many times a patch is read and applied again when another write came in between. */
const PATCH_ATTEMPTS = 5;

type Ctx = Context<AppEnv>;

export function kubeWriteRoutes(app: Hono<AppEnv>, deps: AppDeps) {
  const target = (c: Ctx) => {
    const p = c.req.param() as Record<string, string | undefined>;
    const resource = findResource(p.group ?? '', p.version ?? '', p.plural ?? '');
    const kind = resource && WRITABLE[resource.plural];
    return { resource, kind };
  };

  for (const base of ['/api/:version', '/apis/:group/:version']) {
    app.post(
      `${base}/namespaces/:ns/:plural`,
      answering(async (c) => {
        const { resource, kind } = target(c);
        if (!resource || !kind) return methodNotAllowed(c);
        return create(c, resource, kind, param(c, 'ns'));
      }),
    );
    app.put(
      `${base}/namespaces/:ns/:plural/:name`,
      answering(async (c) => {
        const { resource, kind } = target(c);
        if (!resource || !kind) return methodNotAllowed(c);
        return replace(c, resource, kind, param(c, 'ns'), param(c, 'name'));
      }),
    );
    app.patch(
      `${base}/namespaces/:ns/:plural/:name`,
      answering(async (c) => {
        const { resource, kind } = target(c);
        if (!resource || !kind) return methodNotAllowed(c);
        return patch(c, resource, kind, param(c, 'ns'), param(c, 'name'));
      }),
    );
    app.delete(
      `${base}/namespaces/:ns/:plural/:name`,
      answering(async (c) => {
        const { resource, kind } = target(c);
        if (!resource || !kind) return methodNotAllowed(c);
        return remove(c, resource, kind, param(c, 'ns'), param(c, 'name'));
      }),
    );
  }
  const scalePath = '/apis/apps/v1/namespaces/:ns/deployments/:name/scale';
  app.get(scalePath, (c) => scale(c, 'get'));
  app.put(
    scalePath,
    answering((c) => scale(c, 'put')),
  );
  app.patch(
    scalePath,
    answering((c) => scale(c, 'patch')),
  );
  app.patch('/api/v1/nodes/:name', (c) => patchNode(c));

  async function create(c: Ctx, resource: KubeResource, kind: WritableKind, ns: string) {
    const dryRun = dryRunOf(c);
    const body = await readObject(c);
    const name = nameOf(body);
    if (!name) {
      // Berth names objects only as written (the apply converter says so for generateName too).
      const generated = (body.metadata as { generateName?: unknown } | undefined)?.generateName !== undefined;
      throw invalidStatus(resource, '', [
        generated
          ? {
              path: 'metadata.generateName',
              message: 'generateName is not supported by Berth (set metadata.name)',
            }
          : { path: 'metadata.name', message: 'Required value: name is required' },
      ]);
    }
    mayWrite(c, resource, kind, 'create', ns);
    const writer = fieldWriter(c, resource, deps.now());
    const { object, created } = await write(c, resource, kind, ns, name, body, {
      createOnly: true,
      dryRun,
      writer,
    });
    return c.json(object, created ? 201 : 200);
  }

  async function replace(c: Ctx, resource: KubeResource, kind: WritableKind, ns: string, name: string) {
    const dryRun = dryRunOf(c);
    const body = await readObject(c);
    mayWrite(c, resource, kind, 'update', ns, name);
    const writer = fieldWriter(c, resource, deps.now());
    // Kubernetes does not create a Deployment (or any of these kinds) on PUT. A body without a
    // resourceVersion is written over the version its field ownership was worked out from, so
    // another write in between makes it start over, as a patch does.
    const { object } = await patchWrite(
      c,
      resource,
      kind,
      ns,
      name,
      dryRun,
      (current) => ({ object: withVersionOf(body, current.object) }),
      'merge',
      body,
      writer,
    );
    return c.json(object, 200);
  }

  async function patch(c: Ctx, resource: KubeResource, kind: WritableKind, ns: string, name: string) {
    const dryRun = dryRunOf(c);
    const type = patchTypeOf(mediaType(c));
    if (!type) throw unsupportedPatch(mediaType(c));
    const body = await readPatch(c, type);
    mayWrite(c, resource, kind, 'patch', ns, name);
    const writer = fieldWriter(c, resource, deps.now(), type === 'apply');
    const force = forceOf(c, type === 'apply');
    const { object, created } = await patchWrite(
      c,
      resource,
      kind,
      ns,
      name,
      dryRun,
      (current) =>
        type === 'apply'
          ? applyFields({
              kind: resource.kind,
              live: current.patchable ?? current.object,
              managedFields: current.object.metadata.managedFields,
              config: body as Record<string, unknown>,
              writer,
              force,
            })
          : { object: applyPatch(type, resource.kind, current.patchable ?? current.object, body) },
      type,
      body,
      writer,
    );
    return c.json(object, created ? 201 : 200);
  }

  /** The object as a write finds it, with the face's resourceVersion, as a GET shows it. */
  async function currentOf(resource: KubeResource, kind: WritableKind, ns: string, name: string) {
    const found = await kind.current(deps.db, ns, name);
    if (found)
      await stampVersions(
        deps.db,
        resource.plural,
        found.patchable ? [found.object, found.patchable] : [found.object],
      );
    return found;
  }

  /**
   * Read, patch, write with the read's resourceVersion as the precondition; another write in
   * between is a conflict, and the patch is applied again to the newer object. A precondition
   * the patch names itself is the caller's: its conflict is answered. The field ownership written
   * is worked out from the same read (an apply's, or else the writer's Update), so it is never
   * written over a version it was not computed from.
   */
  async function patchWrite(
    c: Ctx,
    resource: KubeResource,
    kind: WritableKind,
    ns: string,
    name: string,
    dryRun: boolean,
    change: (current: Current) => { object: unknown; managedFields?: ManagedFieldsEntry[] },
    type: PatchType,
    body: unknown,
    writer: FieldWriter,
  ): Promise<{ object: KubeObject; created: boolean }> {
    const named = patchNamesResourceVersion(type, body);
    for (let attempt = 1; ; attempt++) {
      const current = await currentOf(resource, kind, ns, name);
      if (!current) {
        // Server-side apply creates what is not there yet.
        if (type !== 'apply') throw notFoundStatus(resource, name);
        const applied = guard(resource, name, () =>
          applyFields({
            kind: resource.kind,
            live: undefined,
            managedFields: [],
            config: body as Record<string, unknown>,
            writer,
            force: false,
          }),
        );
        try {
          return await write(c, resource, kind, ns, name, applied.object, {
            createOnly: true,
            dryRun,
            writer,
            managedFields: applied.managedFields,
          });
        } catch (e) {
          // Created by another write in between: apply to that one instead.
          if (!(e instanceof KubeStatusError && (e as Conflict).alreadyExists) || attempt >= PATCH_ATTEMPTS)
            throw e;
          continue;
        }
      }
      const patched = guard(resource, name, () => change(current));
      try {
        return await write(c, resource, kind, ns, name, patched.object, {
          dryRun,
          current,
          writer,
          ...(patched.managedFields ? { managedFields: patched.managedFields } : {}),
        });
      } catch (e) {
        const conflict =
          e instanceof KubeStatusError && e.code === 'CONFLICT' && !(e as Conflict).alreadyExists;
        if (!conflict || named || attempt >= PATCH_ATTEMPTS) throw e;
      }
    }
  }

  async function write(
    c: Ctx,
    resource: KubeResource,
    kind: WritableKind,
    ns: string,
    name: string,
    body: unknown,
    options: {
      createOnly?: boolean;
      dryRun: boolean;
      current?: Current;
      writer: FieldWriter;
      /** An apply's ownership; otherwise the writer's Update is worked out from the change. */
      managedFields?: ManagedFieldsEntry[];
    },
  ): Promise<{ object: KubeObject; created: boolean }> {
    const { current } = options;
    const implied = current?.impliedSelector
      ? (current.object.spec as { selector?: { matchLabels: unknown } }).selector
      : undefined;
    const { doc, resourceVersion } = guard(resource, name, () => toManifest(body));
    checkIdentity(resource, ns, name, doc);
    // Judged before a Secret's kept values are filled in: both sides then hold the same stand-ins.
    const managedFields =
      options.managedFields ??
      updateFields({
        kind: resource.kind,
        before: current && toManifest(current.patchable ?? current.object).doc,
        after: doc,
        managedFields: sentManagedFields(doc, current) ?? current?.object.metadata.managedFields ?? [],
        writer: options.writer,
      });
    await kind.restore?.(deps.db, deps.config.secretKey, ns, name, doc);
    const refused = unstorableStrings(doc);
    if (refused.length) throw invalidStatus(resource, name, refused);
    const { objects, issues } = normalizeManifests([doc], { namespace: ns });
    if (issues.length) throw invalidStatus(resource, name, manifestFieldErrors([doc], issues));
    const [object] = objects;
    if (!object || 'clusterScoped' in object)
      throw invalidStatus(resource, name, [{ path: 'kind', message: 'is not written by Berth' }]);
    // The caller's resourceVersion is the face's (the cluster-wide clock): the write is checked
    // against the `/v1` version the object had then, and an object changed since is a conflict.
    if (resourceVersion !== undefined) {
      const berth = await berthResourceVersion(deps.db, resource.plural, ns, name, resourceVersion);
      if (berth === undefined) throw conflictStatus(resource, name);
      object.resourceVersion = berth;
    }
    if (object.kind === 'Deployment') object.spec = withoutImpliedSelector(object.spec, implied);
    let result: Awaited<ReturnType<typeof applyManifests>>;
    try {
      result = await applyManifests(deps.db, {
        objects: [object],
        defaultNamespace: ns,
        principal: c.get('principal'),
        secretKey: deps.config.secretKey,
        write: {
          ...writeOptions(c, deps, options.dryRun),
          ...(options.createOnly ? { createOnly: true } : {}),
          managedFields: managedFields as unknown as Record<string, unknown>[],
        },
      });
    } catch (e) {
      throw kubeError(e, resource, name, options.createOnly ?? false);
    }
    if (result.changedDeployments.length) reconcileAfter(c, deps, result.changedDeployments);
    if (!options.dryRun) wakeAgents(c, deps, result.wakeNodes);
    const created = result.items[0]?.action === 'created';
    const written = await kind.fromRow(deps.db, result.rows[0]);
    await stampVersions(deps.db, resource.plural, [written]);
    // Berth's warnings are about the pod template: said when one is written anew, not again on
    // every label, annotation or scale of the same template.
    const template = (o: KubeObject | undefined) =>
      JSON.stringify((o?.spec as { template?: unknown })?.template);
    if (!current || template(current.object) !== template(written))
      addWarningHeaders(
        c,
        result.warnings.map((w) => w.message),
      );
    return { object: written, created };
  }

  async function remove(c: Ctx, resource: KubeResource, kind: WritableKind, ns: string, name: string) {
    const options = await readDeleteOptions(c);
    const dryRun = dryRunOf(c) || (options.dryRun ?? false);
    mayWrite(c, resource, kind, 'delete', ns, name);
    const current = await currentOf(resource, kind, ns, name);
    if (!current) throw notFoundStatus(resource, name);
    const pre = options.preconditions;
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== current.object.metadata.resourceVersion)
      throw conflictStatus(resource, name);
    if (pre?.uid !== undefined && pre.uid !== current.object.metadata.uid)
      throw new KubeStatusError(
        'CONFLICT',
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.object.metadata.uid}`,
        { name, group: resource.group, kind: resource.plural },
      );
    if (!dryRun) {
      const stopping = await kind.delete(deps.db, ns, name, deps.now()).catch((e: unknown) => {
        if (e instanceof DomainError && e.code === 'NOT_FOUND') throw notFoundStatus(resource, name);
        throw e;
      });
      if (stopping.length) reconcileAfter(c, deps, stopping);
    }
    return c.json({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, group: resource.group, kind: resource.plural, uid: current.object.metadata.uid },
    });
  }

  async function scale(c: Ctx, verb: 'get' | 'put' | 'patch') {
    const ns = param(c, 'ns') ?? '';
    const name = param(c, 'name') ?? '';
    const resource = findResource('apps', 'v1', 'deployments') as KubeResource;
    const kind = WRITABLE.deployments as WritableKind;
    const principal = c.get('principal');
    if (verb === 'get') {
      if (!can(principal, 'read', kind.authz, ns))
        throw forbiddenStatus(resource, userName(principal), 'get', { name, namespace: ns });
      const current = await currentOf(resource, kind, ns, name);
      if (!current) throw notFoundStatus(resource, name);
      return c.json(scaleOf(current.object));
    }
    const dryRun = dryRunOf(c);
    let type: PatchType | undefined;
    let body: unknown;
    if (verb === 'put') body = await readObject(c);
    else {
      type = patchTypeOf(mediaType(c));
      if (!type || type === 'apply') throw unsupportedPatch(mediaType(c));
      body = await readPatch(c, type);
    }
    mayWrite(c, resource, kind, verb === 'put' ? 'update' : 'patch', ns, name);
    const writer = fieldWriter(c, resource, deps.now(), false, 'scale');
    if (verb === 'patch') forceOf(c, false);
    const { object } = await patchWrite(
      c,
      resource,
      kind,
      ns,
      name,
      dryRun,
      (current) => {
        const before = scaleOf(current.object);
        const after = type ? applyPatch(type, 'Scale', before, body) : body;
        const { replicas, resourceVersion } = scaleReplicas(after, name);
        const next = structuredClone(current.object);
        (next.spec as { replicas?: number }).replicas = replicas;
        next.metadata.resourceVersion = resourceVersion ?? current.object.metadata.resourceVersion;
        return { object: next };
      },
      type ?? 'merge',
      verb === 'put' ? { metadata: { resourceVersion: nameResourceVersion(body) } } : body,
      writer,
    );
    return c.json(scaleOf(object));
  }

  /** `kubectl cordon|uncordon`: a patch of a Node whose only change is `spec.unschedulable`. */
  async function patchNode(c: Ctx) {
    const name = param(c, 'name');
    const resource = findResource('', 'v1', 'nodes') as KubeResource;
    const principal = c.get('principal');
    const dryRun = dryRunOf(c);
    const type = patchTypeOf(mediaType(c));
    if (!type || type === 'apply') throw unsupportedPatch(mediaType(c));
    const body = await readPatch(c, type);
    // Cordoning is an admin's, as `POST /v1/nodes/{name}/cordon`.
    if (principal.kind !== 'user' || principal.role !== 'admin')
      throw forbiddenStatus(resource, userName(principal), 'patch', { name });
    const node = await getNode(deps.db, name).catch((e: unknown) => {
      if (e instanceof DomainError && e.code === 'NOT_FOUND') throw notFoundStatus(resource, name);
      throw e;
    });
    const current = kubeNode(node as Node);
    const patched = guard(resource, name, () => applyPatch(type, 'Node', current, body)) as KubeObject;
    const { unschedulable: wanted = false, ...restSpec } = (patched.spec ?? {}) as Record<string, unknown>;
    const { unschedulable: _had, ...restCurrent } = current.spec as Record<string, unknown>;
    const changed: FieldError[] = [];
    if (typeof wanted !== 'boolean')
      changed.push({ path: 'spec.unschedulable', message: 'must be true or false' });
    if (canonicalJson(restSpec) !== canonicalJson(restCurrent))
      changed.push({ path: 'spec', message: 'only spec.unschedulable can be changed on a Berth node' });
    if (canonicalJson(patched.metadata) !== canonicalJson(current.metadata))
      changed.push({
        path: 'metadata',
        message: "a Berth node's metadata is its agent's: it cannot be patched",
      });
    if (changed.length) throw invalidStatus(resource, name, changed);
    // Unchanged (or a dry run): nothing to write, and no Cordoned/Uncordoned event to record.
    const was = (current.spec as { unschedulable?: boolean }).unschedulable === true;
    if (dryRun || wanted === was) return c.json(patched);
    const { node: after, woken } = await setUnschedulable(deps.db, name, wanted as boolean, deps.now());
    if (woken.length) reconcileAfter(c, deps, woken);
    return c.json(kubeNode(after as Node));
  }
}

/**
 * The OpenAPI v3 documents (openapi.ts), cached as Kubernetes caches them: an ETag of the
 * content's hash, and a URL naming the current hash is immutable (kubectl asks again only when
 * the root lists a new one); an old hash is redirected to the current URL.
 */
export function kubeOpenApiRoutes(app: Hono<AppEnv>) {
  app.get('/openapi/v3', async (c) => {
    const { root, rootHash } = await openApiDocuments();
    return cached(c, root, rootHash);
  });
  app.get('/openapi/v3/*', async (c) => {
    const doc = await openApiGroupVersion(c.req.path.slice('/openapi/v3/'.length));
    if (!doc) throw new KubeStatusError('NOT_FOUND', 'the server could not find the requested resource');
    const asked = c.req.query('hash');
    if (asked !== undefined && asked !== doc.hash) return c.redirect(`${c.req.path}?hash=${doc.hash}`, 301);
    if (asked !== undefined) {
      c.header('cache-control', 'public, immutable');
      c.header('expires', new Date(Date.now() + 365 * 86_400_000).toUTCString());
      c.header('vary', 'Accept');
    }
    return cached(c, doc.body, doc.hash);
  });
}

/** The body with its ETag, or 304 when the client holds it already. */
function cached(c: Ctx, body: string, hash: string): Response {
  const etag = `"${hash}"`;
  c.header('etag', etag);
  if (c.req.header('if-none-match') === etag) return c.body(null, 304);
  return c.body(body, 200, { 'content-type': 'application/json' });
}

/**
 * Answers an AlreadyExists here (a 409 whose reason, unlike Conflict's, is not the error code's);
 * every other error goes on to the face's error handler.
 */
export function answering(handler: (c: Ctx) => Promise<Response>) {
  return async (c: Ctx) => {
    try {
      return await handler(c);
    } catch (e) {
      if (!(e instanceof KubeStatusError && (e as Conflict).alreadyExists)) throw e;
      return c.json({ ...statusObject('CONFLICT', e.message, e.details), reason: 'AlreadyExists' }, 409);
    }
  };
}

/** A Status answered here: kinds of refusal the face's shared Status helpers do not word. */
function methodNotAllowed(c: Ctx) {
  return c.json(
    {
      ...statusObject('BAD_REQUEST', 'the server does not allow this method on the requested resource'),
      reason: 'MethodNotAllowed',
      code: 405,
    },
    405,
  );
}

const param = (c: Ctx, key: string) => c.req.param(key) ?? '';

export const userName = (p: Principal) => (p.kind === 'user' ? p.name : `node:${p.nodeName}`);

function mayWrite(
  c: Ctx,
  r: KubeResource,
  kind: WritableKind,
  verb: string,
  namespace: string,
  name?: string,
) {
  const p = c.get('principal');
  if (!can(p, 'write', kind.authz, namespace))
    throw forbiddenStatus(r, userName(p), verb, { name, namespace });
}

/** `?dryRun=All` (the only value Kubernetes has); anything else is a 400 as there. */
export function dryRunOf(c: Ctx): boolean {
  const values = c.req.queries('dryRun') ?? [];
  for (const v of values)
    if (v !== 'All')
      throw new KubeStatusError(
        'BAD_REQUEST',
        `unsupported dry run value "${v.slice(0, 40)}": only "All" is`,
      );
  return values.length > 0;
}

async function readText(c: Ctx): Promise<string> {
  try {
    return await readBodyText(c);
  } catch (e) {
    if (e instanceof DomainError) throw new KubeStatusError(e.code, e.detail);
    throw e;
  }
}

/**
 * A create's or replace's body: one JSON (or YAML) object, or Kubernetes' protobuf, which
 * kubectl's typed clients send (`kubectl create configmap|deployment|...`), read into the object
 * the JSON would have been. CBOR and the rest are refused before they are read.
 */
export async function readObject(c: Ctx): Promise<Record<string, unknown>> {
  const type = mediaType(c);
  if (type === PROTOBUF_MEDIA_TYPE) return readProtobuf(c);
  if (type && type !== 'application/json' && type !== 'application/yaml')
    throw new KubeStatusError(
      'UNSUPPORTED_MEDIA_TYPE',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, ${PROTOBUF_MEDIA_TYPE} (got ${type.slice(0, 80)})`,
    );
  const text = await readText(c);
  const value = parseBody(text, type === 'application/yaml' ? 'yaml' : 'json');
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new KubeStatusError('BAD_REQUEST', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

async function readProtobuf(c: Ctx): Promise<Record<string, unknown>> {
  let bytes: Uint8Array;
  try {
    bytes = await readBodyBytes(c);
  } catch (e) {
    if (e instanceof DomainError) throw new KubeStatusError(e.code, e.detail);
    throw e;
  }
  if (bytes.length === 0) throw new KubeStatusError('BAD_REQUEST', 'the request body is empty');
  try {
    return decodeKubeProtobuf(bytes);
  } catch (e) {
    if (e instanceof ProtobufKindError) throw new KubeStatusError('UNSUPPORTED_MEDIA_TYPE', e.message);
    if (e instanceof ProtobufError)
      throw new KubeStatusError('BAD_REQUEST', `the protobuf body could not be read: ${e.message}`);
    throw e;
  }
}

export async function readPatch(c: Ctx, type: PatchType): Promise<unknown> {
  return parseBody(await readText(c), type === 'apply' ? 'yaml' : 'json');
}

function parseBody(text: string, format: 'json' | 'yaml'): unknown {
  if (text.trim() === '') throw new KubeStatusError('BAD_REQUEST', 'the request body is empty');
  if (format === 'json') {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new KubeStatusError(
        'BAD_REQUEST',
        `the body of the request was in an unknown format: ${(e as Error).message}`,
      );
    }
  }
  try {
    const docs = parseManifestText(text, 'yaml');
    if (docs.length !== 1) throw new KubeStatusError('BAD_REQUEST', 'the body must hold exactly one object');
    return docs[0];
  } catch (e) {
    if (e instanceof ManifestSyntaxError) throw new KubeStatusError('BAD_REQUEST', e.message);
    throw e;
  }
}

interface DeleteOptions {
  preconditions?: { resourceVersion?: string; uid?: string };
  dryRun?: boolean;
}

/**
 * The DeleteOptions body kubectl sends: `propagationPolicy` Background and Foreground both delete
 * the object's replicas (the controller stops them); Orphan would keep them running without
 * their Deployment, which Berth does not do.
 */
export async function readDeleteOptions(c: Ctx): Promise<DeleteOptions> {
  const text = await readText(c);
  if (text.trim() === '') {
    const policy = c.req.query('propagationPolicy');
    if (policy === 'Orphan') throw orphanRefused();
    return {};
  }
  const body = parseBody(text, 'json') as Record<string, unknown> | null;
  if (typeof body !== 'object' || body === null)
    throw new KubeStatusError('BAD_REQUEST', 'DeleteOptions must be an object');
  const policy = body.propagationPolicy ?? c.req.query('propagationPolicy');
  if (policy === 'Orphan' || body.orphanDependents === true) throw orphanRefused();
  if (policy !== undefined && policy !== null && policy !== 'Background' && policy !== 'Foreground')
    throw new KubeStatusError(
      'BAD_REQUEST',
      `propagationPolicy "${String(policy).slice(0, 40)}" is not one of Background, Foreground, Orphan`,
    );
  // kubectl sends a delete's dry run in the body (`dryRun: ["All"]`), not in the query.
  const dryRun = body.dryRun ?? [];
  if (!Array.isArray(dryRun) || dryRun.some((v) => v !== 'All'))
    throw new KubeStatusError('BAD_REQUEST', 'dryRun must be ["All"] or absent');
  const pre = body.preconditions as DeleteOptions['preconditions'] | undefined;
  return {
    ...(pre && typeof pre === 'object' ? { preconditions: pre } : {}),
    ...(dryRun.length ? { dryRun: true } : {}),
  };
}

const orphanRefused = () =>
  new KubeStatusError(
    'VALIDATION_FAILED',
    'propagationPolicy: Unsupported value: "Orphan": Berth stops an object\'s replicas with it (use Background or Foreground)',
    {
      causes: [
        {
          field: 'propagationPolicy',
          message: 'Unsupported value: "Orphan"',
          reason: 'FieldValueNotSupported',
        },
      ],
    },
  );

export function unsupportedPatch(type: string) {
  return new KubeStatusError(
    'UNSUPPORTED_MEDIA_TYPE',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml${type ? ` (got ${type})` : ''}`,
  );
}

function nameOf(body: Record<string, unknown>): string | undefined {
  const m = body.metadata as { name?: unknown } | undefined;
  return typeof m?.name === 'string' && m.name ? m.name : undefined;
}

function nameResourceVersion(body: unknown): string | undefined {
  const m = (body as { metadata?: { resourceVersion?: unknown } } | null)?.metadata;
  return typeof m?.resourceVersion === 'string' && m.resourceVersion ? m.resourceVersion : undefined;
}

/** The body names the object the URL does, of the URL's kind, as Kubernetes checks before anything. */
function checkIdentity(r: KubeResource, ns: string, name: string, doc: Record<string, unknown>): void {
  const expected = groupVersion(r.group, r.version);
  if (doc.apiVersion === undefined) doc.apiVersion = expected;
  if (doc.kind === undefined) doc.kind = r.kind;
  if (doc.apiVersion !== expected || doc.kind !== r.kind)
    throw new KubeStatusError(
      'BAD_REQUEST',
      `the API version in the data (${String(doc.apiVersion)}) does not match the expected API version (${expected})`,
    );
  if (doc.metadata === undefined) doc.metadata = {};
  const metadata = doc.metadata as Record<string, unknown>;
  if (metadata.name === undefined) metadata.name = name;
  if (metadata.name !== name)
    throw new KubeStatusError(
      'BAD_REQUEST',
      `the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`,
    );
  if (metadata.namespace === undefined) metadata.namespace = ns;
  if (metadata.namespace !== ns)
    throw new KubeStatusError(
      'BAD_REQUEST',
      'the namespace of the provided object does not match the namespace sent on the request',
    );
}

/** A 422 as Kubernetes words it, which kubectl prints as `The Deployment "web" is invalid: <field>: <message>`. */
export function invalidStatus(r: KubeResource, name: string, errors: FieldError[]): KubeStatusError {
  const list = errors.map((e) => `${e.path || '<root>'}: ${e.message}`);
  const message = `${r.kind}${r.group ? `.${r.group}` : ''} "${name}" is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`;
  return new KubeStatusError('VALIDATION_FAILED', message, invalidDetails(r, name, errors));
}

function invalidDetails(r: KubeResource, name: string, errors: FieldError[]) {
  return {
    name,
    group: r.group,
    kind: r.kind,
    causes: errors.map((e) => ({ field: e.path, message: e.message, reason: 'FieldValueInvalid' })),
  };
}

interface Conflict extends KubeStatusError {
  alreadyExists?: boolean;
}

function conflictStatus(r: KubeResource, name: string): KubeStatusError {
  return new KubeStatusError(
    'CONFLICT',
    `Operation cannot be fulfilled on ${qualifiedName(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: r.group, kind: r.plural },
  );
}

/**
 * An apply that would change fields other writers hold: 409 Conflict, a cause per field, which
 * kubectl prints with its hint about `--force-conflicts`.
 */
function applyConflictStatus(r: KubeResource, name: string, e: ApplyConflict): KubeStatusError {
  return new KubeStatusError('CONFLICT', e.message, {
    name,
    group: r.group,
    kind: r.plural,
    causes: e.conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with ${c.manager}`,
      field: c.field,
    })),
  });
}

/**
 * The ownership a write sets itself, as Kubernetes lets an update do (kubectl rewrites it when it
 * moves a client-side apply's fields to its server-side apply): a list that differs from what is
 * stored replaces it, `[{}]` empties it; an absent or empty one keeps what is stored.
 */
function sentManagedFields(
  doc: Record<string, unknown>,
  current: Current | undefined,
): unknown[] | undefined {
  const sent = (doc.metadata as { managedFields?: unknown } | undefined)?.managedFields;
  if (!Array.isArray(sent) || sent.length === 0) return undefined;
  if (canonicalJson(sent) === canonicalJson(current?.object.metadata.managedFields ?? [])) return undefined;
  return sent.filter((e) => typeof e === 'object' && e !== null && Object.keys(e).length > 0);
}

/** A PUT's body, with the version it was read at when it names none. */
function withVersionOf(body: Record<string, unknown>, current: KubeObject): Record<string, unknown> {
  if (nameResourceVersion(body) !== undefined) return body;
  const metadata = typeof body.metadata === 'object' && body.metadata !== null ? body.metadata : {};
  return { ...body, metadata: { ...metadata, resourceVersion: current.metadata.resourceVersion } };
}

/** `deployments.apps "web" already exists`: a 409 whose reason is AlreadyExists (see answering). */
export function alreadyExistsStatus(r: KubeResource, name: string, prefix = ''): KubeStatusError {
  const err: Conflict = new KubeStatusError(
    'CONFLICT',
    `${prefix}${qualifiedName(r)} "${name}" already exists`,
    {
      name,
      group: r.group,
      kind: r.plural,
    },
  );
  err.alreadyExists = true;
  return err;
}

/**
 * A create in a namespace being deleted, as Kubernetes' NamespaceLifecycle admission refuses it
 * (kubectl prints the message; the cause names the namespace).
 */
export function terminatingStatus(r: KubeResource, name: string, namespace: string): KubeStatusError {
  return new KubeStatusError(
    'FORBIDDEN',
    `${qualifiedName(r)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
    {
      name,
      group: r.group,
      kind: r.plural,
      causes: [
        {
          reason: 'NamespaceTerminating',
          message: `namespace ${namespace} is being terminated`,
          field: 'metadata.namespace',
        },
      ],
    },
  );
}

/** A verb's refusal in Kubernetes' words: 422 Invalid with causes, 409 Conflict or AlreadyExists. */
function kubeError(e: unknown, r: KubeResource, name: string, createOnly: boolean): unknown {
  if (e instanceof NamespaceTerminating) return terminatingStatus(r, name, e.namespace);
  if (!(e instanceof DomainError)) return e;
  if (e.code === 'VALIDATION_FAILED')
    return invalidStatus(
      r,
      name,
      e.options.errors?.length ? e.options.errors : [{ path: '', message: e.detail }],
    );
  if (e.code === 'CONFLICT') {
    if (createOnly && /already exists/.test(e.detail)) return alreadyExistsStatus(r, name);
    if (/was modified|does not exist/.test(e.detail)) return conflictStatus(r, name);
    // A conflict of Berth's own rules (a host another service holds): its words, as a 409.
    return new KubeStatusError('CONFLICT', e.detail, { name, group: r.group, kind: r.plural });
  }
  return e;
}

/** A patch that cannot apply, or an object that is not one, is the caller's 422. */
export function guard<T>(r: KubeResource, name: string, work: () => T): T {
  try {
    return work();
  } catch (e) {
    if (e instanceof PatchError) throw invalidStatus(r, name, [{ path: 'patch', message: e.message }]);
    if (e instanceof ApplyConflict) throw applyConflictStatus(r, name, e);
    throw e;
  }
}
