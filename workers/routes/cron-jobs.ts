import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { CronJobInput } from '../../common/cron-job.ts';
import { CronJob, CronJobList } from '../../common/wire/cron-job.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authorize } from '../auth/authorize.ts';
import { readValid } from '../http/body.ts';
import { reconcileAfter } from '../http/reconcile-after.ts';
import { route } from '../http/route.ts';
import { toCronJobObject } from '../kinds/cron-job.ts';
import { applyCronJob, cronJobObjects, deleteCronJob, getCronJob, listCronJobs } from '../verbs/cron-jobs.ts';
import { DryRunQuery, dryRunParam, nameParam, writeOptions } from './params.ts';

const BASE = '/v1/namespaces/{ns}/cronjobs';
const TAGS = ['CronJobs'];

export function cronJobRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  const target = (c: Context<AppEnv>, action: 'read' | 'write') => {
    const ns = nameParam(c, 'ns');
    authorize(c.get('principal'), action, 'cronjobs', ns);
    return ns;
  };
  route(
    app,
    {
      method: 'put',
      path: `${BASE}/{name}`,
      summary:
        'Create or replace a CronJob (batch/v1 shape; ?dryRun=true checks without writing): a Job from its template at each scheduled time',
      tags: TAGS,
      body: CronJobInput,
      query: DryRunQuery,
      response: CronJob,
      status: [200, 201],
    },
    async (c) => {
      const ns = target(c, 'write');
      const name = nameParam(c, 'name');
      const dryRun = dryRunParam(c);
      const input = await readValid(c, CronJobInput);
      const result = await applyCronJob(
        deps.db,
        { namespace: ns, name, input },
        writeOptions(c, deps, dryRun),
      );
      const [object] = await cronJobObjects(deps.db, [result.row]);
      return c.json(object!, result.created ? 201 : 200);
    },
  );
  route(
    app,
    {
      method: 'get',
      path: BASE,
      summary: 'List CronJobs',
      tags: TAGS,
      query: z.object({ labelSelector: z.string().optional() }),
      response: CronJobList,
    },
    async (c) => {
      const ns = target(c, 'read');
      const rows = await listCronJobs(deps.db, ns, c.req.query('labelSelector'));
      return c.json({ items: await cronJobObjects(deps.db, rows) });
    },
  );
  route(
    app,
    { method: 'get', path: `${BASE}/{name}`, summary: 'Read a CronJob', tags: TAGS, response: CronJob },
    async (c) => {
      const ns = target(c, 'read');
      const [object] = await cronJobObjects(deps.db, [await getCronJob(deps.db, ns, nameParam(c, 'name'))]);
      return c.json(object!);
    },
  );
  route(
    app,
    {
      method: 'delete',
      path: `${BASE}/{name}`,
      summary: 'Delete a CronJob and the Jobs it made',
      tags: TAGS,
      response: CronJob,
    },
    async (c) => {
      const ns = target(c, 'write');
      const { row, jobIds } = await deleteCronJob(deps.db, ns, nameParam(c, 'name'), deps.now());
      reconcileAfter(c, deps, jobIds);
      return c.json(toCronJobObject(row, { active: [] }));
    },
  );
}
