import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authorize, requireAdmin } from '../auth/authorize.ts';
import { reconcileAfter } from '../http/reconcile-after.ts';
import { route } from '../http/route.ts';
import { deleteNode, drainNode, getNode, listNodes, setUnschedulable } from '../verbs/nodes.ts';
import { nameParam } from './params.ts';

const TAGS = ['Nodes'];

export function nodeRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  const kick = (c: Context<AppEnv>, ids: string[]) => reconcileAfter(c, deps, ids);
  route(app, { method: 'get', path: '/v1/nodes', summary: 'List nodes', tags: TAGS }, async (c) => {
    authorize(c.get('principal'), 'read', 'nodes');
    return c.json({ items: await listNodes(deps.db) });
  });
  route(app, { method: 'get', path: '/v1/nodes/{name}', summary: 'Read a node', tags: TAGS }, async (c) => {
    authorize(c.get('principal'), 'read', 'nodes');
    return c.json(await getNode(deps.db, nameParam(c, 'name')));
  });
  for (const [verb, unschedulable] of [
    ['cordon', true],
    ['uncordon', false],
  ] as const) {
    route(
      app,
      {
        method: 'post',
        path: `/v1/nodes/{name}/${verb}`,
        summary: `${verb[0]!.toUpperCase()}${verb.slice(1)} a node`,
        tags: TAGS,
      },
      async (c) => {
        requireAdmin(c.get('principal'));
        const { node, woken } = await setUnschedulable(
          deps.db,
          nameParam(c, 'name'),
          unschedulable,
          deps.now(),
        );
        kick(c, woken);
        return c.json(node);
      },
    );
  }
  route(
    app,
    {
      method: 'post',
      path: '/v1/nodes/{name}/drain',
      summary: "Cordon, then move the node's replicas elsewhere within each deployment's maxUnavailable",
      tags: TAGS,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      const result = await drainNode(deps.db, nameParam(c, 'name'), deps.now());
      kick(c, result.deploymentIds);
      return c.json({ ...result.node, draining: result.draining });
    },
  );
  route(
    app,
    {
      method: 'delete',
      path: '/v1/nodes/{name}',
      summary: 'Forget a node; its credential stops working at once',
      tags: TAGS,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      const result = await deleteNode(deps.db, nameParam(c, 'name'), deps.now());
      kick(c, result.deploymentIds);
      return c.body(null, 204);
    },
  );
}
