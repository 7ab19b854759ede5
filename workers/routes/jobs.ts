import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { JobInput } from '../../common/job.ts';
import { Job, JobList } from '../../common/wire/job.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authorize } from '../auth/authorize.ts';
import { readValid } from '../http/body.ts';
import { reconcileAfter } from '../http/reconcile-after.ts';
import { route } from '../http/route.ts';
import { applyJob, deleteJob, getJob, listJobs, toJobObject } from '../verbs/jobs.ts';
import { DryRunQuery, dryRunParam, nameParam, writeOptions } from './params.ts';

const BASE = '/v1/namespaces/{ns}/jobs';
const TAGS = ['Jobs'];

export function jobRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  const target = (c: Context<AppEnv>, action: 'read' | 'write') => {
    const ns = nameParam(c, 'ns');
    authorize(c.get('principal'), action, 'jobs', ns);
    return ns;
  };
  route(
    app,
    {
      method: 'put',
      path: `${BASE}/{name}`,
      summary:
        'Create or replace a Job (batch/v1 shape; ?dryRun=true checks without writing): pods that run to completion',
      tags: TAGS,
      body: JobInput,
      query: DryRunQuery,
      response: Job,
      status: [200, 201],
    },
    async (c) => {
      const ns = target(c, 'write');
      const name = nameParam(c, 'name');
      const dryRun = dryRunParam(c);
      const input = await readValid(c, JobInput);
      const result = await applyJob(deps.db, { namespace: ns, name, input }, writeOptions(c, deps, dryRun));
      if (result.changed && !dryRun) reconcileAfter(c, deps, [result.row.id]);
      return c.json(toJobObject(result.row), result.created ? 201 : 200);
    },
  );
  route(
    app,
    {
      method: 'get',
      path: BASE,
      summary: 'List Jobs',
      tags: TAGS,
      query: z.object({ labelSelector: z.string().optional() }),
      response: JobList,
    },
    async (c) => {
      const ns = target(c, 'read');
      const rows = await listJobs(deps.db, ns, c.req.query('labelSelector'));
      return c.json({ items: rows.map(toJobObject) });
    },
  );
  route(
    app,
    { method: 'get', path: `${BASE}/{name}`, summary: 'Read a Job', tags: TAGS, response: Job },
    async (c) => {
      const ns = target(c, 'read');
      return c.json(toJobObject(await getJob(deps.db, ns, nameParam(c, 'name'))));
    },
  );
  route(
    app,
    {
      method: 'delete',
      path: `${BASE}/{name}`,
      summary: 'Delete a Job; its agents stop its pods and remove their containers',
      tags: TAGS,
      response: Job,
    },
    async (c) => {
      const ns = target(c, 'write');
      const row = await deleteJob(deps.db, ns, nameParam(c, 'name'), deps.now());
      reconcileAfter(c, deps, [row.id]);
      return c.json(toJobObject(row));
    },
  );
}
