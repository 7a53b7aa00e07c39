/**
 * The chosen service's last lines, with a filter: one element kept from draw to draw and
 * updated in place. The stream can bring many lines a second, and each redraws the page;
 * a pane built anew each time lost the text a reader had selected, and where they had
 * scrolled to. Here a new line is one text node appended, a line past the kept tail one
 * text node removed, and everything else stays the node it was.
 */
import { clock, h } from '../dom.js';
import type { LogLine, ServiceLogs } from '../logs.js';

function lineText(l: LogLine): string {
  return `${clock(l.time)} ${l.stream === 'err' ? '!' : l.stream === 'berth' ? '»' : ' '} ${l.text}\n`;
}

/** The pane of one chosen service, and what it shows. */
interface Pane {
  readonly scope: string;
  readonly name: string;
  readonly section: HTMLElement;
  readonly pre: HTMLElement;
  readonly count: HTMLElement;
  readonly error: HTMLElement;
  /** The lines drawn, in order, one text node each. */
  drawn: LogLine[];
  /** The filter and the array of lines they were drawn from: another of either redraws all. */
  filter: string;
  from: readonly LogLine[];
  /** Where the pane last scrolled itself to, following. */
  scrolledTo: number | null;
}

/** The log pane of the Services view (ViewContext.logs says which service and which lines). */
export class LogPane {
  private pane: Pane | null = null;

  /** The pane, brought up to date; null when no service is chosen. */
  update(logs: ServiceLogs): HTMLElement | null {
    if (logs.scope === null || logs.name === null) return (this.pane = null);
    const pane = this.pane !== null && this.pane.scope === logs.scope && this.pane.name === logs.name ? this.pane : (this.pane = build(logs, logs.scope, logs.name));
    const shown = logs.shown();
    draw(pane, logs, shown);
    pane.count.textContent = `${shown.length} of ${logs.lines.length} lines${logs.loading ? ', reading…' : ''}`;
    pane.error.textContent = logs.error ?? '';
    pane.error.hidden = logs.error === null;
    return pane.section;
  }
}

function build(logs: ServiceLogs, scope: string, name: string): Pane {
  const pre = h('pre', { id: 'log-lines', class: 'logs', tabindex: '0', 'aria-label': `last lines of ${scope}/${name}` });
  const pane: Pane = {
    scope,
    name,
    pre,
    count: h('span', { class: 'muted' }),
    error: h('p', { class: 'refused', role: 'alert', hidden: true }),
    section: h('section', { class: 'logs', 'aria-label': `logs of ${scope}/${name}` }),
    drawn: [],
    filter: logs.filter,
    from: logs.lines,
    scrolledTo: null,
  };
  pre.addEventListener('scroll', () => {
    // Where the pane put it (the bottom, when it was put there; lines may have come since,
    // before this event): still following. Anywhere else the reader chose.
    logs.follow = pre.scrollTop === pane.scrolledTo || pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  });
  // Typing filters these lines in place, at once (the field is this pane's own, so the
  // caret stays put).
  const filter = h('input', { type: 'search', id: 'log-filter', value: logs.filter, placeholder: 'Filter lines', 'aria-label': 'filter the log lines', autocomplete: 'off', oninput: (e: Event) => {
    logs.filter = (e.target as HTMLInputElement).value;
    draw(pane, logs, logs.shown());
    pane.count.textContent = `${pane.drawn.length} of ${logs.lines.length} lines${logs.loading ? ', reading…' : ''}`;
  } });
  pane.section.append(h('h3', {}, `Logs of ${scope}/${name} `, pane.count), filter, pane.error, pre);
  return pane;
}

/** Brings the pane's lines to `shown`: appends and drops at the ends when it can, else draws them all. */
function draw(pane: Pane, logs: ServiceLogs, shown: readonly LogLine[]): void {
  const last = pane.drawn[pane.drawn.length - 1];
  // Lines only ever come at the end and leave from the front (the kept tail), so with the
  // same filter and lines, the drawn lines still shown are a run ending at `last`.
  const at = pane.filter === logs.filter && pane.from === logs.lines && last !== undefined ? shown.lastIndexOf(last) : -1;
  if (at >= 0 && at + 1 <= pane.drawn.length && shown[0] === pane.drawn[pane.drawn.length - at - 1]) {
    const dropped = pane.drawn.length - (at + 1);
    for (let i = 0; i < dropped; i++) pane.pre.firstChild?.remove();
    const added = shown.slice(at + 1);
    if (added.length > 0) pane.pre.append(...added.map((l) => document.createTextNode(lineText(l))));
    if (dropped === 0 && added.length === 0) return;
  } else if (!(pane.drawn.length === 0 && shown.length === 0)) {
    pane.pre.replaceChildren(...shown.map((l) => document.createTextNode(lineText(l))));
  }
  pane.drawn = [...shown];
  pane.filter = logs.filter;
  pane.from = logs.lines;
  // Following keeps the newest line in view; a reader who scrolled up keeps their place.
  // (Again after the draw: a pane drawn for the first time is not in the page yet.)
  const follow = (): void => {
    if (!logs.follow) return;
    pane.pre.scrollTop = pane.pre.scrollHeight;
    pane.scrolledTo = pane.pre.scrollTop;
  };
  follow();
  requestAnimationFrame(follow);
}
