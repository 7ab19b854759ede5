import { formatAge, formatLabels } from './format.ts';
import type { Ingress } from './resources.ts';
import { renderFields, renderTable } from './table.ts';

/**
 * `berth describe ingress NAME`: kubectl's layout of the rules, one line per path with its
 * path type and backend (service:port), and the annotations, which Berth keeps as metadata.
 */
export function describeIngress(i: Ingress, now: Date): string {
  const rows: string[][] = [];
  for (const rule of i.spec?.rules ?? []) {
    const paths = rule.http?.paths ?? [];
    paths.forEach((p, n) => {
      const service = p.backend?.service;
      rows.push([
        n === 0 ? (rule.host ?? '*') : '',
        p.path ?? '/',
        p.pathType === 'ImplementationSpecific' ? 'ImplementationSpecific (Prefix)' : (p.pathType ?? ''),
        `${service?.name}:${service?.port?.number ?? service?.port?.name}`,
      ]);
    });
  }
  const annotations = Object.entries(i.metadata?.annotations ?? {});
  const fields = renderFields([
    ['Name', i.metadata?.name],
    ['Namespace', i.metadata?.namespace],
    ['Labels', formatLabels(i.metadata?.labels)],
    ['Ingress Class', i.spec?.ingressClassName ?? 'berth (not set)'],
    [
      'Created',
      i.metadata?.createdAt
        ? `${i.metadata.createdAt} (${formatAge(i.metadata.createdAt, now)} ago)`
        : undefined,
    ],
  ]);
  const table = renderTable(['host', 'path', 'path type', 'backend'], rows)
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`.trimEnd())
    .join('\n');
  const notes = annotations.length ? annotations.map(([k, v]) => `  ${k}: ${v}`).join('\n') : '  <none>';
  return `${fields}Rules:\n${table}\nAnnotations:\n${notes}\n`;
}
