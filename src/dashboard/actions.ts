/**
 * Actions: each goes through the API (the same rules as the CLI), shows its progress
 * until the event stream shows the result, and shows a refusal with berth's own message.
 * Dangerous ones ask first in a modal dialog (keyboard: Tab between buttons, Esc cancels).
 */
import type { Listener } from '../types.js';
import { ApiError, call, type CallOptions } from './api.js';
import { fill, h, type Child } from './dom.js';
import type { Model } from './model.js';

/** How long the page waits for the event stream to confirm an action. */
export const CONFIRM_WAIT_MS = 20_000;

interface Pending {
  readonly label: string;
  readonly done: (model: Model) => boolean;
  readonly started: number;
  readonly note: HTMLElement;
}

/** Runs actions and tracks them until the model shows their result. */
export class Actions {
  private readonly pending = new Set<Pending>();

  constructor(
    private readonly model: Model,
    private readonly status: HTMLElement,
  ) {}

  /** Whether this login may act at all (the server enforces it; the page only stops offering). */
  get allowed(): boolean {
    return this.model.access === 'write';
  }

  /**
   * Calls route `id`; then shows "label…" until `done(model)` holds. Resolves true when the
   * API accepted the call. A refusal is shown with its message.
   */
  async run(label: string, id: string, params: Readonly<Record<string, string | number>>, opts: CallOptions, done: (model: Model) => boolean): Promise<boolean> {
    const note = h('li', { class: 'progress', role: 'status' }, `${label}…`);
    this.status.prepend(note);
    try {
      await call(id, params, opts);
    } catch (error) {
      note.className = 'refused';
      note.setAttribute('role', 'alert');
      fill(note, h('strong', {}, `${label}: refused. `), error instanceof ApiError ? error.message : String(error), ' ', this.dismiss(note));
      return false;
    }
    fill(note, `${label}: accepted, waiting for the event stream…`);
    this.pending.add({ label, done, started: Date.now(), note });
    this.check();
    return true;
  }

  /** Called after every model change: settles the actions whose result has arrived. */
  check(): void {
    for (const p of [...this.pending]) {
      if (p.done(this.model)) {
        this.pending.delete(p);
        p.note.className = 'done';
        fill(p.note, `${p.label}: done.`);
        setTimeout(() => p.note.remove(), 6_000);
      } else if (Date.now() - p.started > CONFIRM_WAIT_MS) {
        this.pending.delete(p);
        p.note.className = 'refused';
        fill(p.note, `${p.label}: the API accepted it, but the event stream has not shown the result after ${CONFIRM_WAIT_MS / 1000} s.`, ' ', this.dismiss(p.note));
      }
    }
  }

  private dismiss(note: HTMLElement): HTMLElement {
    return h('button', { type: 'button', class: 'link', onclick: () => note.remove() }, 'dismiss');
  }
}

/** A modal dialog; resolves with the form's values on confirm, null on cancel or Esc. */
export function ask(title: string, body: Child, confirm: string, fields: readonly { name: string; label: string; value?: string; pattern?: string }[] = [], danger = false): Promise<Record<string, string> | null> {
  return new Promise((resolve) => {
    const inputs = fields.map((f) => h('input', { name: f.name, value: f.value ?? '', required: true, pattern: f.pattern, autocomplete: 'off' }));
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', {}, title),
      h('div', { class: 'dialog-body' }, body),
      fields.map((f, i) => h('label', {}, f.label, ' ', inputs[i]!)),
      h('menu', {}, h('button', { type: 'button', value: 'cancel', class: 'cancel' }, 'Cancel'), h('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : 'primary' }, confirm)),
    );
    const dialog = h('dialog', { 'aria-label': title }, form);
    let answered = false;
    const finish = (value: Record<string, string> | null): void => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    form.querySelector('.cancel')!.addEventListener('click', () => finish(null));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      finish(Object.fromEntries(fields.map((f, i) => [f.name, inputs[i]!.value.trim()])));
    });
    dialog.addEventListener('close', () => finish(null));
    document.body.append(dialog);
    dialog.showModal();
    (inputs[0] ?? form.querySelector<HTMLButtonElement>('.cancel'))!.focus();
  });
}

/** The holder of a port as a person reads it, for a kill's confirmation. */
export function describeHolder(l: Listener): HTMLElement {
  return h(
    'dl',
    { class: 'holder' },
    h('dt', {}, 'port'),
    h('dd', {}, `${l.protocol} ${l.address}:${l.port}`),
    h('dt', {}, 'pid'),
    h('dd', {}, l.pid ?? 'unknown (another user\'s process)'),
    h('dt', {}, 'process'),
    h('dd', {}, l.process ?? '?'),
    h('dt', {}, 'user'),
    h('dd', {}, l.user ?? '?'),
    h('dt', {}, 'command'),
    h('dd', { class: 'command' }, l.command ?? '?'),
    l.container && [h('dt', {}, 'container'), h('dd', {}, `${l.container.name} (${l.container.image})`)],
  );
}
