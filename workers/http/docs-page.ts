/**
 * A browsable API reference rendered from the OpenAPI document on the server: no scripts,
 * fonts or CDNs, so it works offline and on every runtime.
 */
export interface OpenApiLike {
  info: { title: string; version: string; description?: string };
  paths?: Record<
    string,
    Record<string, { summary?: string; tags?: string[]; requestBody?: unknown; responses?: unknown }>
  >;
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!,
  );

export function renderDocsPage(doc: OpenApiLike): string {
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? 'Other';
      const body = op.requestBody
        ? `<details><summary>request body schema</summary><pre>${escapeHtml(JSON.stringify(op.requestBody, null, 2))}</pre></details>`
        : '';
      const html = `<section class="op"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3><p>${escapeHtml(op.summary ?? '')}</p>${body}</section>`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const sections = [...byTag.entries()].map(
    ([tag, ops]) => `<h2 id="${escapeHtml(tag)}">${escapeHtml(tag)}</h2>${ops.join('')}`,
  );
  const nav = [...byTag.keys()].map((t) => `<a href="#${escapeHtml(t)}">${escapeHtml(t)}</a>`).join(' · ');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(doc.info.title)} reference</title><style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1b1f24}
code,pre{font-family:ui-monospace,monospace}pre{background:#f4f5f7;padding:.75rem;overflow:auto;font-size:12px}
.op{border-top:1px solid #e3e5e8;padding:.25rem 0}.m{display:inline-block;min-width:4.5em;font-size:12px;color:#fff;padding:2px 6px;border-radius:4px;text-align:center}
.get{background:#2f7d32}.put{background:#9a6700}.post{background:#0969da}.patch{background:#8250df}.delete{background:#cf222e}
h3{font-size:15px;margin:.5rem 0}</style></head><body>
<h1>${escapeHtml(doc.info.title)} <small>${escapeHtml(doc.info.version)}</small></h1><p>${escapeHtml(doc.info.description ?? '')}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Authenticate with <code>Authorization: Bearer &lt;token&gt;</code>.</p>
<nav>${nav}</nav>${sections.join('')}</body></html>`;
}
