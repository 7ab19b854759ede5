import { PatchError } from './strategic-merge.ts';

/**
 * RFC 6902 JSON patch (`application/json-patch+json`), pure: a list of operations (add, remove,
 * replace, move, copy, test) at RFC 6901 pointers, applied in order to a copy; the first that
 * cannot apply fails the whole patch.
 */

type PlainObject = Record<string, unknown>;
const isPlainObject = (v: unknown): v is PlainObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

export function applyJsonPatch(document: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new PatchError('a JSON patch must be a list of operations');
  let doc = structuredClone(document);
  patch.forEach((raw, i) => {
    const op = operation(raw, i);
    doc = applyOne(doc, op, i);
  });
  return doc;
}

function operation(raw: unknown, i: number): Operation {
  if (!isPlainObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string')
    throw new PatchError(`operation ${i}: must be an object with "op" and "path"`);
  if ((raw.op === 'move' || raw.op === 'copy') && typeof raw.from !== 'string')
    throw new PatchError(`operation ${i}: ${raw.op} needs "from"`);
  if (['add', 'replace', 'test'].includes(raw.op) && !('value' in raw))
    throw new PatchError(`operation ${i}: ${raw.op} needs "value"`);
  return raw as unknown as Operation;
}

function pointer(path: string, i: number): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`operation ${i}: path "${path}" must start with "/"`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function get(doc: unknown, tokens: string[], i: number, path: string): unknown {
  let node = doc;
  for (const t of tokens) {
    if (Array.isArray(node)) node = node[index(t, node.length - 1, i, path)];
    else if (isPlainObject(node) && Object.hasOwn(node, t)) node = node[t];
    else throw new PatchError(`operation ${i}: path "${path}" does not exist`);
  }
  return node;
}

function index(token: string, max: number, i: number, path: string): number {
  if (!/^(0|[1-9]\d*)$/.test(token) || Number(token) > max)
    throw new PatchError(`operation ${i}: path "${path}": index "${token}" is out of range`);
  return Number(token);
}

/** The parent of the pointer's last token, and that token. */
function parentOf(doc: unknown, path: string, i: number): { parent: unknown; last: string } {
  const tokens = pointer(path, i);
  const last = tokens.pop();
  if (last === undefined) throw new PatchError(`operation ${i}: the root cannot be the target`);
  return { parent: get(doc, tokens, i, path), last };
}

function add(doc: unknown, path: string, value: unknown, i: number): unknown {
  if (path === '') return value;
  const { parent, last } = parentOf(doc, path, i);
  if (Array.isArray(parent)) {
    const at = last === '-' ? parent.length : index(last, parent.length, i, path);
    parent.splice(at, 0, value);
  } else if (isPlainObject(parent)) parent[last] = value;
  else throw new PatchError(`operation ${i}: the parent of "${path}" is not an object or a list`);
  return doc;
}

function remove(doc: unknown, path: string, i: number): { doc: unknown; removed: unknown } {
  const { parent, last } = parentOf(doc, path, i);
  if (Array.isArray(parent)) {
    const [removed] = parent.splice(index(last, parent.length - 1, i, path), 1);
    return { doc, removed };
  }
  if (isPlainObject(parent) && Object.hasOwn(parent, last)) {
    const removed = parent[last];
    delete parent[last];
    return { doc, removed };
  }
  throw new PatchError(`operation ${i}: path "${path}" does not exist`);
}

function applyOne(doc: unknown, op: Operation, i: number): unknown {
  switch (op.op) {
    case 'add':
      return add(doc, op.path, structuredClone(op.value), i);
    case 'remove':
      return remove(doc, op.path, i).doc;
    case 'replace':
      if (op.path === '') return structuredClone(op.value);
      get(doc, pointer(op.path, i), i, op.path);
      return add(remove(doc, op.path, i).doc, op.path, structuredClone(op.value), i);
    case 'move': {
      const from = op.from as string;
      if (op.path.startsWith(`${from}/`))
        throw new PatchError(`operation ${i}: cannot move "${from}" into itself`);
      const { doc: without, removed } = remove(doc, from, i);
      return add(without, op.path, removed, i);
    }
    case 'copy':
      return add(
        doc,
        op.path,
        structuredClone(get(doc, pointer(op.from as string, i), i, op.from as string)),
        i,
      );
    case 'test': {
      const found = get(doc, pointer(op.path, i), i, op.path);
      if (JSON.stringify(canonical(found)) !== JSON.stringify(canonical(op.value)))
        throw new PatchError(`operation ${i}: test failed: "${op.path}" is not the value given`);
      return doc;
    }
    default:
      throw new PatchError(`operation ${i}: unknown op "${op.op}"`);
  }
}

/** Key order does not make two objects different. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (!isPlainObject(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, canonical(v[k])]),
  );
}
