import { isCollection, isDocument, isSeq, LineCounter, parseAllDocuments } from 'yaml';

/**
 * Where in a manifest file a field the server refused is written, so the workflow's annotation
 * points at that line: the document (counted as the file's non-empty documents are) and the JSON
 * path the server names (`spec.template.spec.containers[0].image`). A path that goes deeper than
 * the file (a field it lacks) points at the deepest part the file has.
 */
export function manifestLine(text: string, documentIndex: number, path: string): number | undefined {
  const lineCounter = new LineCounter();
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text, { lineCounter, uniqueKeys: false });
  } catch {
    return undefined;
  }
  if (!Array.isArray(docs)) return undefined;
  const nonEmpty = docs.filter((d) => isDocument(d) && d.contents !== null && d.toJS() != null);
  // A JSON file may hold its documents as one array.
  const only = nonEmpty.length === 1 ? nonEmpty[0]!.contents : undefined;
  const roots: unknown[] = isSeq(only) ? only.items : nonEmpty.map((d) => d.contents);
  let node: unknown = roots[documentIndex];
  if (node === undefined) return undefined;
  let line = lineOf(node, lineCounter);
  for (const segment of pathSegments(path)) {
    if (!isCollection(node)) break;
    const pair = (node.items as unknown[]).find((item, i) =>
      typeof segment === 'number' ? i === segment : keyOf(item) === segment,
    );
    if (pair === undefined) break;
    const entry = pair as { key?: unknown; value?: unknown };
    const isPair = typeof pair === 'object' && pair !== null && 'key' in entry;
    line = lineOf(isPair ? entry.key : pair, lineCounter) ?? line;
    node = isPair ? entry.value : pair;
  }
  return line;
}

function keyOf(item: unknown): unknown {
  if (typeof item !== 'object' || item === null || !('key' in item)) return undefined;
  const key = (item as { key: unknown }).key;
  return typeof key === 'object' && key !== null && 'value' in key ? (key as { value: unknown }).value : key;
}

function lineOf(node: unknown, counter: LineCounter): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? counter.linePos(range[0]).line : undefined;
}

/** `a.b[0]["c.d"]` → ['a', 'b', 0, 'c.d'] */
export function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g;
  for (const m of path.matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(m[3].replace(/\\(.)/g, '$1'));
  }
  return out;
}
