import type { Child, Dom } from './dom.ts';
import type { Format } from './format.ts';
import type { ConfigMapData, ConfigMapsData, Route, State } from './state.ts';
import type { ConfigMap } from './types.ts';
import type { Views } from './views.ts';

export interface ConfigMapKit {
  state: State;
  href(path: string): string;
}

/** The pieces of the other pages these are built from, so every page looks alike. */
export type ConfigMapParts = Pick<
  Views,
  | 'card'
  | 'table'
  | 'pageHead'
  | 'nsPicker'
  | 'problemBox'
  | 'badge'
  | 'liveNote'
  | 'loading'
  | 'time'
  | 'chips'
>;

/**
 * The ConfigMaps pages: the ConfigMaps of a namespace (name, keys, size, immutable, age) and one
 * ConfigMap's data. Text values are shown as they are; binaryData is listed by key and size, never
 * dumped. Both read only what every role may read (`GET .../configmaps`); Secrets have no page, as
 * their values are write-only.
 *
 * Self-contained: served to the browser as `${createConfigMapPages}` and called by the app.
 */
export function createConfigMapPages(dom: Dom, fmt: Format, parts: ConfigMapParts, kit: ConfigMapKit) {
  const { h } = dom;
  const enc = encodeURIComponent;

  /** Bytes of a text value as stored (UTF-8). */
  function textBytes(s: string): number {
    return new TextEncoder().encode(s).length;
  }

  /** Bytes a base64 value decodes to, without decoding it. */
  function base64Bytes(b64: string): number {
    const s = b64.replace(/\s+/g, '');
    const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
    return Math.max(0, Math.floor((s.length * 3) / 4) - pad);
  }

  function entries(cm: ConfigMap) {
    const data = Object.entries(cm.data ?? {}).map(([k, v]) => ({ key: k, value: String(v), binary: false }));
    const bin = Object.entries(cm.binaryData ?? {}).map(([k, v]) => ({
      key: k,
      value: String(v),
      binary: true,
    }));
    // Byte order, as kubectl prints keys.
    return [...data, ...bin].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  function sizeOf(e: { value: string; binary: boolean }): number {
    return e.binary ? base64Bytes(e.value) : textBytes(e.value);
  }

  function immutableBadge(cm: ConfigMap): HTMLElement {
    return cm.immutable ? parts.badge('warn', 'Immutable') : parts.badge('neutral', 'Mutable');
  }

  // ---- the list ---------------------------------------------------------------------------

  function list(
    route: Extract<Route, { view: 'configmaps' }>,
    data: ConfigMapsData | undefined,
  ): HTMLElement {
    const items = data?.items;
    const sub = h(
      'span',
      null,
      parts.liveNote(),
      items ? ` · ${items.length} ConfigMap${items.length === 1 ? '' : 's'}` : '',
    );
    let body: Child;
    if (data?.error) body = parts.problemBox(data.error, 'Could not load ConfigMaps');
    else if (!items) body = parts.loading();
    else
      body = parts.table(
        'page-title',
        ['Name', 'Keys', 'Size', 'Immutable', 'Age'],
        [...items]
          .sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)))
          .map((cm) => row(route.ns, cm)),
        `No ConfigMaps in namespace “${route.ns}”. Create one with berth create configmap NAME --from-file=FILE.`,
        'configmaps',
      );
    return h(
      'div',
      null,
      parts.pageHead('ConfigMaps', sub, parts.nsPicker('configmaps', route.ns)),
      h('div', { class: 'card card-flush' }, body),
    );
  }

  function row(ns: string, cm: ConfigMap): HTMLElement {
    const name = cm.metadata?.name ?? '?';
    const all = entries(cm);
    const keys = all.map((e) => e.key);
    const shown = keys.slice(0, 6);
    return h(
      'tr',
      { 'data-key': name, 'data-name': name },
      h(
        'th',
        { scope: 'row' },
        h('a', { href: kit.href(`/configmaps/${enc(ns)}/${enc(name)}`), class: 'name-link' }, name),
      ),
      h(
        'td',
        { 'data-field': 'keys' },
        h('span', { class: 'num' }, String(keys.length)),
        shown.length
          ? h('span', { class: 'muted small' }, ` ${shown.join(', ')}${keys.length > 6 ? ', …' : ''}`)
          : null,
      ),
      h('td', { class: 'num', 'data-field': 'size' }, fmt.bytes(all.reduce((n, e) => n + sizeOf(e), 0))),
      h('td', { 'data-field': 'immutable' }, cm.immutable ? 'Yes' : 'No'),
      h('td', null, parts.time(cm.metadata?.createdAt)),
    );
  }

  // ---- one ConfigMap ----------------------------------------------------------------------

  function detail(
    route: Extract<Route, { view: 'configmap' }>,
    data: ConfigMapData | undefined,
  ): HTMLElement {
    const { ns, name } = route;
    const crumbs = h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h(
        'ol',
        null,
        h('li', null, h('a', { href: kit.href(`/configmaps/${enc(ns)}`) }, 'ConfigMaps')),
        h('li', null, h('a', { href: kit.href(`/configmaps/${enc(ns)}`) }, ns)),
        h('li', { 'aria-current': 'page' }, name),
      ),
    );
    const cm = data?.configMap;
    if (!cm) {
      return h(
        'div',
        null,
        parts.pageHead(name, data?.error ? null : parts.liveNote(), null, crumbs),
        data?.error ? parts.problemBox(data.error, 'Could not load this ConfigMap') : parts.loading(),
      );
    }
    const all = entries(cm);
    const text = all.filter((e) => !e.binary);
    const bin = all.filter((e) => e.binary);
    const total = all.reduce((n, e) => n + sizeOf(e), 0);
    const row = (k: string, v: Child, field?: string) => [
      h('dt', null, k),
      h('dd', field ? { 'data-field': field } : null, v),
    ];
    const overview = parts.card(
      'cm-overview-title',
      'Overview',
      h(
        'dl',
        { class: 'facts' },
        row('Namespace', ns),
        row('Keys', `${all.length} (${fmt.bytes(total)})`, 'keys'),
        row('Immutable', immutableBadge(cm), 'immutable'),
        row('Labels', parts.chips(cm.metadata?.labels)),
        row('Version', cm.metadata?.resourceVersion ?? '—'),
        row('Created', parts.time(cm.metadata?.createdAt, 'ago')),
        row('Updated', parts.time(cm.metadata?.updatedAt, 'ago')),
      ),
    );
    const dataCard = parts.card(
      'cm-data-title',
      `Data (${text.length})`,
      text.length
        ? h(
            'dl',
            { class: 'cm-data' },
            text.map((e) => [
              h(
                'dt',
                { 'data-key': `k:${e.key}` },
                h('code', null, e.key),
                h('span', { class: 'muted small' }, ` ${fmt.bytes(sizeOf(e))}`),
              ),
              h(
                'dd',
                { 'data-key': `v:${e.key}` },
                h(
                  'pre',
                  { class: 'cm-value', 'data-value': e.key, tabindex: 0, 'aria-label': `Value of ${e.key}` },
                  e.value,
                ),
              ),
            ]),
          )
        : h('p', { class: 'empty' }, 'No text values.'),
    );
    const binCard = bin.length
      ? parts.card(
          'cm-binary-title',
          `Binary data (${bin.length})`,
          parts.table(
            'cm-binary-title',
            ['Key', 'Size'],
            bin.map((e) =>
              h(
                'tr',
                { 'data-key': e.key, 'data-binary': e.key },
                h('th', { scope: 'row' }, h('code', null, e.key)),
                h('td', { class: 'num' }, fmt.bytes(sizeOf(e))),
              ),
            ),
            '',
            'binary',
          ),
        )
      : null;
    return h(
      'div',
      null,
      parts.pageHead(name, parts.liveNote(), null, crumbs),
      data?.error ? parts.problemBox(data.error, 'Refresh failed') : null,
      overview,
      dataCard,
      binCard,
    );
  }

  return { list, detail };
}

export type ConfigMapPages = ReturnType<typeof createConfigMapPages>;
