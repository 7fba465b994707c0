// The live check of a certificate user's subject line: paste (or choose) the person's client certificate and see
// its subject in RFC 2253 form and whether the typed line names it. The node's own check runs on save (and as a
// dry run while typing, see the Access control page); this one needs no request.
import { button, field, h, readFile, replaceChildren, uniqueId } from './dom.js';
import { comparableCertificateSubject, comparableSubjectLine, parsePem } from './x509.js';

export function subjectCheck(line: HTMLInputElement): HTMLElement {
  const pem = h('textarea', { rows: 4, spellcheck: 'false', placeholder: '-----BEGIN CERTIFICATE----- (the user’s client certificate)' });
  const file = h('input', { type: 'file', accept: '.pem,.crt,.cer', id: uniqueId('file') });
  const result = h('div', { class: 'subject-result', 'aria-live': 'polite' });
  let certificateSubject: string | undefined;
  const check = (): void => {
    replaceChildren(result);
    certificateSubject = undefined;
    if (pem.value.trim() === '') return;
    let leaf;
    try {
      leaf = parsePem(pem.value)[0];
    } catch (error) {
      result.append(h('p', { class: 'text-danger' }, `Cannot read this certificate: ${error instanceof Error ? error.message : String(error)}`));
      return;
    }
    if (!leaf) {
      result.append(h('p', { class: 'text-danger' }, 'No CERTIFICATE block found.'));
      return;
    }
    certificateSubject = leaf.subject;
    const wanted = comparableSubjectLine(line.value);
    const matches = wanted !== undefined && wanted === comparableCertificateSubject(leaf);
    result.append(
      h('p', {}, 'Certificate subject: ', h('code', {}, leaf.subject)),
      line.value.trim() === ''
        ? h('p', { class: 'hint' }, 'Type a subject line, or use the certificate’s subject.')
        : h('p', { class: matches ? 'badge success' : 'badge danger', role: 'status' }, matches ? 'The subject line matches this certificate' : 'The subject line does not match this certificate'),
      button('Use this subject', () => {
        if (certificateSubject) line.value = certificateSubject;
        line.dispatchEvent(new Event('input'));
      }, { class: 'secondary small' }),
    );
  };
  pem.addEventListener('input', check);
  line.addEventListener('input', check);
  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    if (chosen)
      void readFile(chosen).then((text) => {
        pem.value = text;
        check();
      });
  });
  return h(
    'div',
    { class: 'subject-check' },
    field('Check against a certificate (paste PEM)', pem),
    h('div', { class: 'field file' }, h('label', { for: file.id }, 'Certificate file'), file),
    result,
  );
}
