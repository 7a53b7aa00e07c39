/**
 * The scope context every engine call carries: who the call acts for. One engine serves
 * many scopes and projects, so nothing about the caller is bound at construction.
 */
import type { Actor, BerthConfig } from '../types.js';

/** Who a call acts for. Every field is optional; the engine resolves the rest. */
export interface ScopeContext {
  /**
   * The scope (`conductor/ws-7`): a named scope is tied to no directory. Default:
   * `project:` of berth.yaml, else the project directory's name.
   */
  readonly scope?: string;
  /**
   * The caller's working directory, absolute: berth.yaml is looked for from here upward,
   * and a derived scope belongs to the project directory found from here (gc releases it
   * when that directory is gone). Default: the engine's own working directory.
   */
  readonly dir?: string;
  /** berth.yaml to read instead of searching upward from `dir` (absolute, or relative to `dir`). */
  readonly config?: string;
  /**
   * Who the history records as making the call's changes, when that is not this process:
   * the daemon passes its client's pid, user and command line. Default: this process.
   */
  readonly actor?: Actor;
  /**
   * The base port of the sequential strategy for this call, over berth.yaml's `base:`
   * (the CLI's `--base`, else BERTH_BASE_PORT, else BASE_PORT of the caller's environment).
   */
  readonly base?: number;
  /**
   * The directory a named scope is tied to (the CLI's `--dir`): `berth gc` releases the
   * scope once that directory is gone. Absolute. Ignored for derived scopes, which are
   * tied to their project directory anyway.
   */
  readonly scopeDir?: string;
}

/** What a context resolved to. */
export interface ProjectInfo {
  /** The scope calls act for. */
  readonly scope: string;
  /** Whether the scope was named (ScopeContext.scope) rather than derived. */
  readonly explicit: boolean;
  /** The directory the scope is tied to (gc); null for a named scope. */
  readonly directory: string | null;
  /** The project directory: the one holding berth.yaml, else the git root, else `dir`. */
  readonly projectDir: string;
  /** berth.yaml as read and normalised (the empty config when there is none). */
  readonly config: BerthConfig;
}
