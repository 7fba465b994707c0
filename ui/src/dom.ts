// Small DOM helpers: elements built with properties (never innerHTML, so nothing from the API is parsed as
// markup), labelled form fields, tables, loading and error states, the confirmation dialog and the live region.

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined | EventListener>;

let nextId = 0;
export function uniqueId(prefix: string): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** An element; `on…` attributes become listeners, booleans toggle the attribute, the rest are attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** A labelled control: the label's `for` points at the control's id. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLDivElement {
  if (!control.id) control.id = uniqueId('f');
  const hintElement = hint ? h('p', { class: 'hint', id: `${control.id}-hint` }, hint) : null;
  if (hintElement) control.setAttribute('aria-describedby', hintElement.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintElement);
}

export function checkbox(label: string, checked: boolean, attributes: Attributes = {}): { row: HTMLDivElement; input: HTMLInputElement } {
  const input = h('input', { type: 'checkbox', id: uniqueId('c'), ...attributes });
  input.checked = checked;
  return { input, row: h('div', { class: 'field checkbox' }, input, h('label', { for: input.id }, label)) };
}

export function select(options: ReadonlyArray<readonly [string, string]>, value: string, attributes: Attributes = {}): HTMLSelectElement {
  const element = h('select', attributes);
  for (const [optionValue, label] of options) element.append(h('option', { value: optionValue }, label));
  element.value = value;
  return element;
}

export function button(label: string, onClick: (event: Event) => void, attributes: Attributes = {}): HTMLButtonElement {
  return h('button', { type: 'button', ...attributes, onclick: onClick }, label);
}

export interface Column<T> {
  header: string;
  cell: (row: T) => Child;
  className?: string;
}

/** A table that becomes stacked cards at phone width (styles.css uses data-label). */
export function table<T>(caption: string, columns: ReadonlyArray<Column<T>>, rows: readonly T[], empty = 'Nothing to show.'): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  const head = h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c.header)));
  const body = h('tbody');
  for (const row of rows) {
    body.append(h('tr', {}, ...columns.map((c) => h('td', { 'data-label': c.header, class: c.className }, c.cell(row)))));
  }
  return h('div', { class: 'table-wrap' }, h('table', {}, h('caption', { class: 'visually-hidden' }, caption), h('thead', {}, head), body));
}

export function loading(what: string): HTMLElement {
  return h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), `Loading ${what}…`);
}

export function errorBox(message: string, retry?: () => void): HTMLElement {
  return h('div', { class: 'alert danger', role: 'alert' }, h('p', {}, message), retry ? button('Try again', retry, { class: 'secondary' }) : null);
}

export function notice(kind: 'info' | 'success' | 'warning' | 'danger', ...children: Child[]): HTMLElement {
  return h('div', { class: `alert ${kind}`, role: kind === 'danger' ? 'alert' : 'status' }, ...children);
}

/** A section with a heading. */
export function section(title: string, ...children: Child[]): HTMLElement {
  const id = uniqueId('s');
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

/** Loads something into a container: a loading state first, an error with "Try again" on failure. */
export async function load<T>(container: HTMLElement, what: string, fetch: () => Promise<T>, render: (value: T) => Node | Node[]): Promise<void> {
  replaceChildren(container, loading(what));
  container.setAttribute('aria-busy', 'true');
  try {
    const value = await fetch();
    const rendered = render(value);
    replaceChildren(container, ...(Array.isArray(rendered) ? rendered : [rendered]));
  } catch (error) {
    replaceChildren(container, errorBox(`Could not load ${what}: ${error instanceof Error ? error.message : String(error)}`, () => void load(container, what, fetch, render)));
  } finally {
    container.removeAttribute('aria-busy');
  }
}

/** Announces a message to screen readers and shows it as a toast. */
export function announce(message: string, kind: 'success' | 'danger' | 'info' = 'success'): void {
  const region = document.getElementById('toast');
  if (!region) return;
  const toast = h('div', { class: `toast ${kind}` }, message);
  region.append(toast);
  setTimeout(() => toast.remove(), 6000);
}

/** A modal confirmation (native <dialog>: focus is trapped, Escape cancels). Resolves true when confirmed. */
export function confirmAction(title: string, message: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = uniqueId('d');
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId });
    const finish = (result: boolean): void => {
      dialog.close();
      dialog.remove();
      resolve(result);
    };
    const cancel = button('Cancel', () => finish(false), { class: 'secondary' });
    const ok = button(confirmLabel, () => finish(true), { class: 'danger' });
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(false);
    });
    append(dialog, h('h2', { id: titleId }, title), h('p', {}, message), h('div', { class: 'actions' }, cancel, ok));
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** A modal form dialog; `body` builds its content and gets a close function. */
export function openDialog(title: string, body: (close: () => void) => Node[]): void {
  const titleId = uniqueId('d');
  const dialog = h('dialog', { class: 'dialog wide', 'aria-labelledby': titleId });
  const close = (): void => {
    dialog.close();
    dialog.remove();
  };
  dialog.addEventListener('cancel', (event) => {
    event.preventDefault();
    close();
  });
  append(dialog, h('h2', { id: titleId }, title), ...body(close));
  document.body.append(dialog);
  dialog.showModal();
}

export function formatTime(value: string | number | Date | undefined): string {
  if (value === undefined || value === '') return '—';
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** Saves text as a file (a certificate PEM) through a temporary object URL. */
export function download(filename: string, text: string, type = 'application/x-pem-file'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h('a', { href: url, download: filename, class: 'visually-hidden' }, filename);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Reads a chosen file as text. */
export function readFile(file: File): Promise<string> {
  return file.text();
}
