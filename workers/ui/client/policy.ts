import type { Child, Dom } from './dom.ts';
import type { PolicyData, Route, State } from './state.ts';
import type { NamespacePolicy, PolicySpec } from './types.ts';
import type { Views } from './views.ts';

export interface PolicyKit {
  state: State;
  /** Admins write policies; with no whoami, until the server refuses a save. */
  canEditPolicy(): boolean;
}

/** The pieces of the other pages this one is built from, so every page looks alike. */
export type PolicyParts = Pick<
  Views,
  | 'card'
  | 'pageHead'
  | 'nsPicker'
  | 'problemBox'
  | 'problemErrors'
  | 'badge'
  | 'liveNote'
  | 'loading'
  | 'time'
>;

/**
 * The "Namespace policy" page: the policy in force in the selected namespace (marked when it is
 * the default), for anyone the API lets read it, and for admins a form that writes it back. The
 * form's fields are named after the spec, and a refused save (422) is shown beside the field each
 * `errors[].path` names.
 *
 * Self-contained: served to the browser as `${createPolicyPage}` and called by the app.
 */
export function createPolicyPage(dom: Dom, parts: PolicyParts, kit: PolicyKit) {
  const { h } = dom;

  /**
   * Form fields, and the spec paths whose errors each one shows (the more specific first). Errors
   * no field owns (the checkbox's, the policy's as a whole) go in the notice above the form.
   */
  const FIELDS: { name: string; paths: string[] }[] = [
    { name: 'allowedHostSuffixes', paths: ['spec.allowedHostSuffixes'] },
    { name: 'hostPortsMax', paths: ['spec.hostPorts.max'] },
    { name: 'hostPortsMin', paths: ['spec.hostPorts'] },
    { name: 'quotaReplicas', paths: ['spec.quota.replicas'] },
    { name: 'quotaCpu', paths: ['spec.quota.cpu'] },
    { name: 'quotaMemory', paths: ['spec.quota.memory', 'spec.quota'] },
    { name: 'defaultMemory', paths: ['spec.defaultLimits'] },
  ];

  /** The form field that shows an error at `path`, or undefined for errors about the whole policy. */
  function fieldOf(path: string | undefined): string | undefined {
    if (!path) return undefined;
    const under = (prefix: string) =>
      path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
    return FIELDS.find((f) => f.paths.some(under))?.name;
  }

  const isDefault = (p: NamespacePolicy) => p.metadata?.annotations?.['berth.dev/default'] === 'true';

  /** Reads the form into a spec. The server checks it and names each problem's field. */
  function specFromForm(form: HTMLFormElement): PolicySpec {
    const fd = new FormData(form);
    const text = (k: string) => String(fd.get(k) ?? '').trim();
    // An empty box is no setting; a number box the browser could not read is sent as it is (NaN
    // becomes null in JSON), so the server's message names the field.
    const num = (s: string) => (s === '' ? undefined : Number(s));
    const min = text('hostPortsMin');
    const max = text('hostPortsMax');
    const quota: NonNullable<PolicySpec['quota']> = {};
    if (text('quotaReplicas') !== '') quota.replicas = num(text('quotaReplicas'));
    if (text('quotaCpu') !== '') quota.cpu = text('quotaCpu');
    if (text('quotaMemory') !== '') quota.memory = text('quotaMemory');
    return {
      allowedHostSuffixes: text('allowedHostSuffixes')
        .split(/[\s,]+/)
        .filter(Boolean),
      allowWildcardHosts: fd.get('allowWildcardHosts') !== null,
      ...(min !== '' || max !== '' ? { hostPorts: { min: num(min), max: num(max) } } : {}),
      quota,
      // Empty is an explicit "no default limit" (null), where the default policy has one.
      defaultLimits: { memory: text('defaultMemory') || null },
    };
  }

  // ---- the policy in force ----------------------------------------------------------------

  function none(text: string): HTMLElement {
    return h('span', { class: 'muted' }, text);
  }

  function factsCard(ns: string, p: NamespacePolicy): HTMLElement {
    const spec = p.spec ?? {};
    const suffixes = spec.allowedHostSuffixes ?? [];
    const ports = spec.hostPorts;
    const quota = spec.quota ?? {};
    const limit = spec.defaultLimits?.memory;
    const row = (label: string, field: string, value: Child) => [
      h('dt', null, label),
      h('dd', { 'data-field': field }, value),
    ];
    const quotaValue = (v: string | number | null | undefined) =>
      v === undefined || v === null ? none('no quota') : String(v);
    const own = !isDefault(p);
    return parts.card(
      'policy-title',
      'Policy in force',
      [
        own
          ? null
          : h(
              'p',
              { class: 'notice notice-info', 'data-default': 'true' },
              `Namespace “${ns}” has no policy of its own: these are the defaults every namespace starts with.`,
            ),
        h(
          'dl',
          { class: 'facts' },
          row(
            'Host names',
            'hostSuffixes',
            suffixes.length
              ? h(
                  'ul',
                  { class: 'chips', 'aria-label': 'Host suffixes in force' },
                  suffixes.map((s) => h('li', { class: 'chip' }, s)),
                )
              : none('none: deployers may claim no host names'),
          ),
          row(
            'Wildcard hosts',
            'wildcards',
            spec.allowWildcardHosts ? 'allowed within the suffixes' : none('not allowed'),
          ),
          row(
            'Host ports',
            'hostPorts',
            ports?.min !== undefined && ports.max !== undefined
              ? ports.min === ports.max
                ? String(ports.min)
                : `${ports.min}–${ports.max}`
              : none('none'),
          ),
          row('Replicas quota', 'quotaReplicas', quotaValue(quota.replicas)),
          row('CPU quota', 'quotaCpu', quotaValue(quota.cpu)),
          row('Memory quota', 'quotaMemory', quotaValue(quota.memory)),
          row(
            'Default memory limit',
            'defaultMemory',
            limit === undefined || limit === null ? none('none') : String(limit),
          ),
          own ? row('Updated', 'updated', parts.time(p.metadata?.updatedAt, 'ago')) : null,
        ),
        h(
          'p',
          { class: 'muted small' },
          'Deployers may claim these host names and host ports only; quotas and the default limit bind every workload of the namespace.',
        ),
      ],
      parts.badge(own ? 'ok' : 'neutral', own ? 'Own policy' : 'Default'),
    );
  }

  // ---- the admin's form -------------------------------------------------------------------

  function formCard(ns: string, p: NamespacePolicy): HTMLElement {
    const spec = p.spec ?? {};
    const refusal = kit.state.policyRefusal?.ns === ns ? kit.state.policyRefusal.problem : undefined;
    const errors = refusal?.errors ?? [];
    const errorsOf = (name: string) => errors.filter((e) => fieldOf(e.path) === name);
    const busy = kit.state.pending.has(`policy:${ns}`);
    const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

    function field(
      name: string,
      label: string,
      input: Record<string, string | number | boolean | null>,
      hint?: string,
    ): HTMLElement {
      const mine = errorsOf(name);
      const id = `policy-${name}`;
      const described = [hint ? `${id}-hint` : null, mine.length ? `${id}-error` : null].filter(Boolean);
      return h(
        'div',
        // Keyed, so the notice that a refusal adds above them never shifts a typed value into another field.
        { class: 'field', 'data-field': name, 'data-key': name },
        h('label', { for: id }, label),
        h('input', {
          id,
          name,
          autocomplete: 'off',
          spellcheck: 'false',
          ...input,
          'aria-invalid': mine.length ? 'true' : null,
          'aria-describedby': described.length ? described.join(' ') : null,
        }),
        hint ? h('p', { class: 'field-hint muted small', id: `${id}-hint` }, hint) : null,
        mine.length
          ? h(
              'p',
              { class: 'field-error', id: `${id}-error` },
              mine.map((e) =>
                h('span', null, e.path ? h('code', null, e.path) : null, ': ', e.message ?? ''),
              ),
            )
          : null,
      );
    }

    const unplaced = errors.filter((e) => fieldOf(e.path) === undefined);
    return parts.card(
      'policy-edit-title',
      'Edit policy',
      h(
        'form',
        {
          class: 'policy-form',
          'data-form': 'policy',
          'data-ns': ns,
          // Another namespace's form is another element: what was typed for one never shows in the next.
          'data-key': ns,
          novalidate: true,
        },
        refusal
          ? h(
              'div',
              { class: 'notice notice-error', role: 'alert', id: 'policy-refusal', 'data-key': 'refusal' },
              h('strong', null, `The policy was not saved: ${refusal.title}`),
              refusal.detail ? h('p', null, refusal.detail) : null,
              parts.problemErrors(unplaced),
            )
          : null,
        field(
          'allowedHostSuffixes',
          'Allowed host suffixes',
          { type: 'text', value: (spec.allowedHostSuffixes ?? []).join(', ') },
          'Domains deployers’ Services may claim, each with every name under it; separate with commas.',
        ),
        h(
          'div',
          {
            class: 'field field-check',
            'data-field': 'allowWildcardHosts',
            'data-key': 'allowWildcardHosts',
          },
          h('input', {
            id: 'policy-allowWildcardHosts',
            name: 'allowWildcardHosts',
            type: 'checkbox',
            checked: Boolean(spec.allowWildcardHosts),
          }),
          h(
            'label',
            { for: 'policy-allowWildcardHosts' },
            'Allow wildcard hosts (*.name) within the suffixes',
          ),
        ),
        h(
          'div',
          { class: 'field-row', 'data-key': 'hostPorts' },
          field(
            'hostPortsMin',
            'Host ports from',
            {
              type: 'number',
              min: 1,
              max: 65535,
              step: 1,
              inputmode: 'numeric',
              value: str(spec.hostPorts?.min),
            },
            'Empty: no host ports.',
          ),
          field('hostPortsMax', 'to', {
            type: 'number',
            min: 1,
            max: 65535,
            step: 1,
            inputmode: 'numeric',
            value: str(spec.hostPorts?.max),
          }),
        ),
        h(
          'div',
          { class: 'field-row', 'data-key': 'quota' },
          field(
            'quotaReplicas',
            'Replicas quota',
            { type: 'number', min: 0, step: 1, inputmode: 'numeric', value: str(spec.quota?.replicas) },
            'Empty: no quota.',
          ),
          field('quotaCpu', 'CPU quota', {
            type: 'text',
            value: str(spec.quota?.cpu),
            placeholder: 'e.g. 4',
          }),
          field('quotaMemory', 'Memory quota', {
            type: 'text',
            value: str(spec.quota?.memory),
            placeholder: 'e.g. 8Gi',
          }),
        ),
        field(
          'defaultMemory',
          'Default memory limit',
          { type: 'text', value: str(spec.defaultLimits?.memory), placeholder: 'e.g. 1Gi' },
          'For containers that set neither a memory limit nor a request. Empty: no limit.',
        ),
        h(
          'div',
          { class: 'form-actions', 'data-key': 'actions' },
          h(
            'button',
            { type: 'submit', class: 'btn btn-primary', disabled: busy, 'aria-busy': busy ? 'true' : null },
            busy ? 'Saving…' : 'Save policy',
          ),
          h(
            'span',
            { class: 'muted small' },
            isDefault(p)
              ? 'Saving gives the namespace a policy of its own.'
              : 'Saved with the version shown; a change made meanwhile is not overwritten.',
          ),
        ),
      ),
    );
  }

  // ---- the page -----------------------------------------------------------------------------

  function page(route: Extract<Route, { view: 'policy' }>, data: PolicyData | undefined): HTMLElement {
    const { ns } = route;
    const p = data?.policy;
    const sub = h(
      'span',
      null,
      parts.liveNote(),
      p ? ' · ' : '',
      p ? (isDefault(p) ? 'the default policy' : 'set by an admin') : '',
    );
    let body: Child;
    if (data?.error && !p) body = parts.problemBox(data.error, 'Could not load the policy');
    else if (!p) body = parts.loading();
    else if (kit.canEditPolicy())
      body = h('div', { class: 'grid grid-2 policy-grid' }, factsCard(ns, p), formCard(ns, p));
    else
      body = [
        h(
          'p',
          { class: 'notice notice-info' },
          'Read-only: only an admin token may change a namespace policy.',
        ),
        factsCard(ns, p),
      ];
    return h('div', null, parts.pageHead('Namespace policy', sub, parts.nsPicker('policy', ns)), body);
  }

  return { page, specFromForm, fieldOf };
}

export type PolicyPage = ReturnType<typeof createPolicyPage>;
