import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { ServiceInput } from '../../common/service.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authorize } from '../auth/authorize.ts';
import { readValid } from '../http/body.ts';
import { route } from '../http/route.ts';
import { hostOf } from '../ingress/hosts.ts';
import {
  applyService,
  deleteService,
  getService,
  listEndpoints,
  listServices,
  toServiceObject,
} from '../verbs/services.ts';
import { nameParam } from './params.ts';

const BASE = '/v1/namespaces/{ns}/services';
const TAGS = ['Services'];
const Service = z.object({}).passthrough().meta({ id: 'Service' });
const Endpoint = z
  .object({
    replica: z.string(),
    deployment: z.string(),
    revision: z.int(),
    node: z.string(),
    address: z.string(),
    port: z.int(),
    ports: z.array(z.object({ name: z.string().optional(), port: z.int(), hostPort: z.int() })).optional(),
  })
  .meta({ id: 'Endpoint' });

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
      summary: 'Apply a service (create: 201, update: 200); hosts route through the ingress',
      tags: TAGS,
      body: ServiceInput,
      response: Service,
    },
    async (c) => {
      const ns = target(c, 'write');
      const name = nameParam(c, 'name');
      const input = await readValid(c, ServiceInput);
      const result = await applyService(deps.db, {
        namespace: ns,
        name,
        input,
        now: deps.now(),
        reservedHost: hostOf(c.req.raw),
      });
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
      response: z.object({ items: z.array(Service) }),
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
        'Ready replicas the service selects: node address and published host port of its main port ("http", else the first)',
      tags: TAGS,
      response: z.object({ items: z.array(Endpoint) }),
    },
    async (c) => {
      const ns = target(c, 'read');
      const name = nameParam(c, 'name');
      const { items } = await listEndpoints(deps.db, ns, name);
      return c.json({ service: name, namespace: ns, items });
    },
  );
}
