import type { OpenAPIHono } from '@hono/zod-openapi';
import { NamespaceStatus } from '../../common/wire/access.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { requireAdmin } from '../auth/authorize.ts';
import { reconcileAfter } from '../http/reconcile-after.ts';
import { route } from '../http/route.ts';
import { wakeAgents } from '../http/wake-agents.ts';
import { deleteNamespace } from '../verbs/namespaces.ts';
import { nameParam } from './params.ts';

/**
 * Namespaces spring into being on first write; deleting one is an admin's, as in Kubernetes: every
 * object in it is deleted through its own delete (replicas are stopped by their agents), and it is
 * Terminating, refusing new objects, until the last has gone. `default` cannot be deleted. Tokens
 * naming it are left as they are.
 */
export function namespaceRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  route(
    app,
    {
      method: 'delete',
      path: '/v1/namespaces/{ns}',
      summary: 'Delete a namespace and every object in it (admins); Terminating until the last has gone',
      tags: ['Namespaces'],
      response: NamespaceStatus,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      const ns = nameParam(c, 'ns');
      const { row, stopping, wakeNodes } = await deleteNamespace(deps.db, ns, deps.now());
      if (stopping.length) reconcileAfter(c, deps, stopping);
      wakeAgents(c, deps, wakeNodes);
      return c.json({ name: ns, phase: row ? 'Terminating' : 'Deleted' } as const);
    },
  );
}
