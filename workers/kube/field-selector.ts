import { LabelSelectorError, parseLabelSelector, type Requirement } from '../../common/label-selector.ts';
import type { KubeObject } from './objects.ts';
import type { KubeResource } from './resources.ts';
import { KubeStatusError } from './status.ts';

/**
 * `fieldSelector` (`kubectl get --field-selector`, and what `rollout status`, `wait` and `delete`
 * send: `metadata.name=x`): `field=value`, `field==value`, `field!=value`, comma-separated, all
 * of which must hold. Pure: parsing, the fields each resource is selected by, matching.
 */

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** The fields every resource is selected by, and the few more some are (as Kubernetes serves them). */
const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const MORE_FIELDS: Record<string, string[]> = {
  pods: ['spec.nodeName', 'status.phase'],
  namespaces: ['status.phase'],
  nodes: ['spec.unschedulable'],
};

export function selectableFields(plural: string): string[] {
  return [...COMMON_FIELDS, ...(MORE_FIELDS[plural] ?? [])];
}

export class FieldSelectorError extends Error {}

/** Splits on unescaped commas; `\,` `\=` `\!` `\\` are a value's own characters. */
export function parseFieldSelector(text: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  for (const term of splitUnescaped(text.trim(), ',')) {
    if (term.trim() === '') continue;
    const m = /^([^=!]*?)\s*(!=|==|=)\s*(.*)$/s.exec(term);
    if (!m) throw new FieldSelectorError(`invalid selector: '${text}'; can't understand '${term}'`);
    const field = m[1]!.trim();
    if (field === '') throw new FieldSelectorError(`invalid selector: '${text}'; can't understand '${term}'`);
    out.push({ field, op: m[2] === '!=' ? '!=' : '=', value: unescaped(m[3]!.trim()) });
  }
  return out;
}

function splitUnescaped(text: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      cur += ch + text[++i];
      continue;
    }
    if (ch === sep) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

const unescaped = (v: string) => v.replace(/\\(.)/g, '$1');

/**
 * The requirements of `fieldSelector` for a resource, or a 400 BadRequest worded as Kubernetes
 * words it (`field label not supported: spec.foo`).
 */
export function fieldRequirements(
  resource: KubeResource,
  fieldSelector: string | undefined,
  labelSelector: string | undefined,
): FieldRequirement[] {
  if (!fieldSelector) return [];
  const where = `Unable to find {"${resource.group}" "${resource.version}" "${resource.plural}"} that match label selector "${labelSelector ?? ''}", field selector "${fieldSelector}"`;
  let reqs: FieldRequirement[];
  try {
    reqs = parseFieldSelector(fieldSelector);
  } catch (e) {
    if (e instanceof FieldSelectorError) throw new KubeStatusError('BAD_REQUEST', e.message);
    throw e;
  }
  const known = selectableFields(resource.plural);
  const unknown = reqs.find((r) => !known.includes(r.field));
  if (unknown)
    throw new KubeStatusError('BAD_REQUEST', `${where}: field label not supported: ${unknown.field}`);
  return reqs;
}

/** A field's value on an object, as Kubernetes' field sets give it ('' when unset). */
export function fieldValue(o: KubeObject, field: string): string {
  switch (field) {
    case 'metadata.name':
      return o.metadata.name;
    case 'metadata.namespace':
      return o.metadata.namespace ?? '';
    case 'spec.nodeName':
      return str((o.spec as { nodeName?: unknown } | undefined)?.nodeName);
    case 'spec.unschedulable':
      return String((o.spec as { unschedulable?: unknown } | undefined)?.unschedulable === true);
    case 'status.phase':
      return str((o.status as { phase?: unknown } | undefined)?.phase);
    default:
      return '';
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

export function matchesFields(o: KubeObject, requirements: readonly FieldRequirement[]): boolean {
  return requirements.every((r) => (fieldValue(o, r.field) === r.value) === (r.op === '='));
}

/** The name an equality on `metadata.name` pins, so a read can fetch that one object. */
export function pinnedName(requirements: readonly FieldRequirement[]): string | undefined {
  return requirements.find((r) => r.field === 'metadata.name' && r.op === '=')?.value;
}

/** A `labelSelector`'s requirements, or Kubernetes' 400 (as the list sources word it). */
export function labelRequirements(labelSelector: string | undefined): Requirement[] {
  try {
    return labelSelector ? parseLabelSelector(labelSelector) : [];
  } catch (e) {
    if (e instanceof LabelSelectorError)
      throw new KubeStatusError('BAD_REQUEST', `unable to parse requirement: ${e.message}`);
    throw e;
  }
}
