/**
 * What a route handler gets and gives: one request, checked for shape, and its reply.
 */
import type { Engine, ScopeContext } from '../engine/index.js';
import type { StackHost } from './stacks.js';

/** One request, as a handler sees it. */
export interface Call {
  readonly engine: Engine;
  /** The caller's scope context from `dir` and `config` (the scope is the route's business). */
  readonly ctx: ScopeContext;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | number | boolean>>;
  readonly body: Readonly<Record<string, unknown>>;
  /** The daemon's version, for documents. */
  readonly version: string;
  /** The daemon's launched stacks; absent in an API made without them (tests of the engine routes). */
  readonly stacks?: StackHost;
}

/** What a handler returns: JSON data, or text with its content type. */
export type Reply = { readonly json: unknown } | { readonly text: string; readonly type: string };
