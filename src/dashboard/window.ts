/**
 * Long tables drawn as a window: only the rows near the viewport are real <tr> elements
 * (with aria-rowindex, the table saying aria-rowcount), and two spacer rows stand in for
 * the rest so the scroll bar and the page's height are what the whole table would give.
 * Measured with `npm run bench -- dashboard`: a thousand leases drawn whole cost most of
 * a second of style and layout on every first draw; the window costs what ~100 rows do.
 *
 * The page draws again when the viewport comes near the edge of what was drawn
 * (windowsStale, asked on scroll and after each draw). Filtering stays with the views:
 * they give the window the filtered rows. Tables of at most DRAW_WHOLE rows are drawn
 * whole, as before.
 */
import { h } from './dom.js';

/** Tables with at most this many rows are drawn whole. */
export const DRAW_WHOLE = 150;
/** Rows drawn beyond each edge of the viewport. */
const OVERSCAN = 40;
/** How close (in rows) the viewport may come to the drawn rows' edge before they are drawn again. */
const MARGIN = 10;
/** A row's height until one is measured (px). */
const ESTIMATE_PX = 30;

const windows = new Set<RowWindow>();

/** Whether any window on the page has been scrolled near its edge (or measured rows of another height). */
export function windowsStale(): boolean {
  for (const w of windows) if (w.stale()) return true;
  return false;
}

/** The window of one table (one per table of a view, kept across draws). */
export class RowWindow {
  private tbody: HTMLTableSectionElement | null = null;
  private first = 0;
  private last = 0;
  private count = 0;
  private rowPx = ESTIMATE_PX;
  private measured = false;

  constructor() {
    windows.add(this);
  }

  /**
   * The table body for `count` rows: `draw(i)` makes row i (0-based) for those drawn.
   * `columns`: the table's column count (the spacers span it).
   */
  body(count: number, columns: number, draw: (i: number) => HTMLElement): HTMLTableSectionElement {
    this.count = count;
    [this.first, this.last] = count <= DRAW_WHOLE ? [0, count] : this.around(this.visible());
    const rows: HTMLElement[] = [];
    if (this.first > 0) rows.push(this.spacer(this.first, columns));
    for (let i = this.first; i < this.last; i++) {
      const row = draw(i);
      // Header row is 1: body rows count from 2.
      row.setAttribute('aria-rowindex', String(i + 2));
      rows.push(row);
    }
    if (this.last < count) rows.push(this.spacer(count - this.last, columns));
    this.tbody = h('tbody', { 'data-drawn': `${this.first}-${this.last}` }, rows);
    return this.tbody;
  }

  /** The table's aria-rowcount for `count` body rows (and its header row). */
  static rowCount(count: number): number {
    return count + 1;
  }

  /** Whether the viewport has come near the drawn rows' edge, or rows measure other than assumed. */
  stale(): boolean {
    const body = this.tbody;
    if (body === null || !body.isConnected || this.count <= DRAW_WHOLE) return false;
    if (!this.measured && this.last - this.first >= 10) {
      this.measured = true;
      const rows = [...body.rows].filter((r) => !r.classList.contains('spacer'));
      const px = rows.reduce((sum, r) => sum + r.getBoundingClientRect().height, 0) / rows.length;
      if (Math.abs(px - this.rowPx) > 1) {
        this.rowPx = px;
        return true;
      }
    }
    const [from, to] = this.visible();
    return (from < this.first + MARGIN && this.first > 0) || (to > this.last - MARGIN && this.last < this.count);
  }

  /** The rows in the viewport now: [from, to). Before the table is on the page, the first screenful. */
  private visible(): [number, number] {
    const top = this.tbody?.isConnected === true ? this.tbody.getBoundingClientRect().top : 0;
    const from = Math.max(0, Math.floor(-top / this.rowPx));
    const to = Math.min(this.count, Math.ceil((window.innerHeight - top) / this.rowPx));
    return [Math.min(from, this.count), Math.max(to, 0)];
  }

  /**
   * The rows to draw for the visible ones. After a spacer (the tbody's first child), the
   * first drawn row is odd, so `nth-child(even)` stripes the same rows as a whole table.
   */
  private around([from, to]: [number, number]): [number, number] {
    let first = Math.max(0, from - OVERSCAN);
    if (first > 0 && first % 2 === 0) first--;
    return [first, Math.min(this.count, Math.max(to, first) + OVERSCAN)];
  }

  private spacer(rows: number, columns: number): HTMLElement {
    const td = h('td', { colspan: columns });
    const tr = h('tr', { class: 'spacer', 'aria-hidden': 'true' }, td);
    // Set through the CSSOM (the page's CSP refuses style attributes, not this).
    tr.style.height = `${rows * this.rowPx}px`;
    return tr;
  }
}
