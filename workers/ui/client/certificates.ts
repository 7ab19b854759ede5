import type { CertificateFormat } from './certificate-format.ts';
import type { Child, Dom } from './dom.ts';
import type { CertificatesData, State } from './state.ts';
import type { Certificate } from './types.ts';
import type { Views } from './views.ts';

export interface CertificateKit {
  state: State;
}

/** The pieces of the other pages this is built from, so every page looks alike. */
export type CertificateParts = Pick<
  Views,
  'table' | 'pageHead' | 'problemBox' | 'badge' | 'liveNote' | 'loading'
>;

/**
 * The Certificates page: the certificates the control plane's ingress obtained over ACME for
 * service and ingress hosts (`GET /v1/certificates`), with host, namespace, issuer, not-after,
 * status, failures and the last error. A failing renewal is red in its row with its error, since
 * the old certificate is still served and nothing else on the page would show the trouble before
 * it expires. Every role reads it; the server lists the namespaces the token reads services in.
 *
 * Self-contained: served to the browser as `${createCertificatePage}` and called by the app.
 */
export function createCertificatePage(
  dom: Dom,
  cf: CertificateFormat,
  parts: CertificateParts,
  kit: CertificateKit,
) {
  const { h } = dom;
  const muted = (text: string) => h('span', { class: 'muted' }, text);

  function notAfterCell(c: Certificate): Child {
    const e = cf.expiry(c.notAfter, kit.state.now);
    if (!e || !c.notAfter) return muted('not issued yet');
    return [
      h('time', { datetime: c.notAfter, title: new Date(c.notAfter).toLocaleString() }, e.date),
      h(
        'div',
        { class: `small${e.expired ? ' expired' : ' muted'}`, 'data-field': 'expires-in' },
        e.relative,
      ),
    ];
  }

  function errorCell(c: Certificate, failing: boolean): Child {
    if (!c.lastError) return muted('—');
    const next = failing ? cf.nextAttempt(c.nextAttemptAt, kit.state.now) : undefined;
    return [
      h('span', { 'data-field': 'error-text' }, c.lastError),
      next ? h('div', { class: 'muted small', 'data-field': 'next-attempt' }, `next attempt ${next}`) : null,
    ];
  }

  function row(c: Certificate): HTMLElement {
    const host = c.host ?? '?';
    const s = cf.certificateState(c);
    return h(
      'tr',
      { 'data-key': host, 'data-host': host, class: s.failing ? 'failing' : null },
      h('th', { scope: 'row' }, host),
      h('td', { 'data-field': 'namespace' }, c.namespace ?? '—'),
      h('td', { 'data-field': 'issuer' }, c.issuer ?? muted('—')),
      h('td', { 'data-field': 'not-after' }, notAfterCell(c)),
      h(
        'td',
        { 'data-field': 'status', 'data-state': s.status },
        parts.badge(s.tone, s.status, s.live ? 'badge-live' : undefined),
      ),
      h('td', { class: 'num', 'data-field': 'failures' }, String(c.failures ?? 0)),
      h('td', { class: 'message', 'data-field': 'last-error' }, errorCell(c, s.failing)),
    );
  }

  function page(data: CertificatesData | undefined): HTMLElement {
    const items = data?.items;
    const failing = items?.filter((c) => cf.certificateState(c).failing).length ?? 0;
    const sub = h(
      'span',
      null,
      parts.liveNote(),
      items ? ` · ${items.length} certificate${items.length === 1 ? '' : 's'}` : '',
      failing ? ` · ${failing} failing` : '',
    );
    // A token limited to some namespaces sees only their hosts: say so when there are none.
    const scoped = (kit.state.identity?.namespaces ?? ['*']).includes('*') ? '' : ' in your namespaces';
    let body: Child;
    if (data?.error) body = parts.problemBox(data.error, 'Could not load certificates');
    else if (!items) body = parts.loading();
    else
      body = parts.table(
        'page-title',
        ['Host', 'Namespace', 'Issuer', 'Not after', 'Status', 'Failures', 'Last error'],
        cf.ordered(items).map(row),
        `No certificates${scoped}. A host of a Service or an Ingress gets one when the control plane runs with BERTH_ACME_EMAIL.`,
        'certificates',
      );
    return h('div', null, parts.pageHead('Certificates', sub), h('div', { class: 'card card-flush' }, body));
  }

  return { page };
}

export type CertificatePage = ReturnType<typeof createCertificatePage>;
