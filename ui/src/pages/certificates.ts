// Certificates: every installed certificate (subject, SANs, issuer, not-after, days left, fingerprint), download
// of a certificate (never a key), delete of the optional ones, and replacing several at once by file or paste
// with PUT /v1/cluster/certificates: all items are validated by the node first, so when any fails nothing
// changes and each item shows its own error beside it.
import { ApiError, del, getOptional, put, describe } from '../api.js';
import { announce, append, button, confirmAction, download, field, formatTime, h, load, notice, readFile, replaceChildren, section, select, uniqueId } from '../dom.js';
import { can } from '../permissions.js';
import type { Page } from '../page.js';
import { CERTIFICATE_NAMES, CERTIFICATE_SPECS, isCertificateName } from '../../../src/domain/certificate-names.js';
import { daysBadge, loadCertificates, thresholdDays, type ClusterDocument, type InstalledCertificate } from '../certificates-data.js';
import { parsePem, remainingText } from '../x509.js';

export const certificatesPage: Page = {
  path: '/certificates',
  title: 'Certificates',
  needs: ['view_cluster_info'],
  render(main) {
    const installed = h('div');
    const reload = (): void =>
      void load(installed, 'certificates', async () => {
        const [certificates, cluster] = await Promise.all([loadCertificates(), getOptional<ClusterDocument>('/v1/cluster')]);
        return { certificates, threshold: thresholdDays(cluster) };
      }, ({ certificates, threshold }) => installedTable(certificates, threshold, reload));
    main.append(section('Installed certificates', installed));
    if (can('update_cluster')) main.append(replaceForm(reload));
    reload();
  },
};

function installedTable(certificates: InstalledCertificate[], threshold: number, reload: () => void): HTMLElement {
  if (certificates.length === 0) return h('p', { class: 'empty' }, 'No certificate is installed.');
  // One card per certificate: subjects, SANs and fingerprints are long, a table column cannot hold them.
  return h('ul', { class: 'cert-list', 'aria-label': 'Installed certificates' }, ...certificates.map((c) => h('li', {}, certificateCard(c, threshold, reload))));
}

function certificateCard(c: InstalledCertificate, threshold: number, reload: () => void): HTMLElement {
  const fact = (term: string, value: string | Node): Node[] => [h('dt', {}, term), h('dd', {}, value)];
  return h(
    'article',
    { class: 'cert-card', 'aria-label': `Certificate ${c.name}`, 'data-name': c.name },
    h(
      'header',
      {},
      h('h3', {}, c.name),
      daysBadge(c.daysLeft, threshold, c.leaf?.notAfter),
      h(
        'div',
        { class: 'row-actions' },
        button('Download', () => download(`${c.name}.pem`, c.pem), { class: 'secondary small', 'aria-label': `Download the ${c.name} certificate` }),
        can('update_cluster') && isCertificateName(c.name) && CERTIFICATE_SPECS[c.name].deletable
          ? button('Delete', () => void deleteCertificate(c.name, reload), { class: 'danger small', 'aria-label': `Delete the ${c.name} certificate` })
          : null,
      ),
    ),
    c.leaf
      ? h(
          'dl',
          { class: 'facts' },
          ...fact('Subject', c.leaf.subject),
          ...fact('SANs', c.leaf.sans.length > 0 ? c.leaf.sans.join(', ') : '—'),
          ...fact('Issuer', `${c.leaf.issuer}${c.chainLength > 1 ? ` (chain of ${c.chainLength})` : ''}`),
          ...fact('Not after', formatTime(c.leaf.notAfter)),
          ...fact('SHA-256', h('code', { class: 'fingerprint' }, c.fingerprint)),
        )
      : h('p', { class: 'text-danger' }, `This certificate cannot be read: ${c.parseError ?? ''}`),
  );
}

async function deleteCertificate(name: string, reload: () => void): Promise<void> {
  const ok = await confirmAction(`Delete ${name}?`, `The ${name} certificate is removed from every node of the cluster. This cannot be undone.`, 'Delete');
  if (!ok) return;
  try {
    await del(`/v1/cluster/certificates/${encodeURIComponent(name)}`);
    announce(`${name} deleted.`);
    reload();
  } catch (error) {
    announce(`Could not delete ${name}: ${describe(error)}`, 'danger');
  }
}

interface ItemControls {
  element: HTMLElement;
  name: HTMLSelectElement;
  certificate: HTMLTextAreaElement;
  key: HTMLTextAreaElement;
  error: HTMLElement;
}

function fileButton(label: string, target: HTMLTextAreaElement, onLoaded: () => void): HTMLElement {
  const input = h('input', { type: 'file', accept: '.pem,.crt,.cer,.key,.txt', id: uniqueId('file'), class: 'file-input' });
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (!file) return;
    void readFile(file).then((text) => {
      target.value = text;
      onLoaded();
    });
  });
  return h('div', { class: 'field file' }, h('label', { for: input.id }, label), input);
}

function certificateItem(onRemove: (item: ItemControls) => void): ItemControls {
  const name = select(CERTIFICATE_NAMES.map((n) => [n, n] as const), 'api', { name: 'name' });
  const certificate = h('textarea', { rows: 5, name: 'certificate', spellcheck: 'false', placeholder: '-----BEGIN CERTIFICATE-----' });
  const key = h('textarea', { rows: 4, name: 'key', spellcheck: 'false', autocomplete: 'off', placeholder: 'PEM private key (leave empty to keep none)' });
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  const error = h('div', { class: 'item-error', 'aria-live': 'polite' });
  const keyField = h('div', {}, field('Private key (PEM)', key), fileButton('Key file', key, () => undefined));
  const updatePreview = (): void => {
    replaceChildren(preview);
    if (certificate.value.trim() === '') return;
    try {
      const chain = parsePem(certificate.value);
      const leaf = chain[0];
      if (!leaf) {
        preview.append(h('p', { class: 'text-warning' }, 'No CERTIFICATE block found.'));
        return;
      }
      preview.append(h('p', { class: 'hint' }, `${leaf.subject} — not after ${formatTime(leaf.notAfter)} (${remainingText(leaf.notAfter)})${chain.length > 1 ? `, chain of ${chain.length}` : ''}`));
    } catch (e) {
      preview.append(h('p', { class: 'text-warning' }, `Cannot read this certificate: ${e instanceof Error ? e.message : String(e)}`));
    }
  };
  const updateKey = (): void => {
    const spec = isCertificateName(name.value) ? CERTIFICATE_SPECS[name.value] : undefined;
    keyField.hidden = spec?.takesKey === false;
  };
  certificate.addEventListener('input', updatePreview);
  name.addEventListener('change', updateKey);
  const element = h(
    'fieldset',
    { class: 'cert-item' },
    h('legend', {}, 'Certificate'),
    error,
    field('Name', name),
    field('Certificate (PEM, leaf first, then its chain)', certificate),
    fileButton('Certificate file', certificate, updatePreview),
    preview,
    keyField,
  );
  const item: ItemControls = { element, name, certificate, key, error };
  element.append(h('div', { class: 'actions' }, button('Remove this item', () => onRemove(item), { class: 'secondary small' })));
  updateKey();
  return item;
}

function replaceForm(reload: () => void): HTMLElement {
  const items: ItemControls[] = [];
  const list = h('div', { class: 'cert-items' });
  const summary = h('div', { 'aria-live': 'polite' });
  const progress = h('progress', { max: 1, value: 0, class: 'upload-progress', 'aria-label': 'Upload progress' });
  const progressText = h('p', { class: 'hint', role: 'status' });
  const progressBox = h('div', {}, progress, progressText);
  progressBox.hidden = true;
  // Sent: the bar fills with the upload; then it turns indeterminate while every node installs the certificates.
  const showProgress = (fraction: number): void => {
    if (fraction < 1) {
      progress.value = fraction;
      progressText.textContent = `Uploading… ${Math.round(fraction * 100)} %`;
    } else {
      progress.removeAttribute('value');
      progressText.textContent = 'Checking and installing on every node…';
    }
  };
  const renumber = (): void =>
    items.forEach((item, i) => {
      const legend = item.element.querySelector('legend');
      if (legend) legend.textContent = `Certificate ${i + 1}`;
    });
  const remove = (item: ItemControls): void => {
    if (items.length === 1) return;
    items.splice(items.indexOf(item), 1);
    item.element.remove();
    renumber();
  };
  const add = (): void => {
    const item = certificateItem(remove);
    items.push(item);
    list.append(item.element);
    renumber();
  };
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Replace certificates');
  const form = h(
    'form',
    { class: 'replace-form', 'aria-label': 'Replace certificates', novalidate: true },
    h('p', { class: 'hint' }, 'All items are checked together: if any item is refused, nothing is changed.'),
    summary,
    list,
    h('div', { class: 'actions' }, button('Add another certificate', add, { class: 'secondary' }), submit),
    progressBox,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const payload = items.map((item) => ({
        name: item.name.value,
        certificate: item.certificate.value.trim(),
        ...(item.key.value.trim() !== '' && !item.key.closest('[hidden]') ? { key: item.key.value.trim() } : {}),
      }));
      items.forEach((item) => replaceChildren(item.error));
      replaceChildren(summary);
      const empty = items.filter((item) => item.certificate.value.trim() === '');
      if (empty.length > 0) {
        empty.forEach((item) => item.error.append(notice('danger', 'Paste a certificate or choose a file.')));
        empty[0]?.certificate.focus();
        return;
      }
      const names = payload.map((p) => p.name).join(', ');
      if (!(await confirmAction('Replace certificates?', `Replace ${names} on every node of the cluster? Clients see the new certificates on their next connection.`, 'Replace'))) return;
      submit.disabled = true;
      progressBox.hidden = false;
      showProgress(0);
      try {
        const result = await put<{ warnings?: string[] } | undefined>('/v1/cluster/certificates', { certificates: payload }, showProgress);
        summary.append(notice('success', `Replaced ${names}.`, ...(result?.warnings ?? []).map((w) => h('p', {}, w))));
        announce(`Replaced ${names}.`);
        items.splice(0).forEach((item) => item.element.remove());
        add();
        reload();
      } catch (error) {
        showItemErrors(error, items, summary);
      } finally {
        submit.disabled = false;
        progressBox.hidden = true;
      }
    })();
  });
  add();
  return section('Replace certificates', form);
}

function showItemErrors(error: unknown, items: ItemControls[], summary: HTMLElement): void {
  const itemErrors = error instanceof ApiError ? error.items : [];
  let placed = 0;
  for (const itemError of itemErrors) {
    for (const item of items.filter((i) => i.name.value === itemError.name)) {
      append(item.error, notice('danger', h('strong', {}, `${itemError.name}: `), `${itemError.description} (${itemError.error_code})`));
      placed += 1;
    }
  }
  const failing = new Set(itemErrors.map((e) => e.name)).size;
  summary.append(
    notice(
      'danger',
      itemErrors.length > 0
        ? `Nothing was changed: ${failing} of ${items.length} ${items.length === 1 ? 'item was' : 'items were'} refused (see beside each item).`
        : `Nothing was changed: ${describe(error)}`,
    ),
  );
  if (placed === 0 && itemErrors.length > 0) summary.append(notice('danger', itemErrors.map((e) => `${e.name}: ${e.description}`).join('; ')));
  items.find((i) => i.error.childElementCount > 0)?.certificate.focus();
}
