import type { OpenAPIHono } from '@hono/zod-openapi';
import { NamespacePolicyInput } from '../../common/policy.ts';
import { NamespacePolicy, NamespacePolicyList } from '../../common/wire/policy.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authorize, requireAdmin } from '../auth/authorize.ts';
import { readValid } from '../http/body.ts';
import { route } from '../http/route.ts';
import {
  applyPolicy,
  deletePolicy,
  listPolicies,
  readPolicy,
  toNamespacePolicyObject,
} from '../verbs/policies.ts';
import { DryRunQuery, dryRunParam, nameParam, writeOptions } from './params.ts';

const PATH = '/v1/namespaces/{ns}/policy';
const TAGS = ['Namespace policies'];

export function policyRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  route(
    app,
    {
      method: 'put',
      path: PATH,
      summary:
        "Set a namespace's policy (admins): host suffixes and wildcards deployers may claim, host ports, quotas, default limits",
      tags: TAGS,
      body: NamespacePolicyInput,
      query: DryRunQuery,
      response: NamespacePolicy,
      status: [200, 201],
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      const ns = nameParam(c, 'ns');
      const dryRun = dryRunParam(c);
      const input = await readValid(c, NamespacePolicyInput);
      const result = await applyPolicy(deps.db, ns, input, writeOptions(c, deps, dryRun));
      return c.json(toNamespacePolicyObject(result.row), result.created ? 201 : 200);
    },
  );
  route(
    app,
    {
      method: 'get',
      path: PATH,
      summary:
        "The policy in force in a namespace (its own, or the default); readable by the namespace's tokens",
      tags: TAGS,
      response: NamespacePolicy,
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'read', 'policies', ns);
      return c.json(await readPolicy(deps.db, ns));
    },
  );
  route(
    app,
    {
      method: 'delete',
      path: PATH,
      summary: 'Remove a namespace policy (admins): the namespace falls back to the default policy',
      tags: TAGS,
      response: NamespacePolicy,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      return c.json(toNamespacePolicyObject(await deletePolicy(deps.db, nameParam(c, 'ns'))));
    },
  );
  route(
    app,
    {
      method: 'get',
      path: '/v1/policies',
      summary: 'Every namespace policy that was set (admins)',
      tags: TAGS,
      response: NamespacePolicyList,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      return c.json({
        apiVersion: 'berth.dev/v1',
        kind: 'NamespacePolicyList',
        items: await listPolicies(deps.db),
      });
    },
  );
}
