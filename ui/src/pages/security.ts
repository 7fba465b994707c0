// Security: mutual TLS (certificate login: on/off, validation type, authorized subjects, the trusted CA), the UI
// session timeout, and OCSP stapling (settings in their documented ranges, the cached status, "test now").
import { ApiError, get, post, put, describe } from '../api.js';
import { announce, button, checkbox, field, formatTime, h, load, notice, readFile, replaceChildren, section, select, uniqueId } from '../dom.js';
import { can } from '../permissions.js';
import type { Page } from '../page.js';
import { loadCertificates, type ClusterDocument } from '../certificates-data.js';
import { subjectsEditor } from '../subjects-editor.js';
import { ocspSummary } from './overview.js';
import { parsePem } from '../x509.js';

export const securityPage: Page = {
  path: '/security',
  title: 'Security',
  needs: ['view_cluster_info', 'view_ocsp_config'],
  render(main) {
    if (can('view_cluster_info')) {
      const mtls = h('div');
      main.append(section('Mutual TLS and certificate login', mtls));
      const reload = (): void =>
        void load(mtls, 'the mutual TLS settings', async () => {
          const [cluster, certificates] = await Promise.all([get<ClusterDocument>('/v1/cluster'), loadCertificates()]);
          return { cluster, trusted: certificates.find((c) => c.name === 'mtls_trusted_ca') };
        }, ({ cluster, trusted }) => mtlsForm(cluster, trusted?.pem, reload));
      reload();
    }
    if (can('view_ocsp_config')) {
      const ocsp = h('div');
      main.append(section('OCSP stapling', ocsp));
      void load(ocsp, 'the OCSP settings', () => get<OcspConfig>('/v1/ocsp'), (config) => ocspForm(config));
    }
  },
};

const VALIDATION_TYPES = [
  ['disabled', 'Disabled — any certificate from the trusted CA'],
  ['san_cn', 'SAN or CN — the certificate names one authorized subject'],
  ['full_subject', 'Full subject — every attribute of an authorized subject matches'],
] as const;

function mtlsForm(cluster: ClusterDocument, trustedPem: string | undefined, reload: () => void): Node[] {
  const editable = can('update_cluster');
  const enabled = checkbox('Log in with a client certificate (mtls_certificate_authentication)', cluster.mtls_certificate_authentication === true, { disabled: !editable });
  const validation = select(VALIDATION_TYPES, cluster.mtls_client_cert_subject_validation_type ?? 'disabled', { disabled: !editable });
  const subjects = subjectsEditor(cluster.mtls_authorized_subjects ?? [], editable);
  const timeout = h('input', { type: 'number', min: 1, max: 1440, step: 1, value: String(cluster.cm_session_timeout_minutes ?? 15), disabled: !editable });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'settings-form', 'aria-label': 'Mutual TLS settings', novalidate: true },
    status,
    enabled.row,
    field('Subject validation', validation),
    subjects.element,
    field('Cluster Manager idle timeout (minutes, 1-1440)', timeout),
    editable ? h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save mutual TLS settings')) : null,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    replaceChildren(status);
    const body = {
      mtls_certificate_authentication: enabled.input.checked,
      mtls_client_cert_subject_validation_type: validation.value,
      mtls_authorized_subjects: subjects.value(),
      cm_session_timeout_minutes: Number(timeout.value),
    };
    put('/v1/cluster', body)
      .then(() => {
        status.append(notice('success', 'Mutual TLS settings saved.'));
        announce('Mutual TLS settings saved.');
      })
      .catch((error: unknown) => status.append(notice('danger', `Not saved: ${describe(error)}`)));
  });
  return [form, trustedCa(trustedPem, editable, reload)];
}

function trustedCa(pem: string | undefined, editable: boolean, reload: () => void): HTMLElement {
  const summary = h('div');
  if (pem) {
    try {
      const chain = parsePem(pem);
      summary.append(h('ul', { class: 'plain' }, ...chain.map((c) => h('li', {}, `${c.subject} — expires ${formatTime(c.notAfter)}${c.isCa ? '' : ' (not a CA)'}`))));
    } catch (error) {
      summary.append(notice('warning', `The installed trusted CA cannot be read: ${describe(error)}`));
    }
  } else {
    summary.append(h('p', { class: 'empty' }, 'No trusted CA (mtls_trusted_ca) is installed: certificate login cannot work until one is.'));
  }
  const box = h('div', { class: 'trusted-ca' }, h('h3', {}, 'Trusted CA (mtls_trusted_ca)'), summary);
  if (!editable) return box;
  const text = h('textarea', { rows: 5, spellcheck: 'false', placeholder: '-----BEGIN CERTIFICATE-----' });
  const file = h('input', { type: 'file', accept: '.pem,.crt,.cer', id: uniqueId('file') });
  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    if (chosen) void readFile(chosen).then((content) => (text.value = content));
  });
  const status = h('div', { 'aria-live': 'polite' });
  const upload = button('Install trusted CA', () => {
    replaceChildren(status);
    put('/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: text.value.trim() }] })
      .then(() => {
        announce('Trusted CA installed.');
        reload();
      })
      .catch((error: unknown) => {
        const items = error instanceof ApiError ? error.items.map((i) => i.description) : [];
        status.append(notice('danger', `Not installed: ${items.length > 0 ? items.join('; ') : describe(error)}`));
      });
  }, { class: 'primary' });
  box.append(field('New trusted CA certificate(s) (PEM)', text), h('div', { class: 'field file' }, h('label', { for: file.id }, 'CA file'), file), status, h('div', { class: 'actions' }, upload));
  return box;
}

interface OcspConfig {
  ocsp_functionality: boolean;
  query_frequency: number;
  recovery_frequency: number;
  recovery_max_tries: number;
  response_timeout: number;
  responder_url: string;
}

// The documented ranges (src/domain/ocsp-settings.ts OCSP_RANGES; the server refuses anything outside them).
const OCSP_FIELDS = [
  ['query_frequency', 'Query frequency (seconds)', 60, 86_400],
  ['recovery_frequency', 'Recovery frequency (seconds)', 60, 86_400],
  ['recovery_max_tries', 'Recovery attempts', 1, 100],
  ['response_timeout', 'Response timeout (seconds)', 1, 60],
] as const;

function ocspForm(config: OcspConfig): Node[] {
  const editable = can('config_ocsp');
  const enabled = checkbox('OCSP stapling on the proxy certificate (ocsp_functionality)', config.ocsp_functionality, { disabled: !editable });
  const inputs = new Map<string, HTMLInputElement>();
  const fields = OCSP_FIELDS.map(([name, label, min, max]) => {
    const input = h('input', { type: 'number', min, max, step: 1, value: String(config[name]), disabled: !editable, name });
    inputs.set(name, input);
    return field(label, input, `${min}-${max}`);
  });
  const responder = h('input', { type: 'text', value: config.responder_url || '(none in the proxy certificate)', readonly: true });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'settings-form', 'aria-label': 'OCSP settings', novalidate: true },
    status,
    enabled.row,
    field('Responder URL (from the proxy certificate)', responder),
    h('div', { class: 'field-grid' }, ...fields),
    editable ? h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save OCSP settings')) : null,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    replaceChildren(status);
    const body: Record<string, unknown> = { ocsp_functionality: enabled.input.checked };
    for (const [name, label, min, max] of OCSP_FIELDS) {
      const value = Number(inputs.get(name)?.value);
      if (!Number.isInteger(value) || value < min || value > max) {
        status.append(notice('danger', `${label} must be a whole number from ${min} to ${max}.`));
        inputs.get(name)?.focus();
        return;
      }
      body[name] = value;
    }
    put('/v1/ocsp', body)
      .then(() => {
        status.append(notice('success', 'OCSP settings saved.'));
        announce('OCSP settings saved.');
      })
      .catch((error: unknown) => status.append(notice('danger', `Not saved: ${describe(error)}`)));
  });
  const nodes: Node[] = [form];
  if (can('view_ocsp_status')) {
    const statusBox = h('div');
    const refresh = (): void => void load(statusBox, 'the OCSP status', () => get<Parameters<typeof ocspSummary>[0]>('/v1/ocsp/status'), (s) => ocspSummary(s));
    const result = h('div', { 'aria-live': 'polite' });
    const test = can('test_ocsp_status')
      ? button('Test now', () => {
          replaceChildren(result, h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Asking the responder…'));
          post<{ cert_status?: string }>('/v1/ocsp/test')
            .then((answer) => {
              replaceChildren(result, notice(answer?.cert_status === 'GOOD' ? 'success' : 'warning', `The responder answered: ${answer?.cert_status ?? 'no status'}`));
              refresh();
            })
            .catch((error: unknown) => replaceChildren(result, notice('danger', `The test failed: ${describe(error)}`)));
        }, { class: 'secondary' })
      : null;
    nodes.push(h('h3', {}, 'Status'), statusBox, result, test ? h('div', { class: 'actions' }, test) : h('span'));
    refresh();
  }
  return nodes;
}
