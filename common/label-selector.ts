/**
 * Kubernetes label selectors: `app=web`, `app==web`, `tier!=db`, `env in (a,b)`,
 * `env notin (a)`, `key`, `!key`, combined with commas (all must hold).
 */
export type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'absent'; key: string };

const KEY = '[A-Za-z0-9][-A-Za-z0-9_./]*';
const VALUE = '[A-Za-z0-9_.-]*';
const PATTERNS: [RegExp, (m: RegExpExecArray) => Requirement][] = [
  [new RegExp(`^(${KEY})\\s*(==|=)\\s*(${VALUE})$`), (m) => ({ op: 'eq', key: m[1]!, value: m[3]! })],
  [new RegExp(`^(${KEY})\\s*!=\\s*(${VALUE})$`), (m) => ({ op: 'neq', key: m[1]!, value: m[2]! })],
  [
    new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`),
    (m) => ({
      op: m[2] as 'in' | 'notin',
      key: m[1]!,
      values: m[3]!
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean),
    }),
  ],
  [new RegExp(`^!(${KEY})$`), (m) => ({ op: 'absent', key: m[1]! })],
  [new RegExp(`^(${KEY})$`), (m) => ({ op: 'exists', key: m[1]! })],
];

export class LabelSelectorError extends Error {}

export function parseLabelSelector(text: string): Requirement[] {
  if (text.length > 4096) throw new LabelSelectorError('label selector is too long');
  const parts = splitTopLevel(text);
  return parts.map((part) => {
    for (const [re, build] of PATTERNS) {
      const m = re.exec(part);
      if (m) return build(m);
    }
    throw new LabelSelectorError(`cannot parse label selector requirement "${part}"`);
  });
}

/** Split on commas outside parentheses: `a in (x,y),b=c` is two requirements. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim() || parts.length) parts.push(current.trim());
  return parts.filter((p) => p.length > 0);
}

export function matchesSelector(labels: Record<string, string>, requirements: Requirement[]): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case 'eq':
        return v === r.value;
      case 'neq':
        return v !== r.value;
      case 'in':
        return has && r.values.includes(v!);
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'exists':
        return has;
      default:
        return !has;
    }
  });
}

/** Exact-match requirements, which the database can filter with jsonb containment. */
export function equalityLabels(requirements: Requirement[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of requirements) if (r.op === 'eq') out[r.key] = r.value;
  return out;
}
