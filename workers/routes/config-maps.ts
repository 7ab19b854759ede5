import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { ConfigMapInput } from '../../common/config-map.ts';
import { ConfigMap, ConfigMapList } from '../../common/wire/config-map.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authorize } from '../auth/authorize.ts';
import { readValid } from '../http/body.ts';
import { route } from '../http/route.ts';
import { wakeAgents } from '../http/wake-agents.ts';
import {
  applyConfigMap,
  deleteConfigMap,
  getConfigMap,
  listConfigMaps,
  toConfigMapObject,
} from '../verbs/config-maps.ts';
import { DryRunQuery, dryRunParam, nameParam, writeOptions } from './params.ts';

const BASE = '/v1/namespaces/{ns}/configmaps';
const TAGS = ['ConfigMaps'];

export function configMapRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  route(
    app,
    {
      method: 'put',
      path: `${BASE}/{name}`,
      summary: 'Create or replace a ConfigMap (?dryRun=true checks without writing)',
      tags: TAGS,
      body: ConfigMapInput,
      query: DryRunQuery,
      response: ConfigMap,
      status: [200, 201],
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'write', 'configmaps', ns);
      const name = nameParam(c, 'name');
      const dryRun = dryRunParam(c);
      const input = await readValid(c, ConfigMapInput);
      const result = await applyConfigMap(
        deps.db,
        { namespace: ns, name, input },
        writeOptions(c, deps, dryRun),
      );
      // Replicas waiting for this ConfigMap start now: their nodes' assignments were bumped with it.
      wakeAgents(c, deps, result.wakeNodes);
      return c.json(toConfigMapObject(result.row), result.created ? 201 : 200);
    },
  );
  route(
    app,
    {
      method: 'get',
      path: BASE,
      summary: 'List ConfigMaps',
      tags: TAGS,
      query: z.object({ labelSelector: z.string().optional() }),
      response: ConfigMapList,
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'read', 'configmaps', ns);
      const rows = await listConfigMaps(deps.db, ns, c.req.query('labelSelector'));
      return c.json({ items: rows.map(toConfigMapObject) });
    },
  );
  route(
    app,
    { method: 'get', path: `${BASE}/{name}`, summary: 'Read a ConfigMap', tags: TAGS, response: ConfigMap },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'read', 'configmaps', ns);
      return c.json(toConfigMapObject(await getConfigMap(deps.db, ns, nameParam(c, 'name'))));
    },
  );
  route(
    app,
    {
      method: 'delete',
      path: `${BASE}/{name}`,
      summary: 'Delete a ConfigMap',
      tags: TAGS,
      response: ConfigMap,
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'write', 'configmaps', ns);
      return c.json(toConfigMapObject(await deleteConfigMap(deps.db, ns, nameParam(c, 'name'))));
    },
  );
}
