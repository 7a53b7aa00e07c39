/** What every view draws from. */
import type { Actions } from '../actions.js';
import type { ServiceLogs } from '../logs.js';
import type { Model } from '../model.js';

export interface ViewContext {
  readonly model: Model;
  readonly actions: Actions;
  /** The chosen service's log lines (the Services view). */
  readonly logs: ServiceLogs;
  /** The search box's text, lower case; '' shows everything. */
  readonly filter: string;
  /** Asks the daemon for the services list again (a stack gone sends no event of its own). */
  readonly reloadServices: () => void;
  /** Draws the current view again (after a choice inside it). */
  readonly redraw: () => void;
}

/** Whether any of `fields` contains the filter text. */
export function matches(ctx: ViewContext, ...fields: readonly unknown[]): boolean {
  if (ctx.filter === '') return true;
  return fields.some((f) => f !== null && f !== undefined && String(f).toLowerCase().includes(ctx.filter));
}

/** One view of the page: a tab, and what it draws. */
export interface View {
  readonly id: string;
  readonly title: string;
  /** A count for the tab (conflicts), or null. */
  badge?(ctx: ViewContext): number | null;
  render(ctx: ViewContext): Node;
  /**
   * A part of the view drawn below it and kept from draw to draw, updated in place (the
   * log pane): what a reader selected or scrolled to there survives the stream. Null: none.
   */
  aside?(ctx: ViewContext): Node | null;
}
