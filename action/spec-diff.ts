import { stringify } from 'yaml';
import { ApiError, type BerthClient, type NamespacedResource } from '../cli/client.ts';

/**
 * What an apply changed, as the job summary shows it: each object's stored spec read before the
 * apply and after it, as YAML, and the lines that differ (a unified diff with a little context).
 * Secrets are left out (their values are never read back), and so are objects only an admin
 * reads (policies, trust rules).
 */

/** The REST plural of each kind whose spec is read back, and what of it is shown. */
const KINDS: Record<string, { plural: NamespacedResource; shown: (o: Record<string, unknown>) => unknown }> =
  {
    Deployment: { plural: 'deployments', shown: (o) => o.spec },
    Service: { plural: 'services', shown: (o) => o.spec },
    ConfigMap: {
      plural: 'configmaps',
      shown: (o) => ({ data: o.data, binaryData: o.binaryData, immutable: o.immutable }),
    },
    Job: { plural: 'jobs', shown: (o) => o.spec },
    CronJob: { plural: 'cronjobs', shown: (o) => o.spec },
    Ingress: { plural: 'ingresses', shown: (o) => o.spec },
    PersistentVolumeClaim: { plural: 'persistentvolumeclaims', shown: (o) => o.spec },
    ServiceAccount: { plural: 'serviceaccounts', shown: (o) => o.spec },
  };

export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

/** A diff longer than this many lines is cut (the summary stays readable). */
const MAX_DIFF_LINES = 120;
/** Specs longer than this many lines are not compared line by line. */
const MAX_SPEC_LINES = 800;
const CONTEXT = 3;

const key = (o: ObjectRef) => `${o.kind}/${o.namespace}/${o.name}`;

/** The objects of the manifests whose specs are compared (Lists unrolled). */
export function comparableObjects(docs: unknown[], defaultNamespace: string): ObjectRef[] {
  const out: ObjectRef[] = [];
  const visit = (doc: unknown) => {
    if (typeof doc !== 'object' || doc === null) return;
    const d = doc as Record<string, unknown>;
    if (d.kind === 'List' && Array.isArray(d.items)) return d.items.forEach(visit);
    const kind = String(d.kind);
    const metadata = (d.metadata ?? {}) as Record<string, unknown>;
    if (!KINDS[kind] || typeof metadata.name !== 'string') return;
    const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : defaultNamespace;
    out.push({ kind, namespace, name: metadata.name });
  };
  docs.forEach(visit);
  return out;
}

/** Each object's spec as stored now, as YAML; absent (not found, or not readable) is undefined. */
export async function readSpecs(
  client: BerthClient,
  objects: ObjectRef[],
): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  await Promise.all(
    objects.map(async (o) => {
      const kind = KINDS[o.kind]!;
      try {
        const stored = await client.getObject<Record<string, unknown>>(o.namespace, kind.plural, o.name);
        out.set(key(o), stringify(kind.shown(stored) ?? {}, { lineWidth: 0 }));
      } catch (err) {
        if (err instanceof ApiError && (err.status === 404 || err.status === 403)) out.set(key(o), undefined);
        else throw err;
      }
    }),
  );
  return out;
}

/** The summary's section: one diff per object whose spec changed. Empty when none did. */
export function specDiffSection(
  objects: ObjectRef[],
  before: Map<string, string | undefined>,
  after: Map<string, string | undefined>,
): string {
  const parts: string[] = [];
  for (const o of objects) {
    const a = before.get(key(o));
    const b = after.get(key(o));
    if (b === undefined || a === b) continue;
    const diff = unifiedDiff(a ?? '', b);
    parts.push(
      `<details><summary>${o.kind.toLowerCase()}/${o.name} (${o.namespace})${a === undefined ? ': new' : ''}</summary>\n\n\`\`\`diff\n${diff}\n\`\`\`\n\n</details>`,
    );
  }
  return parts.length ? `#### What changed\n\n${parts.join('\n')}\n\n` : '';
}

/** A unified diff of two texts by lines (`-` before, `+` after, three lines of context). */
export function unifiedDiff(before: string, after: string): string {
  const a = before ? before.replace(/\n$/, '').split('\n') : [];
  const b = after.replace(/\n$/, '').split('\n');
  if (a.length > MAX_SPEC_LINES || b.length > MAX_SPEC_LINES)
    return `(the spec has more than ${MAX_SPEC_LINES} lines: not compared line by line)`;
  // Longest common subsequence, from the end, then walked forwards.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: { op: ' ' | '-' | '+'; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ op: ' ', line: a[i]! });
      i++;
      j++;
    } else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      // What went first, then what came instead (as diff prints a change).
      ops.push({ op: '-', line: a[i]! });
      i++;
    } else {
      ops.push({ op: '+', line: b[j]! });
      j++;
    }
  }
  // Keep the changes and CONTEXT lines around each; "..." where lines were left out.
  const keep = ops.map(() => false);
  ops.forEach((o, k) => {
    if (o.op === ' ') return;
    for (let c = Math.max(0, k - CONTEXT); c <= Math.min(ops.length - 1, k + CONTEXT); c++) keep[c] = true;
  });
  const lines: string[] = [];
  let skipped = false;
  ops.forEach((o, k) => {
    if (!keep[k]) {
      skipped = true;
      return;
    }
    if (skipped && lines.length) lines.push('@@ ... @@');
    skipped = false;
    lines.push(`${o.op}${o.line}`);
  });
  if (lines.length > MAX_DIFF_LINES)
    return [...lines.slice(0, MAX_DIFF_LINES), `@@ ${lines.length - MAX_DIFF_LINES} more lines @@`].join(
      '\n',
    );
  return lines.join('\n');
}
