import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { ServiceInput } from '../../common/service.ts';
import { EndpointList, Service, ServiceList } from '../../common/wire/service.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authorize } from '../auth/authorize.ts';
import { readValid } from '../http/body.ts';
import { route } from '../http/route.ts';
import {
  applyService,
  deleteService,
  getService,
  listEndpoints,
  listServices,
  toServiceObject,
} from '../verbs/services.ts';
import { DryRunQuery, dryRunParam, nameParam, writeOptions } from './params.ts';

const BASE = '/v1/namespaces/{ns}/services';
const TAGS = ['Services'];

export function serviceRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  const target = (c: Context<AppEnv>, action: 'read' | 'write') => {
    const ns = nameParam(c, 'ns');
    authorize(c.get('principal'), action, 'services', ns);
    return ns;
  };

  route(
    app,
    {
      method: 'put',
      path: `${BASE}/{name}`,
      summary:
        'Apply a service (create: 201, update: 200; ?dryRun=true checks without writing): its cluster IP and node ports are assigned when left out and kept after (409 when another service holds one); hosts route through the ingress',
      tags: TAGS,
      body: ServiceInput,
      query: DryRunQuery,
      response: Service,
      status: [200, 201],
    },
    async (c) => {
      const ns = target(c, 'write');
      const name = nameParam(c, 'name');
      const dryRun = dryRunParam(c);
      const input = await readValid(c, ServiceInput);
      const result = await applyService(
        deps.db,
        { namespace: ns, name, input },
        writeOptions(c, deps, dryRun),
      );
      return c.json(toServiceObject(result.row), result.created ? 201 : 200);
    },
  );

  route(
    app,
    {
      method: 'get',
      path: BASE,
      summary: 'List services',
      tags: TAGS,
      query: z.object({ labelSelector: z.string().optional() }),
      response: ServiceList,
    },
    async (c) => {
      const ns = target(c, 'read');
      const rows = await listServices(deps.db, ns, c.req.query('labelSelector'));
      return c.json({ apiVersion: 'berth.dev/v1', kind: 'ServiceList', items: rows.map(toServiceObject) });
    },
  );

  route(
    app,
    { method: 'get', path: `${BASE}/{name}`, summary: 'Read a service', tags: TAGS, response: Service },
    async (c) => {
      const ns = target(c, 'read');
      return c.json(toServiceObject(await getService(deps.db, ns, nameParam(c, 'name'))));
    },
  );

  route(
    app,
    {
      method: 'delete',
      path: `${BASE}/{name}`,
      summary: 'Delete a service; its hosts stop routing at once',
      tags: TAGS,
      response: Service,
    },
    async (c) => {
      const ns = target(c, 'write');
      return c.json(toServiceObject(await deleteService(deps.db, ns, nameParam(c, 'name'))));
    },
  );

  route(
    app,
    {
      method: 'get',
      path: `${BASE}/{name}/endpoints`,
      summary:
        'Ready replicas the service selects: node name, node address and published host port of its main port (the TCP one named "http", else the first TCP one) and of each port',
      tags: TAGS,
      response: EndpointList,
    },
    async (c) => {
      const ns = target(c, 'read');
      const name = nameParam(c, 'name');
      const { items } = await listEndpoints(deps.db, ns, name);
      return c.json({ service: name, namespace: ns, items });
    },
  );
}
