import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { ServiceAccountInput } from '../../common/service-account.ts';
import { ServiceAccount, ServiceAccountList } from '../../common/wire/service-account.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authorize } from '../auth/authorize.ts';
import { readValid } from '../http/body.ts';
import { route } from '../http/route.ts';
import { wakeAgents } from '../http/wake-agents.ts';
import {
  applyServiceAccount,
  deleteServiceAccount,
  getServiceAccount,
  listServiceAccounts,
  toServiceAccountObject,
} from '../verbs/service-accounts.ts';
import { DryRunQuery, dryRunParam, nameParam, writeOptions } from './params.ts';

const BASE = '/v1/namespaces/{ns}/serviceaccounts';
const TAGS = ['ServiceAccounts'];

export function serviceAccountRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  route(
    app,
    {
      method: 'put',
      path: `${BASE}/{name}`,
      summary: 'Create or replace a ServiceAccount (?dryRun=true checks without writing)',
      tags: TAGS,
      body: ServiceAccountInput,
      query: DryRunQuery,
      response: ServiceAccount,
      status: [200, 201],
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'write', 'serviceaccounts', ns);
      const name = nameParam(c, 'name');
      const dryRun = dryRunParam(c);
      const input = await readValid(c, ServiceAccountInput);
      const result = await applyServiceAccount(
        deps.db,
        { namespace: ns, name, input },
        writeOptions(c, deps, dryRun),
      );
      // Replicas waiting for this ServiceAccount start now: their nodes' assignments were bumped with it.
      wakeAgents(c, deps, result.wakeNodes);
      return c.json(toServiceAccountObject(result.row), result.created ? 201 : 200);
    },
  );
  route(
    app,
    {
      method: 'get',
      path: BASE,
      summary: 'List ServiceAccounts',
      tags: TAGS,
      query: z.object({ labelSelector: z.string().optional() }),
      response: ServiceAccountList,
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'read', 'serviceaccounts', ns);
      const rows = await listServiceAccounts(deps.db, ns, c.req.query('labelSelector'));
      return c.json({ items: rows.map(toServiceAccountObject) });
    },
  );
  route(
    app,
    {
      method: 'get',
      path: `${BASE}/{name}`,
      summary: 'Read a ServiceAccount',
      tags: TAGS,
      response: ServiceAccount,
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'read', 'serviceaccounts', ns);
      return c.json(toServiceAccountObject(await getServiceAccount(deps.db, ns, nameParam(c, 'name'))));
    },
  );
  route(
    app,
    {
      method: 'delete',
      path: `${BASE}/{name}`,
      summary: 'Delete a ServiceAccount',
      tags: TAGS,
      response: ServiceAccount,
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'write', 'serviceaccounts', ns);
      return c.json(toServiceAccountObject(await deleteServiceAccount(deps.db, ns, nameParam(c, 'name'))));
    },
  );
}
