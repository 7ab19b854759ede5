import { replicaPhase } from '../common/replica-phase.ts';
import { formatToleration } from './describe-node.ts';
import { formatAge, formatLabels } from './format.ts';
import { sortJobPods } from './job-pods.ts';
import { humanDuration } from './job-view.ts';
import type { Event, Job, Replica } from './resources.ts';
import { type Cell, renderFields, renderTable } from './table.ts';

const RECENT_EVENTS = 15;
/** kubectl caps the completed indexes it prints; the rest is in `get job -o yaml`. */
const INDEXES_WIDTH = 50;

const when = (at: string | undefined, now: Date) => (at ? `${at} (${formatAge(at, now)} ago)` : undefined);

/** "0-2,4,...": the intervals up to the width, cut at an interval, as kubectl does. */
export function capIndexes(indexes: string | undefined): string {
  if (!indexes) return '<none>';
  if (indexes.length <= INDEXES_WIDTH) return indexes;
  const cut = indexes.lastIndexOf(',', INDEXES_WIDTH);
  return `${indexes.slice(0, cut > 0 ? cut : INDEXES_WIDTH)},...`;
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/**
 * `berth describe job NAME`: kubectl's fields for a Job (spec, times, pod counts, completed
 * indexes, the pod template), then its conditions, its pods and its recent events, as `describe
 * deployment` lays them out.
 */
export function describeJob(job: Job, pods: Replica[], events: Event[], now: Date): string {
  const meta = job.metadata ?? {};
  const spec = job.spec ?? {};
  const status = job.status ?? {};
  const indexed = spec.completionMode === 'Indexed';
  const fields: [string, Cell][] = [
    ['Name', meta.name],
    ['Namespace', meta.namespace],
    ['Selector', formatLabels(spec.selector?.matchLabels)],
    ['Labels', formatLabels(meta.labels)],
    ['Annotations', formatLabels(meta.annotations)],
    ['Created', when(meta.createdAt, now)],
    ['Parallelism', spec.parallelism ?? 1],
    ['Completions', spec.completions ?? '<unset>'],
    ['Completion Mode', spec.completionMode ?? 'NonIndexed'],
    ['Suspend', spec.suspend ? 'true' : 'false'],
    ['Backoff Limit', spec.backoffLimit ?? 6],
  ];
  if (spec.activeDeadlineSeconds !== undefined)
    fields.push(['Active Deadline Seconds', `${spec.activeDeadlineSeconds}s`]);
  if (spec.ttlSecondsAfterFinished !== undefined)
    fields.push(['TTL Seconds After Finished', `${spec.ttlSecondsAfterFinished}s`]);
  if (status.startTime) fields.push(['Start Time', when(status.startTime, now)]);
  if (status.completionTime) fields.push(['Completed At', when(status.completionTime, now)]);
  if (status.startTime && status.completionTime)
    fields.push([
      'Duration',
      humanDuration(Date.parse(status.completionTime) - Date.parse(status.startTime)),
    ]);
  fields.push([
    'Pods Statuses',
    `${status.active ?? 0} Active (${status.ready ?? 0} Ready) / ${status.succeeded ?? 0} Succeeded / ${status.failed ?? 0} Failed`,
  ]);
  if (indexed) fields.push(['Completed Indexes', capIndexes(status.completedIndexes)]);

  const out: string[] = [renderFields(fields)];
  const template = spec.template;
  out.push('Pod Template:');
  out.push(`  Labels: ${formatLabels(template?.metadata?.labels)}`);
  out.push(`  Restart Policy: ${template?.spec?.restartPolicy ?? '<none>'}`);
  const nodeSelector = template?.spec?.nodeSelector;
  if (nodeSelector && Object.keys(nodeSelector).length)
    out.push(`  Node selector: ${formatLabels(nodeSelector)}`);
  const tolerations = template?.spec?.tolerations;
  if (tolerations?.length) out.push(`  Tolerations: ${tolerations.map(formatToleration).join(', ')}`);
  out.push('  Containers:');
  for (const c of template?.spec?.containers ?? []) {
    const container: [string, Cell][] = [['Image', c.image]];
    if (c.command?.length) container.push(['Command', c.command.join(' ')]);
    if (c.args?.length) container.push(['Args', c.args.join(' ')]);
    out.push(`   ${c.name}:\n${renderFields(container, '      ').trimEnd()}`);
  }

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
  out.push('Pods:');
  const sorted = sortJobPods(pods);
  out.push(
    sorted.length
      ? indent(
          renderTable(
            ['name', ...(indexed ? ['index'] : []), 'node', 'phase', 'ready', 'restarts', 'age', 'message'],
            sorted.map((p) => [
              p.id,
              ...(indexed ? [p.completionIndex] : []),
              p.node,
              replicaPhase(p),
              p.ready ? 'true' : 'false',
              p.restartCount ?? 0,
              formatAge(p.createdAt, now),
              p.message,
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
