import type { Deployment, HostPort, Labels, NamespacePolicySpec, Replica } from './resources.ts';

/** Age as kubectl shows it: 45s, 12m, 5h, 3d. */
export function formatAge(since: string | undefined | null, now: Date): string {
  if (!since) return '<unknown>';
  const ms = now.getTime() - new Date(since).getTime();
  if (!Number.isFinite(ms)) return '<unknown>';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 120 * 60) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function formatLabels(labels: Labels | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

export function deploymentImages(d: Deployment): string {
  return (d.spec?.template?.spec?.containers ?? []).map((c) => c.image).join(',');
}

export function deploymentContainers(d: Deployment): string {
  return (d.spec?.template?.spec?.containers ?? []).map((c) => c.name).join(',');
}

/** "2/3": ready out of desired. */
export function readyOf(d: Deployment): string {
  return `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`;
}

export function formatHostPorts(ports: Replica['hostPorts']): string {
  if (!Array.isArray(ports) || ports.length === 0) return '';
  return ports
    .map((p: number | HostPort) =>
      typeof p === 'number' ? String(p) : `${p.hostPort ?? '?'}->${p.containerPort ?? '?'}`,
    )
    .join(',');
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

/** "30000-30100", or one port; undefined when the policy allows none. */
export function formatPortRange(range: NamespacePolicySpec['hostPorts']): string | undefined {
  if (range?.min === undefined || range.max === undefined) return undefined;
  return range.min === range.max ? String(range.min) : `${range.min}-${range.max}`;
}

/** "replicas=10,cpu=4,memory=8Gi": the quotas a policy sets, undefined when none. */
export function formatQuota(quota: NamespacePolicySpec['quota']): string | undefined {
  const parts = (['replicas', 'cpu', 'memory'] as const)
    .filter((k) => quota?.[k] !== undefined && quota[k] !== null)
    .map((k) => `${k}=${quota?.[k]}`);
  return parts.length ? parts.join(',') : undefined;
}
