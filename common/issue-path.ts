import type { z } from 'zod';

/** A zod path as a JSON path: ['spec', 'containers', 0, 'image'] → "spec.containers[0].image". */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const key = String(part);
      out += /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key) ? (out ? `.${key}` : key) : `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

/** One entry per problem; an unknown key is reported at its own path ("spec.foo: unknown field"). */
export function zodIssues(
  error: z.ZodError,
  prefix: readonly PropertyKey[] = [],
): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const issue of error.issues) {
    const base = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: jsonPath([...base, key]), message: 'unknown field' });
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest rather than "invalid input".
      const best = issue.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
      const nested = best.map((i) => ({ path: jsonPath([...base, ...i.path]), message: i.message }));
      out.push(...(nested.length ? nested : [{ path: jsonPath(base), message: issue.message }]));
    } else out.push({ path: jsonPath(base), message: issue.message });
  }
  return out;
}

function depth(issues: readonly { path: readonly PropertyKey[] }[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length));
}
