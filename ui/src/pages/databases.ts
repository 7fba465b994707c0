// Databases: the list, creating one, editing its TLS and client-authentication settings (TLS mode, client
// certificate required, subject validation, authorized subjects, trusted client certificates), deleting one.
import { del, get, post, put, describe } from '../api.js';
import { announce, button, confirmAction, field, h, load, notice, openDialog, replaceChildren, section, select, table } from '../dom.js';
import { can } from '../permissions.js';
import type { Page } from '../page.js';
import type { AuthorizedSubject } from '../certificates-data.js';
import { subjectsEditor } from '../subjects-editor.js';
import { parsePem } from '../x509.js';

interface Bdb {
  uid: number;
  name: string;
  port?: number;
  status?: string;
  memory_size?: number;
  tls_mode?: string;
  enforce_client_authentication?: string;
  client_cert_subject_validation_type?: string;
  authorized_subjects?: AuthorizedSubject[];
  authentication_ssl_client_certs?: Array<{ client_cert: string }>;
}

const TLS_MODES = [
  ['disabled', 'Off'],
  ['enabled', 'TLS for clients'],
  ['replica_ssl', 'TLS between replicas only'],
] as const;
const VALIDATION = [
  ['disabled', 'Disabled'],
  ['san_cn', 'SAN or CN'],
  ['full_subject', 'Full subject'],
] as const;

export const databasesPage: Page = {
  path: '/databases',
  title: 'Databases',
  needs: ['view_all_bdbs_info'],
  render(main) {
    const list = h('div');
    const reload = (): void => void load(list, 'databases', () => get<Bdb[]>('/v1/bdbs'), (bdbs) => bdbTable(bdbs, reload));
    main.append(section('All databases', can('create_bdb') ? button('New database', () => createDialog(reload), { class: 'primary' }) : null, list));
    reload();
  },
};

function statusBadge(status: string | undefined): HTMLElement {
  const kind = status === 'active' ? 'success' : status?.includes('fail') ? 'danger' : 'warning';
  return h('span', { class: `badge ${kind}` }, status ?? 'unknown');
}

function bdbTable(bdbs: Bdb[], reload: () => void): HTMLElement {
  return table('Databases', [
    { header: 'ID', cell: (b) => b.uid },
    { header: 'Name', cell: (b) => h('strong', {}, b.name) },
    { header: 'Port', cell: (b) => b.port ?? '—' },
    { header: 'Status', cell: (b) => statusBadge(b.status) },
    { header: 'Memory', cell: (b) => (b.memory_size ? `${Math.round(b.memory_size / 1048576)} MB` : '—') },
    { header: 'TLS', cell: (b) => h('span', { class: `badge ${b.tls_mode === 'enabled' ? 'success' : ''}` }, b.tls_mode ?? '—') },
    { header: 'Client certificates', cell: (b) => (b.tls_mode === 'enabled' ? (b.enforce_client_authentication === 'enabled' ? 'required' : 'optional') : '—') },
    {
      header: 'Actions',
      cell: (b) =>
        h(
          'div',
          { class: 'row-actions' },
          can('update_bdb') ? button('Edit TLS', () => editDialog(b, reload), { class: 'secondary small', 'aria-label': `Edit TLS of ${b.name}` }) : null,
          can('delete_bdb')
            ? button('Delete', () => {
                void (async () => {
                  if (!(await confirmAction(`Delete ${b.name}?`, `The database ${b.name} is stopped and all its data is removed. This cannot be undone.`, 'Delete database'))) return;
                  try {
                    await del(`/v1/bdbs/${b.uid}`);
                    announce(`${b.name} deleted.`);
                    reload();
                  } catch (error) {
                    announce(`Could not delete ${b.name}: ${describe(error)}`, 'danger');
                  }
                })();
              }, { class: 'danger small', 'aria-label': `Delete ${b.name}` })
            : null,
        ),
    },
  ], bdbs, 'No database yet.');
}

interface TlsControls {
  nodes: Node[];
  value(): Partial<Bdb>;
}

function tlsControls(bdb: Partial<Bdb>): TlsControls {
  const tls = select(TLS_MODES, bdb.tls_mode ?? 'disabled');
  const enforce = select([['enabled', 'Required'], ['disabled', 'Optional']], bdb.enforce_client_authentication ?? 'enabled');
  const validation = select(VALIDATION, bdb.client_cert_subject_validation_type ?? 'disabled');
  const subjects = subjectsEditor(bdb.authorized_subjects ?? [], true);
  const certs = h('textarea', { rows: 5, spellcheck: 'false', placeholder: 'PEM client certificates (one or more); empty: the cluster mtls_trusted_ca' });
  certs.value = (bdb.authentication_ssl_client_certs ?? []).map((c) => c.client_cert.trim()).join('\n');
  const certsInfo = h('div', { class: 'hint', 'aria-live': 'polite' });
  const describeCerts = (): void => {
    replaceChildren(certsInfo);
    try {
      const parsed = parsePem(certs.value);
      if (parsed.length > 0) certsInfo.append(h('ul', { class: 'plain' }, ...parsed.map((c) => h('li', {}, c.subject))));
    } catch (error) {
      certsInfo.append(h('span', { class: 'text-danger' }, `Cannot read: ${describe(error)}`));
    }
  };
  certs.addEventListener('input', describeCerts);
  describeCerts();
  return {
    nodes: [field('TLS', tls), field('Client certificate', enforce), field('Trusted client certificates', certs), certsInfo, field('Subject validation', validation), subjects.element],
    value: () => ({
      tls_mode: tls.value,
      enforce_client_authentication: enforce.value,
      client_cert_subject_validation_type: validation.value,
      authorized_subjects: subjects.value(),
      authentication_ssl_client_certs: (certs.value.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((pem) => ({ client_cert: `${pem}\n` })),
    }),
  };
}

function createDialog(reload: () => void): void {
  openDialog('New database', (close) => {
    const name = h('input', { type: 'text', required: true, autocomplete: 'off', pattern: '[A-Za-z0-9-]+' });
    const memory = h('input', { type: 'number', min: 1, step: 1, value: '100' });
    const port = h('input', { type: 'number', min: 10000, max: 19999, placeholder: 'assigned' });
    const tls = tlsControls({});
    const status = h('div', { 'aria-live': 'polite' });
    const form = h(
      'form',
      { novalidate: true, 'aria-label': 'New database' },
      status,
      field('Name', name),
      field('Memory (MB)', memory),
      field('Port (optional)', port),
      ...tls.nodes,
      h('div', { class: 'actions' }, button('Cancel', close, { class: 'secondary' }), h('button', { type: 'submit', class: 'primary' }, 'Create database')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      replaceChildren(status);
      const body: Record<string, unknown> = { name: name.value.trim(), memory_size: Math.round(Number(memory.value) * 1048576), ...tls.value() };
      if (port.value !== '') body.port = Number(port.value);
      post('/v1/bdbs', body)
        .then(() => {
          announce(`${name.value} created.`);
          close();
          reload();
        })
        .catch((error: unknown) => status.append(notice('danger', describe(error))));
    });
    return [form];
  });
}

function editDialog(bdb: Bdb, reload: () => void): void {
  openDialog(`TLS of ${bdb.name}`, (close) => {
    const tls = tlsControls(bdb);
    const status = h('div', { 'aria-live': 'polite' });
    const form = h(
      'form',
      { novalidate: true, 'aria-label': `TLS of ${bdb.name}` },
      status,
      ...tls.nodes,
      h('div', { class: 'actions' }, button('Cancel', close, { class: 'secondary' }), h('button', { type: 'submit', class: 'primary' }, 'Save')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      replaceChildren(status);
      put(`/v1/bdbs/${bdb.uid}`, tls.value())
        .then(() => {
          announce(`${bdb.name} saved.`);
          close();
          reload();
        })
        .catch((error: unknown) => status.append(notice('danger', describe(error))));
    });
    return [form];
  });
}
