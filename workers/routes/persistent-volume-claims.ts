import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { PersistentVolumeClaimInput } from '../../common/persistent-volume-claim.ts';
import {
  PersistentVolumeClaim,
  PersistentVolumeClaimList,
} from '../../common/wire/persistent-volume-claim.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authorize } from '../auth/authorize.ts';
import { readValid } from '../http/body.ts';
import { reconcileAfter } from '../http/reconcile-after.ts';
import { route } from '../http/route.ts';
import { wakeAgents } from '../http/wake-agents.ts';
import {
  applyClaim,
  deleteClaim,
  getClaim,
  listClaims,
  toClaimObject,
} from '../verbs/persistent-volume-claims.ts';
import { DryRunQuery, dryRunParam, nameParam, writeOptions } from './params.ts';

const BASE = '/v1/namespaces/{ns}/persistentvolumeclaims';
const TAGS = ['PersistentVolumeClaims'];

export function persistentVolumeClaimRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  route(
    app,
    {
      method: 'put',
      path: `${BASE}/{name}`,
      summary:
        'Create or replace a PersistentVolumeClaim (spec is immutable but for a growing storage request; ?dryRun=true checks without writing)',
      tags: TAGS,
      body: PersistentVolumeClaimInput,
      query: DryRunQuery,
      response: PersistentVolumeClaim,
      status: [200, 201],
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'write', 'persistentvolumeclaims', ns);
      const name = nameParam(c, 'name');
      const dryRun = dryRunParam(c);
      const input = await readValid(c, PersistentVolumeClaimInput);
      const result = await applyClaim(deps.db, { namespace: ns, name, input }, writeOptions(c, deps, dryRun));
      // Replicas that waited for this claim to exist are placed now.
      if (result.wakeDeployments.length) reconcileAfter(c, deps, result.wakeDeployments);
      return c.json(toClaimObject(result.row), result.created ? 201 : 200);
    },
  );
  route(
    app,
    {
      method: 'get',
      path: BASE,
      summary: 'List PersistentVolumeClaims',
      tags: TAGS,
      query: z.object({ labelSelector: z.string().optional() }),
      response: PersistentVolumeClaimList,
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'read', 'persistentvolumeclaims', ns);
      const rows = await listClaims(deps.db, ns, c.req.query('labelSelector'));
      return c.json({ items: rows.map(toClaimObject) });
    },
  );
  route(
    app,
    {
      method: 'get',
      path: `${BASE}/{name}`,
      summary: 'Read a PersistentVolumeClaim',
      tags: TAGS,
      response: PersistentVolumeClaim,
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'read', 'persistentvolumeclaims', ns);
      return c.json(toClaimObject(await getClaim(deps.db, ns, nameParam(c, 'name'))));
    },
  );
  route(
    app,
    {
      method: 'delete',
      path: `${BASE}/{name}`,
      summary:
        'Delete a PersistentVolumeClaim: at once when no replica uses it (its node then removes the volume), else it stays Terminating until the last one is gone',
      tags: TAGS,
      response: PersistentVolumeClaim,
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'write', 'persistentvolumeclaims', ns);
      const result = await deleteClaim(deps.db, ns, nameParam(c, 'name'), deps.now());
      wakeAgents(c, deps, result.wakeNodes);
      return c.json(toClaimObject(result.row));
    },
  );
}
