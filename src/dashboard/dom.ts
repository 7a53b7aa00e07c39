/**
 * A few lines instead of a UI library: elements from tag, attributes and children, and
 * replacing a container's content. Text always goes in as text nodes (never HTML), so
 * nothing a process or a lease name says can become markup.
 */

type Attr = string | number | boolean | null | undefined | ((event: Event) => void);
/** What an element may contain. */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

function append(parent: Node, child: Child): void {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child as readonly Child[]) append(parent, c);
    return;
  }
  parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
}

function apply(el: Element, attrs: Readonly<Record<string, Attr>>): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
}

/** An HTML element. Attributes named `onX` are listeners for event X. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Readonly<Record<string, Attr>> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** An SVG element (the chart). */
export function svg(tag: string, attrs: Readonly<Record<string, Attr>> = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** Replaces `el`'s children. */
export function fill(el: Element, ...children: Child[]): void {
  const fragment = document.createDocumentFragment();
  append(fragment, children);
  el.replaceChildren(fragment);
}

/** `12:03:04` for an ISO time, in the viewer's zone. */
export function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour12: false });
}

/**
 * Rows kept from one draw to the next: a row whose data did not change is the same
 * element again, so a change to one of a thousand leases builds one row, not a thousand.
 */
export class RowCache {
  private kept = new Map<string, { readonly signature: string; readonly el: HTMLElement }>();
  private drawn = new Map<string, { readonly signature: string; readonly el: HTMLElement }>();

  /** The row for `key`: the kept one when `signature` (its data, as text) is unchanged, else `build()`. */
  row(key: string, signature: string, build: () => HTMLElement): HTMLElement {
    const kept = this.kept.get(key);
    const el = kept !== undefined && kept.signature === signature ? kept.el : build();
    this.drawn.set(key, { signature, el });
    return el;
  }

  /** Ends a draw: rows not drawn this time are forgotten. */
  done(): void {
    this.kept = this.drawn;
    this.drawn = new Map();
  }
}
