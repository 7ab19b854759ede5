import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { errorChain } from '../../common/error-chain.ts';
import { DrainedNode, Node, NodeList, NodeTaintsChange } from '../../common/wire/node.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authorize, requireAdmin } from '../auth/authorize.ts';
import { readValid } from '../http/body.ts';
import { reconcileAfter } from '../http/reconcile-after.ts';
import { route } from '../http/route.ts';
import { resetNode } from '../verbs/node-registration.ts';
import { changeNodeTaints } from '../verbs/node-taints.ts';
import { deleteNode, drainNode, getNode, listNodes, setUnschedulable } from '../verbs/nodes.ts';
import { nameParam } from './params.ts';

const TAGS = ['Nodes'];

export function nodeRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  const kick = (c: Context<AppEnv>, ids: string[]) => reconcileAfter(c, deps, ids);
  const wakeNode = (nodeId: string) => {
    if (deps.publishAssignments)
      void deps
        .publishAssignments([nodeId])
        .catch((e) => deps.log.warn('notify failed', { error: errorChain(e) }));
    else deps.signals.notify([nodeId]);
  };
  route(
    app,
    { method: 'get', path: '/v1/nodes', summary: 'List nodes', tags: TAGS, response: NodeList },
    async (c) => {
      authorize(c.get('principal'), 'read', 'nodes');
      return c.json({ items: await listNodes(deps.db) });
    },
  );
  route(
    app,
    { method: 'get', path: '/v1/nodes/{name}', summary: 'Read a node', tags: TAGS, response: Node },
    async (c) => {
      authorize(c.get('principal'), 'read', 'nodes');
      return c.json(await getNode(deps.db, nameParam(c, 'name')));
    },
  );
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
        response: Node,
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
      path: '/v1/nodes/{name}/taints',
      summary:
        'Add and remove node taints (replicas without a matching toleration avoid the node; those there stay)',
      tags: TAGS,
      body: NodeTaintsChange,
      response: Node,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      const name = nameParam(c, 'name');
      const change = await readValid(c, NodeTaintsChange);
      const { node, woken } = await changeNodeTaints(deps.db, name, change, deps.now());
      kick(c, woken);
      return c.json(node);
    },
  );
  route(
    app,
    {
      method: 'post',
      path: '/v1/nodes/{name}/drain',
      summary: "Cordon, then move the node's replicas elsewhere within each deployment's maxUnavailable",
      tags: TAGS,
      response: DrainedNode,
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
      status: 204,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      const result = await deleteNode(deps.db, nameParam(c, 'name'), deps.now());
      kick(c, result.deploymentIds);
      // A long-poll held with the node's credential ends now, refused, instead of at its timeout.
      wakeNode(result.nodeId);
      return c.body(null, 204);
    },
  );
  route(
    app,
    {
      method: 'post',
      path: '/v1/nodes/{name}/reset',
      summary:
        "Revoke the node's credential at once; the next registration with a valid join token takes its name (a reinstalled machine)",
      tags: TAGS,
      response: Node,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      const name = nameParam(c, 'name');
      const { nodeId } = await resetNode(deps.db, name, deps.now());
      wakeNode(nodeId);
      return c.json(await getNode(deps.db, name));
    },
  );
}
