import { CRON_JOB_LABEL } from '../../common/cron-job.ts';
import { replicaPhase } from '../../common/replica-phase.ts';
import { assessRollout } from '../../common/rollout.ts';
import { objectRef } from '../args.ts';
import { ApiError } from '../client.ts';
import type { Command } from '../command.ts';
import { describeCronJob } from '../describe-cron-job.ts';
import { describeIngress } from '../describe-ingress.ts';
import { describeJob } from '../describe-job.ts';
import { describeNode, formatToleration } from '../describe-node.ts';
import { EXIT } from '../exit-codes.ts';
import { formatAge, formatHostPorts, formatLabels } from '../format.ts';
import type { Container, CronJob, Deployment, Event, Job, Replica } from '../resources.ts';
import { renderFields, renderTable } from '../table.ts';

const RECENT_EVENTS = 15;

function describeContainer(c: Container): string {
  const fields: [string, string | undefined][] = [['Image', c.image]];
  if (c.command?.length) fields.push(['Command', c.command.join(' ')]);
  if (c.args?.length) fields.push(['Args', c.args.join(' ')]);
  if (c.ports?.length) {
    fields.push([
      'Ports',
      c.ports
        .map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}${p.name ? ` (${p.name})` : ''}`)
        .join(', '),
    ]);
  }
  const { requests, limits } = c.resources ?? {};
  const list = (r?: Record<string, string | number>) =>
    r && Object.keys(r).length
      ? Object.entries(r)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')
      : undefined;
  if (list(requests)) fields.push(['Requests', list(requests)]);
  if (list(limits)) fields.push(['Limits', list(limits)]);
  const probe = (p?: Record<string, unknown>) => {
    if (!p) return undefined;
    const http = p.httpGet as { path?: string; port?: unknown } | undefined;
    const tcp = p.tcpSocket as { port?: unknown } | undefined;
    const exec = p.exec as { command?: string[] } | undefined;
    const grpc = p.grpc as { port?: unknown; service?: string } | undefined;
    const how = http
      ? `http-get :${String(http.port)}${http.path ?? '/'}`
      : tcp
        ? `tcp-socket :${String(tcp.port)}`
        : exec
          ? `exec [${(exec.command ?? []).join(' ')}]`
          : grpc
            ? `grpc :${String(grpc.port)} ${grpc.service ?? ''}`.trimEnd()
            : 'unknown';
    return `${how} delay=${p.initialDelaySeconds ?? 0}s period=${p.periodSeconds ?? 10}s #failure=${p.failureThreshold ?? 3}`;
  };
  if (c.readinessProbe) fields.push(['Readiness', probe(c.readinessProbe)]);
  if (c.livenessProbe) fields.push(['Liveness', probe(c.livenessProbe)]);
  if (c.startupProbe) fields.push(['Startup', probe(c.startupProbe)]);
  if (c.env?.length) {
    fields.push([
      'Environment',
      c.env
        .map((e) =>
          e.valueFrom?.secretKeyRef
            ? `${e.name} (secret ${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key})`
            : `${e.name}=${e.value ?? ''}`,
        )
        .join(', '),
    ]);
  }
  return renderFields(fields, '      ');
}

export function describeDeployment(d: Deployment, replicas: Replica[], events: Event[], now: Date): string {
  const meta = d.metadata ?? {};
  const spec = d.spec ?? {};
  const status = d.status ?? {};
  const strategy = spec.strategy?.type ?? 'RollingUpdate';
  const rolling = spec.strategy?.rollingUpdate;
  const rollout = assessRollout(d, { replicas });
  const out: string[] = [];
  out.push(
    renderFields([
      ['Name', meta.name],
      ['Namespace', meta.namespace],
      ['Labels', formatLabels(meta.labels)],
      ['Created', meta.createdAt ? `${meta.createdAt} (${formatAge(meta.createdAt, now)} ago)` : undefined],
      ['Selector', formatLabels(spec.selector?.matchLabels ?? spec.template?.metadata?.labels)],
      [
        'Replicas',
        `${spec.replicas ?? 0} desired | ${status.updatedReplicas ?? 0} updated | ${status.readyReplicas ?? 0} ready | ${status.availableReplicas ?? 0} available | ${status.unavailableReplicas ?? 0} unavailable`,
      ],
      ['Revision', status.revision],
      ['Rollout', `${rollout.phase}: ${rollout.message}`],
      ['Generation', `${meta.generation ?? '?'} (observed ${status.observedGeneration ?? '?'})`],
      [
        'Strategy',
        rolling
          ? `${strategy} (max surge ${rolling.maxSurge}, max unavailable ${rolling.maxUnavailable})`
          : strategy,
      ],
      [
        'Progress deadline',
        spec.progressDeadlineSeconds !== undefined ? `${spec.progressDeadlineSeconds}s` : undefined,
      ],
      ['Auto rollback', spec.autoRollback ? 'true' : 'false'],
      ['Paused', spec.paused ? 'true' : 'false'],
    ]),
  );
  out.push('Pod template:');
  out.push(`  Labels: ${formatLabels(spec.template?.metadata?.labels)}`);
  const nodeSelector = spec.template?.spec?.nodeSelector;
  if (nodeSelector && Object.keys(nodeSelector).length)
    out.push(`  Node selector: ${formatLabels(nodeSelector)}`);
  const tolerations = spec.template?.spec?.tolerations;
  if (tolerations?.length) out.push(`  Tolerations: ${tolerations.map(formatToleration).join(', ')}`);
  out.push('  Containers:');
  for (const c of spec.template?.spec?.containers ?? [])
    out.push(`   ${c.name}:\n${describeContainer(c).trimEnd()}`);

  const conditions = status.conditions ?? [];
  out.push('Conditions:');
  out.push(
    conditions.length
      ? indent(
          renderTable(
            ['type', 'status', 'reason', 'message'],
            conditions.map((c) => [c.type, c.status, c.reason, c.message]),
          ),
        )
      : '  <none>',
  );
  out.push('Replicas:');
  out.push(
    replicas.length
      ? indent(
          renderTable(
            ['name', 'revision', 'node', 'phase', 'ready', 'restarts', 'host-ports', 'age', 'message'],
            replicas.map((r) => [
              r.id,
              r.revision,
              r.node,
              replicaPhase(r),
              r.ready ? 'true' : 'false',
              r.restartCount ?? 0,
              formatHostPorts(r.hostPorts),
              formatAge(r.createdAt, now),
              r.message,
            ]),
          ),
        )
      : '  <none>',
  );
  const recent = events.slice(-RECENT_EVENTS);
  out.push('Events:');
  out.push(
    recent.length
      ? indent(
          renderTable(
            ['age', 'type', 'reason', 'message'],
            recent.map((e) => [formatAge(e.createdAt, now), e.type, e.reason, e.message]),
          ),
        )
      : '  <none>',
  );
  return `${out.map((s) => s.trimEnd()).join('\n')}\n`;
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

export const describe: Command = {
  name: 'describe',
  summary:
    'Show a deployment or job (spec, status, conditions, replicas or pods, recent events), a cronjob (schedule, template, its jobs), a node (labels, taints) or an ingress (rules) in detail',
  usage: 'berth describe deployment|job|cronjob|node|ingress NAME',
  flags: [],
  async run(ctx) {
    const { kind, name, rest } = objectRef(ctx.args, ['deployment', 'job', 'cronjob', 'node', 'ingress']);
    if (rest.length) ctx.noMoreArgs(ctx.args.length - rest.length);
    const client = await ctx.client();
    if (kind === 'node') {
      ctx.io.stdout.write(describeNode(await client.getNode(name), ctx.io.now()));
      return EXIT.OK;
    }
    const ns = await ctx.namespace();
    if (kind === 'ingress') {
      ctx.io.stdout.write(describeIngress(await client.getObject(ns, 'ingresses', name), ctx.io.now()));
      return EXIT.OK;
    }
    const optional = <T>(p: Promise<T[]>) =>
      p.catch((err) => {
        if (err instanceof ApiError && err.status === 404) return [] as T[];
        throw err;
      });
    if (kind === 'job') {
      const job = await client.getObject<Job>(ns, 'jobs', name);
      const [pods, events] = await Promise.all([
        optional(client.listJobPods(ns, name)),
        optional(client.listEvents(ns, `job/${name}`)),
      ]);
      ctx.io.stdout.write(describeJob(job, pods, events, ctx.io.now()));
      return EXIT.OK;
    }
    if (kind === 'cronjob') {
      const cronJob = await client.getObject<CronJob>(ns, 'cronjobs', name);
      const [jobs, events] = await Promise.all([
        optional(client.listJobs(ns, `${CRON_JOB_LABEL}=${name}`)),
        optional(client.listEvents(ns, `cronjob/${name}`)),
      ]);
      ctx.io.stdout.write(describeCronJob(cronJob, jobs, events, ctx.io.now()));
      return EXIT.OK;
    }
    const deployment = await client.getDeployment(ns, name);
    const [replicas, events] = await Promise.all([
      optional(client.listReplicas(ns, name)),
      optional(client.listEvents(ns, `deployment/${name}`)),
    ]);
    ctx.io.stdout.write(describeDeployment(deployment, replicas, events, ctx.io.now()));
    return EXIT.OK;
  },
};
