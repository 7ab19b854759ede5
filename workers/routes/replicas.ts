import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { EventList, ReplicaList, ReplicaLogs } from '../../common/wire/replica.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authorize, requireAdmin } from '../auth/authorize.ts';
import { validate } from '../http/body.ts';
import { route } from '../http/route.ts';
import { listEvents } from '../verbs/events.ts';
import { listReplicas, requestLogs } from '../verbs/replicas.ts';
import { listReplicaUsage } from '../verbs/usage.ts';
import { nameParam } from './params.ts';

const LogsQuery = z.object({ tail: z.coerce.number().int().min(1).max(10000).default(100) });
const EventsQuery = z.object({
  object: z
    .string()
    // A kind alone (`tokenexchange`) names every event of that kind; a certificate's name is its
    // host, which may be a wildcard (`certificate/*.apps.example.com`).
    .regex(
      /^[a-z]+(\/(\*\.)?[a-z0-9]([-.a-z0-9]*[a-z0-9])?)?$/,
      'must look like deployment/NAME (certificate/HOST)',
    )
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export function replicaRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  route(
    app,
    {
      method: 'get',
      path: '/v1/namespaces/{ns}/replicas',
      summary: "Replicas (filter with ?deployment=NAME, or ?job=NAME for a Job's pods)",
      tags: ['Replicas'],
      query: z.object({ deployment: z.string().optional(), job: z.string().optional() }),
      response: ReplicaList,
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'read', 'replicas', ns);
      const owner = {
        deployment: c.req.query('deployment') || undefined,
        job: c.req.query('job') || undefined,
      };
      const [items, usage] = await Promise.all([
        listReplicas(deps.db, ns, owner),
        listReplicaUsage(deps.db, ns),
      ]);
      const byId = new Map(usage.map((u) => [u.replicaId, u]));
      return c.json({
        items: items.map((r) => {
          const u = byId.get(r.id);
          return u
            ? {
                ...r,
                usage: {
                  sampledAt: u.sampledAt.toISOString(),
                  windowSeconds: u.windowSeconds,
                  containers: u.containers,
                },
              }
            : r;
        }),
      });
    },
  );
  route(
    app,
    {
      method: 'get',
      path: '/v1/namespaces/{ns}/replicas/{id}/logs',
      summary: "Recent log lines of the replica's containers (?tail=100)",
      tags: ['Replicas'],
      query: LogsQuery,
      response: ReplicaLogs,
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'read', 'replicas', ns);
      const { tail } = validate(LogsQuery, c.req.query());
      const id = c.req.param('id') ?? '';
      const result = await requestLogs(deps.db, {
        namespace: ns,
        replicaId: id.slice(0, 128),
        tail,
        now: deps.now(),
        wake: async (ids) => deps.publishAssignments?.(ids) ?? deps.signals.notify(ids),
      });
      return c.json(result);
    },
  );
  route(
    app,
    {
      method: 'get',
      path: '/v1/namespaces/{ns}/events',
      summary: 'Events, newest last (?object=deployment/NAME)',
      tags: ['Events'],
      query: EventsQuery,
      response: EventList,
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'read', 'events', ns);
      const q = validate(EventsQuery, c.req.query());
      const [kind, name] = q.object ? q.object.split('/') : [];
      return c.json({
        items: await listEvents(deps.db, ns, { objectKind: kind, objectName: name, limit: q.limit }),
      });
    },
  );
  route(
    app,
    {
      method: 'get',
      path: '/v1/events',
      summary: 'Cluster events: nodes (admin)',
      tags: ['Events'],
      query: EventsQuery,
      response: EventList,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      const q = validate(EventsQuery, c.req.query());
      const [kind, name] = q.object ? q.object.split('/') : [];
      return c.json({
        items: await listEvents(deps.db, '', { objectKind: kind, objectName: name, limit: q.limit }),
      });
    },
  );
}
