import type { Child, Dom } from './dom.ts';
import type { IngressesData, Route, ServicesData } from './state.ts';
import type { Endpoint, Ingress, Service } from './types.ts';
import type { Views } from './views.ts';

/** The pieces of the other pages these are built from, so every page looks alike. */
export type NetworkParts = Pick<
  Views,
  'table' | 'pageHead' | 'nsPicker' | 'problemBox' | 'badge' | 'liveNote' | 'loading' | 'time' | 'chips'
>;

/**
 * The Services and Ingresses pages of a namespace. Services: type, cluster IP, ports (with the
 * node port where there is one), hosts, and the ready endpoints with their nodes. Fields the
 * server may not send (type, clusterIP, nodePort) are shown when present. Ingresses: hosts and
 * each path → service:port. Both are read by every role, as the API lets them.
 *
 * Self-contained: served to the browser as `${createNetworkPages}` and called by the app.
 */
export function createNetworkPages(dom: Dom, parts: NetworkParts) {
  const { h } = dom;

  /** Service fields that only newer servers send, read without trusting their shape. */
  function extra(s: Service): { type?: string; clusterIP?: string; nodePorts: Map<number, number> } {
    const spec = (s.spec ?? {}) as Record<string, unknown>;
    const nodePorts = new Map<number, number>();
    const ports = Array.isArray(spec.ports) ? spec.ports : [];
    for (const p of ports as Record<string, unknown>[])
      if (typeof p?.port === 'number' && typeof p.nodePort === 'number') nodePorts.set(p.port, p.nodePort);
    return {
      type: typeof spec.type === 'string' ? spec.type : undefined,
      clusterIP: typeof spec.clusterIP === 'string' ? spec.clusterIP : undefined,
      nodePorts,
    };
  }

  function portsText(s: Service, nodePorts: Map<number, number>): string {
    return (s.spec?.ports ?? [])
      .map((p) => {
        const node = p.port === undefined ? undefined : nodePorts.get(p.port);
        const target = p.targetPort ?? p.port;
        return `${p.name ? `${p.name} ` : ''}${p.port}${node ? `:${node}` : ''}/${p.protocol ?? 'TCP'} → ${target}`;
      })
      .join(', ');
  }

  function endpointList(items: Endpoint[] | undefined): Child {
    if (!items) return h('span', { class: 'muted' }, '—');
    if (!items.length) return parts.badge('warn', 'none ready');
    return h(
      'ul',
      { class: 'plain-list', 'aria-label': 'Ready endpoints' },
      items.map((e) =>
        h(
          'li',
          { 'data-key': e.replica ?? '', 'data-endpoint': e.replica ?? '' },
          h('code', null, `${e.address}:${e.port}`),
          h('span', { class: 'muted small' }, ` on ${e.node ?? '?'}`),
        ),
      ),
    );
  }

  function services(
    route: Extract<Route, { view: 'services' }>,
    data: ServicesData | undefined,
  ): HTMLElement {
    const items = data?.items;
    const sub = h(
      'span',
      null,
      parts.liveNote(),
      items ? ` · ${items.length} service${items.length === 1 ? '' : 's'}` : '',
    );
    let body: Child;
    if (data?.error) body = parts.problemBox(data.error, 'Could not load services');
    else if (!items) body = parts.loading();
    else
      body = parts.table(
        'page-title',
        ['Name', 'Type', 'Cluster IP', 'Ports', 'Hosts', 'Ready endpoints', 'Age'],
        [...items]
          .sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)))
          .map((s) => {
            const name = s.metadata?.name ?? '?';
            const more = extra(s);
            const eps = data?.endpoints?.[name];
            return h(
              'tr',
              { 'data-key': name, 'data-name': name },
              h('th', { scope: 'row' }, name),
              h('td', { 'data-field': 'type' }, more.type ?? 'ClusterIP'),
              h('td', { 'data-field': 'cluster-ip' }, more.clusterIP ?? h('span', { class: 'muted' }, '—')),
              h('td', { 'data-field': 'ports' }, portsText(s, more.nodePorts)),
              h(
                'td',
                { 'data-field': 'hosts' },
                (s.spec?.hosts ?? []).length
                  ? (s.spec?.hosts ?? []).join(', ')
                  : h('span', { class: 'muted' }, 'none'),
              ),
              h(
                'td',
                { 'data-field': 'endpoints' },
                eps ? h('span', { class: 'num' }, `${eps.length} `) : null,
                endpointList(eps),
              ),
              h('td', null, parts.time(s.metadata?.createdAt)),
            );
          }),
        `No services in namespace “${route.ns}”. Apply a Service manifest with berth apply -f FILE.`,
        'services',
      );
    return h(
      'div',
      null,
      parts.pageHead('Services', sub, parts.nsPicker('services', route.ns)),
      h('div', { class: 'card card-flush' }, body),
    );
  }

  function rules(i: Ingress): HTMLElement {
    const lines: HTMLElement[] = [];
    for (const rule of i.spec?.rules ?? [])
      for (const p of rule.http?.paths ?? []) {
        const svc = p.backend?.service;
        const port = svc?.port?.number ?? svc?.port?.name ?? '?';
        lines.push(
          h(
            'li',
            { 'data-key': `${rule.host} ${p.pathType} ${p.path}`, 'data-rule': `${rule.host}${p.path}` },
            h('code', null, `${rule.host ?? '*'}${p.path ?? '/'}`),
            h('span', { class: 'muted small' }, ` ${p.pathType === 'Exact' ? 'exact' : 'prefix'} → `),
            h('code', null, `${svc?.name ?? '?'}:${port}`),
          ),
        );
      }
    return h('ul', { class: 'plain-list', 'aria-label': 'Rules' }, lines);
  }

  function ingresses(
    route: Extract<Route, { view: 'ingresses' }>,
    data: IngressesData | undefined,
  ): HTMLElement {
    const items = data?.items;
    const sub = h(
      'span',
      null,
      parts.liveNote(),
      items ? ` · ${items.length} ingress${items.length === 1 ? '' : 'es'}` : '',
    );
    let body: Child;
    if (data?.error) body = parts.problemBox(data.error, 'Could not load ingresses');
    else if (!items) body = parts.loading();
    else
      body = parts.table(
        'page-title',
        ['Name', 'Class', 'Hosts', 'Rules', 'Age'],
        [...items]
          .sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)))
          .map((i) => {
            const name = i.metadata?.name ?? '?';
            const hosts = [...new Set((i.spec?.rules ?? []).map((r) => r.host ?? '*'))];
            return h(
              'tr',
              { 'data-key': name, 'data-name': name },
              h('th', { scope: 'row' }, name),
              h('td', { 'data-field': 'class' }, i.spec?.ingressClassName ?? 'berth'),
              h('td', { 'data-field': 'hosts' }, hosts.join(', ')),
              h('td', { 'data-field': 'rules' }, rules(i)),
              h('td', null, parts.time(i.metadata?.createdAt)),
            );
          }),
        `No ingresses in namespace “${route.ns}”. Apply a networking.k8s.io/v1 Ingress with berth apply -f FILE.`,
        'ingresses',
      );
    return h(
      'div',
      null,
      parts.pageHead('Ingresses', sub, parts.nsPicker('ingresses', route.ns)),
      h('div', { class: 'card card-flush' }, body),
    );
  }

  return { services, ingresses };
}

export type NetworkPages = ReturnType<typeof createNetworkPages>;
