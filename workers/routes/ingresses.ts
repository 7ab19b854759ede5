import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { IngressInput } from '../../common/ingress.ts';
import { Ingress, IngressList } from '../../common/wire/ingress.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authorize } from '../auth/authorize.ts';
import { readValid } from '../http/body.ts';
import { route } from '../http/route.ts';
import {
  applyIngress,
  deleteIngress,
  getIngress,
  listIngresses,
  toIngressObject,
} from '../verbs/ingresses.ts';
import { DryRunQuery, dryRunParam, nameParam, writeOptions } from './params.ts';

const BASE = '/v1/namespaces/{ns}/ingresses';
const TAGS = ['Ingresses'];

export function ingressRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  const target = (c: Context<AppEnv>, action: 'read' | 'write') => {
    const ns = nameParam(c, 'ns');
    authorize(c.get('principal'), action, 'ingresses', ns);
    return ns;
  };
  route(
    app,
    {
      method: 'put',
      path: `${BASE}/{name}`,
      summary:
        'Create or replace an Ingress (networking.k8s.io/v1 shape; ?dryRun=true checks without writing): host and path rules to service ports',
      tags: TAGS,
      body: IngressInput,
      query: DryRunQuery,
      response: Ingress,
      status: [200, 201],
    },
    async (c) => {
      const ns = target(c, 'write');
      const name = nameParam(c, 'name');
      const dryRun = dryRunParam(c);
      const input = await readValid(c, IngressInput);
      const result = await applyIngress(
        deps.db,
        { namespace: ns, name, input },
        writeOptions(c, deps, dryRun),
      );
      return c.json(toIngressObject(result.row), result.created ? 201 : 200);
    },
  );
  route(
    app,
    {
      method: 'get',
      path: BASE,
      summary: 'List Ingresses',
      tags: TAGS,
      query: z.object({ labelSelector: z.string().optional() }),
      response: IngressList,
    },
    async (c) => {
      const ns = target(c, 'read');
      const rows = await listIngresses(deps.db, ns, c.req.query('labelSelector'));
      return c.json({ items: rows.map(toIngressObject) });
    },
  );
  route(
    app,
    { method: 'get', path: `${BASE}/{name}`, summary: 'Read an Ingress', tags: TAGS, response: Ingress },
    async (c) => {
      const ns = target(c, 'read');
      return c.json(toIngressObject(await getIngress(deps.db, ns, nameParam(c, 'name'))));
    },
  );
  route(
    app,
    { method: 'delete', path: `${BASE}/{name}`, summary: 'Delete an Ingress', tags: TAGS, response: Ingress },
    async (c) => {
      const ns = target(c, 'write');
      return c.json(toIngressObject(await deleteIngress(deps.db, ns, nameParam(c, 'name'))));
    },
  );
}
