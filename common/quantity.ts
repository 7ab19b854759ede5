/**
 * Kubernetes resource quantities. CPU is kept in millicores and memory in bytes, so the
 * scheduler can add them as plain integers.
 */

const MEMORY_SUFFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

const MEMORY_RE = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/;
const CPU_RE = /^(\d+(?:\.\d+)?)(m)?$/;

/** "250m" → 250, "1.5" → 1500, 2 → 2000. Returns undefined when not a quantity. */
export function parseCpu(value: string | number): number | undefined {
  if (typeof value === 'number')
    return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  const m = CPU_RE.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  const milli = m[2] === 'm' ? n : n * 1000;
  return Number.isSafeInteger(Math.round(milli)) ? Math.round(milli) : undefined;
}

/** "128Mi" → 134217728, "1G" → 1e9. Returns undefined when not a quantity. */
export function parseMemory(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const m = MEMORY_RE.exec(value);
  if (!m) return undefined;
  const bytes = Math.round(Number(m[1]) * (MEMORY_SUFFIX[m[2] ?? ''] ?? 1));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

export function formatMemory(bytes: number): string {
  for (const [suffix, size] of [
    ['Gi', 1024 ** 3],
    ['Mi', 1024 ** 2],
    ['Ki', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}

export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}
