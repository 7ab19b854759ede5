export type Child = Node | string | number | null | undefined | false | Child[];
export type Props = Record<string, string | number | boolean | null | undefined>;

/**
 * A tiny DOM builder and a morph that patches the live page into a freshly built one.
 *
 * The dashboard re-renders from state on every poll; morphing (instead of replacing) keeps the
 * element under keyboard focus, text selections and half-typed inputs intact while numbers
 * change around them. Listeners are never attached to rendered elements (the app delegates from
 * the document), so the morph only has to care about attributes and children.
 *
 * Self-contained: served to the browser as `(${createDom})()`.
 */
export function createDom() {
  /** Inputs the person has typed into: a re-render must not overwrite what they typed. */
  const edited = new WeakSet<Element>();

  function append(el: Node, kids: Child[]): void {
    for (const k of kids) {
      if (k === null || k === undefined || k === false) continue;
      if (Array.isArray(k)) append(el, k);
      else if (typeof k === 'string' || typeof k === 'number')
        el.appendChild(document.createTextNode(String(k)));
      else el.appendChild(k);
    }
  }

  /** `h('a', {href: '/x', class: 'link'}, 'text')`. `null`/`false` props are left out, `true` is a bare attribute. */
  function h(tag: string, props?: Props | null, ...kids: Child[]): HTMLElement {
    const el = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === null || v === undefined || v === false) continue;
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    append(el, kids);
    return el;
  }

  function frag(...kids: Child[]): DocumentFragment {
    const f = document.createDocumentFragment();
    append(f, kids);
    return f;
  }

  function keyOf(n: Node): string | null {
    return n.nodeType === 1 ? (n as Element).getAttribute('data-key') : null;
  }

  function same(a: Node, b: Node): boolean {
    return a.nodeType === b.nodeType && a.nodeName === b.nodeName && keyOf(a) === keyOf(b);
  }

  function patchAttributes(a: Element, b: Element): void {
    // `style` is owned by the app (set through CSSOM after each render, which a strict CSP
    // allows where a style attribute would not be), so the morph leaves it alone.
    for (const attr of Array.from(a.attributes)) {
      if (attr.name !== 'style' && !b.hasAttribute(attr.name)) a.removeAttribute(attr.name);
    }
    for (const attr of Array.from(b.attributes)) {
      if (attr.name !== 'style' && a.getAttribute(attr.name) !== attr.value)
        a.setAttribute(attr.name, attr.value);
    }
    // Form state lives in properties, not attributes: follow the new default only while the
    // person has not touched the field.
    if (a instanceof HTMLInputElement && b instanceof HTMLInputElement && !edited.has(a)) {
      if (a.type === 'checkbox' || a.type === 'radio') a.checked = b.defaultChecked;
      else if (a.value !== b.defaultValue) a.value = b.defaultValue;
    }
  }

  function patchChildren(parent: Node, next: Node): void {
    const want = Array.from(next.childNodes);
    for (let i = 0; i < want.length; i++) {
      const n = want[i]!;
      let cur: ChildNode | null = parent.childNodes[i] ?? null;
      const key = keyOf(n);
      if (key !== null && cur && keyOf(cur) !== key) {
        // A keyed row moved: bring the existing element here instead of rebuilding it.
        for (let j = i + 1; j < parent.childNodes.length; j++) {
          const cand = parent.childNodes[j]!;
          if (keyOf(cand) === key && same(cand, n)) {
            parent.insertBefore(cand, cur);
            cur = cand;
            break;
          }
        }
      }
      if (cur && same(cur, n)) patchNode(cur, n);
      else parent.insertBefore(n, cur);
    }
    while (parent.childNodes.length > want.length) parent.removeChild(parent.lastChild!);
  }

  function patchNode(a: Node, b: Node): void {
    if (a.nodeType === 3 || a.nodeType === 8) {
      if (a.nodeValue !== b.nodeValue) a.nodeValue = b.nodeValue;
      return;
    }
    if (a.nodeType === 1) {
      patchAttributes(a as Element, b as Element);
      // A subtree marked data-static is owned by the browser (e.g. a log view being scrolled).
      if ((a as Element).hasAttribute('data-static') && a.textContent === b.textContent) return;
      patchChildren(a, b);
    }
  }

  /** Makes `target`'s children look like `next`'s, reusing every element it can. */
  function morph(target: Element, next: Node): void {
    patchChildren(target, next);
  }

  return {
    h,
    frag,
    morph,
    markEdited: (el: Element) => edited.add(el),
    clearEdited: (el: Element) => edited.delete(el),
  };
}

export type Dom = ReturnType<typeof createDom>;
