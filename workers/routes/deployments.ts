import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { DeploymentInput } from '../../common/deployment.ts';
import {
  Deployment,
  DeploymentList,
  RevisionList,
  RollbackRequest as RollbackBody,
  ScaleRequest as ScaleBody,
} from '../../common/wire/deployment.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authorize } from '../auth/authorize.ts';
import { readJson, readOptionalJson, readValid, validate } from '../http/body.ts';
import { reconcileAfter } from '../http/reconcile-after.ts';
import { route } from '../http/route.ts';
import { addWarningHeaders } from '../http/warning-header.ts';
import {
  applyDeployment,
  type DeploymentRow,
  deleteDeployment,
  getDeployment,
  listDeployments,
  listRevisions,
  patchDeployment,
  rollbackDeployment,
  scaleDeployment,
  setPaused,
  toDeploymentObject,
} from '../verbs/deployments.ts';
import { missingSecretWarnings } from '../verbs/secrets.ts';
import { DryRunQuery, dryRunParam, nameParam, writeOptions } from './params.ts';

const BASE = '/v1/namespaces/{ns}/deployments';
const TAGS = ['Deployments'];

export function deploymentRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  const kick = (c: Context<AppEnv>, id: string) => reconcileAfter(c, deps, [id]);
  const target = (c: Context<AppEnv>, action: 'read' | 'write') => {
    const ns = nameParam(c, 'ns');
    authorize(c.get('principal'), action, 'deployments', ns);
    return ns;
  };
  // A deployment naming a secret or key its namespace lacks is stored, and told so (Warning headers).
  const warnMissingSecrets = async (c: Context<AppEnv>, ns: string, row: DeploymentRow) =>
    addWarningHeaders(c, await missingSecretWarnings(deps.db, ns, row.spec.template.spec));

  route(
    app,
    {
      method: 'put',
      path: `${BASE}/{name}`,
      summary: 'Apply a deployment (create: 201, update: 200; ?dryRun=true checks without writing)',
      tags: TAGS,
      body: DeploymentInput,
      query: DryRunQuery,
      response: Deployment,
      status: [200, 201],
    },
    async (c) => {
      const ns = target(c, 'write');
      const name = nameParam(c, 'name');
      const dryRun = dryRunParam(c);
      const input = await readValid(c, DeploymentInput);
      const result = await applyDeployment(
        deps.db,
        { namespace: ns, name, input },
        writeOptions(c, deps, dryRun),
      );
      if (result.changed && !dryRun) kick(c, result.row.id);
      await warnMissingSecrets(c, ns, result.row);
      return c.json(toDeploymentObject(result.row), result.created ? 201 : 200);
    },
  );

  route(
    app,
    {
      method: 'get',
      path: BASE,
      summary: 'List deployments',
      tags: TAGS,
      query: z.object({ labelSelector: z.string().optional() }),
      response: DeploymentList,
    },
    async (c) => {
      const ns = target(c, 'read');
      const rows = await listDeployments(deps.db, ns, c.req.query('labelSelector'));
      return c.json({
        apiVersion: 'berth.dev/v1',
        kind: 'DeploymentList',
        items: rows.map(toDeploymentObject),
      });
    },
  );

  route(
    app,
    { method: 'get', path: `${BASE}/{name}`, summary: 'Read a deployment', tags: TAGS, response: Deployment },
    async (c) => {
      const ns = target(c, 'read');
      return c.json(toDeploymentObject(await getDeployment(deps.db, ns, nameParam(c, 'name'))));
    },
  );

  route(
    app,
    {
      method: 'delete',
      path: `${BASE}/{name}`,
      summary: 'Delete a deployment; its agents stop its replicas',
      tags: TAGS,
      response: Deployment,
    },
    async (c) => {
      const ns = target(c, 'write');
      const row = await deleteDeployment(deps.db, ns, nameParam(c, 'name'), deps.now());
      kick(c, row.id);
      return c.json(toDeploymentObject(row));
    },
  );

  route(
    app,
    {
      method: 'put',
      path: `${BASE}/{name}/scale`,
      summary: 'Set the number of replicas',
      tags: TAGS,
      body: ScaleBody,
      response: Deployment,
    },
    async (c) => {
      const ns = target(c, 'write');
      const name = nameParam(c, 'name');
      const { replicas } = await readValid(c, ScaleBody);
      const result = await scaleDeployment(deps.db, ns, name, replicas, writeOptions(c, deps));
      if (result.changed) kick(c, result.row.id);
      return c.json(toDeploymentObject(result.row));
    },
  );

  route(
    app,
    {
      method: 'patch',
      path: `${BASE}/{name}`,
      summary:
        'JSON merge patch (RFC 7386) of metadata.labels/annotations and spec (?dryRun=true checks without writing)',
      tags: TAGS,
      query: DryRunQuery,
      body: z.object({}).passthrough(),
      bodyTypes: ['application/merge-patch+json', 'application/json'],
      response: Deployment,
    },
    async (c) => {
      const ns = target(c, 'write');
      const name = nameParam(c, 'name');
      const dryRun = dryRunParam(c);
      const patch = await readJson(c, ['application/merge-patch+json', 'application/json']);
      const result = await patchDeployment(deps.db, ns, name, patch, writeOptions(c, deps, dryRun));
      if (result.changed && !dryRun) kick(c, result.row.id);
      await warnMissingSecrets(c, ns, result.row);
      return c.json(toDeploymentObject(result.row));
    },
  );

  route(
    app,
    {
      method: 'post',
      path: `${BASE}/{name}/rollback`,
      summary: 'Roll back to a revision (default: the previous one)',
      tags: TAGS,
      body: RollbackBody,
      response: Deployment,
    },
    async (c) => {
      const ns = target(c, 'write');
      const name = nameParam(c, 'name');
      const { toRevision } = validate(RollbackBody, (await readOptionalJson(c)) ?? {});
      const result = await rollbackDeployment(deps.db, ns, name, toRevision, writeOptions(c, deps));
      if (result.changed) kick(c, result.row.id);
      return c.json(toDeploymentObject(result.row));
    },
  );

  for (const [verb, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    route(
      app,
      {
        method: 'post',
        path: `${BASE}/{name}/${verb}`,
        summary: `${paused ? 'Pause' : 'Resume'} rollouts`,
        tags: TAGS,
        response: Deployment,
      },
      async (c) => {
        const ns = target(c, 'write');
        const result = await setPaused(deps.db, ns, nameParam(c, 'name'), paused, writeOptions(c, deps));
        if (result.changed) kick(c, result.row.id);
        return c.json(toDeploymentObject(result.row));
      },
    );
  }

  route(
    app,
    {
      method: 'get',
      path: `${BASE}/{name}/revisions`,
      summary: 'Revision history, newest first, with the template of each',
      tags: TAGS,
      response: RevisionList,
    },
    async (c) => {
      const ns = target(c, 'read');
      return c.json({ items: await listRevisions(deps.db, ns, nameParam(c, 'name')) });
    },
  );
}
