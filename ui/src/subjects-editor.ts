// The authorized subjects editor (cluster mtls_authorized_subjects and a database's authorized_subjects): one row
// per subject with CN, O, OU (comma-separated), L, ST and C, rows added and removed; value() gives the API shape.
import { button, h, uniqueId } from './dom.js';
import type { AuthorizedSubject } from './certificates-data.js';

export interface SubjectsEditor {
  element: HTMLElement;
  value(): AuthorizedSubject[];
}

const FIELDS = [
  ['CN', 'Common name (CN)'],
  ['O', 'Organization (O)'],
  ['OU', 'Organizational units (OU, comma-separated)'],
  ['L', 'Locality (L)'],
  ['ST', 'State (ST)'],
  ['C', 'Country (C, 2 letters)'],
] as const;

export function subjectsEditor(initial: readonly AuthorizedSubject[], editable: boolean, label = 'Authorized subjects'): SubjectsEditor {
  const rows: Array<{ element: HTMLElement; inputs: Record<string, HTMLInputElement> }> = [];
  const list = h('div', { class: 'subjects' });
  const empty = h('p', { class: 'empty' }, 'No authorized subject.');
  const refresh = (): void => {
    empty.hidden = rows.length > 0;
    rows.forEach((row, i) => {
      const legend = row.element.querySelector('legend');
      if (legend) legend.textContent = `Subject ${i + 1}`;
    });
  };
  const addRow = (subject?: AuthorizedSubject): void => {
    const inputs: Record<string, HTMLInputElement> = {};
    const element = h('fieldset', { class: 'subject-row' }, h('legend', {}, 'Subject'));
    for (const [key, text] of FIELDS) {
      const value = subject ? (key === 'OU' ? (subject.OU ?? []).join(', ') : (subject[key] ?? '')) : '';
      const input = h('input', { type: 'text', id: uniqueId('subj'), value, disabled: !editable, maxlength: key === 'C' ? 2 : 256, required: key === 'CN' });
      inputs[key] = input;
      element.append(h('div', { class: 'field' }, h('label', { for: input.id }, text), input));
    }
    const row = { element, inputs };
    if (editable) {
      element.append(
        button('Remove subject', () => {
          rows.splice(rows.indexOf(row), 1);
          element.remove();
          refresh();
        }, { class: 'secondary small' }),
      );
    }
    rows.push(row);
    list.append(element);
    refresh();
  };
  initial.forEach((s) => addRow(s));
  refresh();
  const element = h('div', { class: 'subjects-editor', role: 'group', 'aria-label': label }, h('h3', {}, label), empty, list, editable ? button('Add subject', () => addRow(), { class: 'secondary small' }) : null);
  return {
    element,
    value: () =>
      rows.map(({ inputs }) => {
        const text = (key: string): string => inputs[key]?.value.trim() ?? '';
        const subject: AuthorizedSubject = { CN: text('CN') };
        if (text('O')) subject.O = text('O');
        const units = text('OU').split(',').map((s) => s.trim()).filter((s) => s !== '');
        if (units.length > 0) subject.OU = units;
        if (text('L')) subject.L = text('L');
        if (text('ST')) subject.ST = text('ST');
        if (text('C')) subject.C = text('C').toUpperCase();
        return subject;
      }),
  };
}
