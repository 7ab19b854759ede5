/** The log answer as lines, whichever of the plausible shapes the server sent. */
export function logLines(body: unknown): string[] {
  if (typeof body === 'string') return body.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
  if (Array.isArray(body)) return body.map(String);
  if (body && typeof body === 'object') {
    const b = body as { lines?: unknown; logs?: unknown; containers?: unknown };
    if (Array.isArray(b.lines)) return b.lines.map(String);
    if (typeof b.logs === 'string') return logLines(b.logs);
    if (Array.isArray(b.containers)) {
      const containers = b.containers as { name?: string; lines?: unknown }[];
      return containers.flatMap((c) =>
        logLines(c.lines ?? []).map((l) => (containers.length > 1 ? `[${c.name ?? '?'}] ${l}` : l)),
      );
    }
  }
  return [];
}
