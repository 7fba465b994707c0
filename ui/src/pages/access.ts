// Access control: users (password and certificate users; the subject line with a live check against a pasted
// certificate and the node's dry run), the management roles, and Redis ACLs.
import { del, get, post, put, describe } from '../api.js';
import { announce, button, confirmAction, field, h, load, notice, openDialog, replaceChildren, section, select, table } from '../dom.js';
import { can } from '../permissions.js';
import type { Page } from '../page.js';
import { ROLE_NAMES } from '../../../src/domain/rbac.js';
import { subjectCheck } from '../subject-check.js';

interface User {
  uid: number;
  name: string;
  email: string;
  role: string;
  auth_method: string;
  certificate_subject_line?: string;
  status?: string;
}

interface Role {
  uid: number;
  name: string;
  management: string;
}

interface RedisAcl {
  uid: number;
  name: string;
  acl: string;
}

export const accessPage: Page = {
  path: '/access',
  title: 'Access control',
  needs: ['view_all_users_info', 'view_all_roles_info', 'view_all_redis_acls_info'],
  render(main) {
    if (can('view_all_users_info')) {
      const users = h('div');
      const reload = (): void => void load(users, 'users', () => get<User[]>('/v1/users'), (list) => usersTable(list, reload));
      main.append(section('Users', can('create_new_user') ? button('New user', () => userDialog(undefined, reload), { class: 'primary' }) : null, users));
      reload();
    }
    if (can('view_all_roles_info')) {
      const roles = h('div');
      main.append(section('Roles', roles));
      void load(roles, 'roles', () => get<Role[]>('/v1/roles'), (list) =>
        table('Roles', [
          { header: 'ID', cell: (r) => r.uid },
          { header: 'Name', cell: (r) => r.name },
          { header: 'Management', cell: (r) => h('span', { class: 'badge' }, r.management) },
        ], list),
      );
    }
    if (can('view_all_redis_acls_info')) {
      const acls = h('div');
      const reload = (): void => void load(acls, 'Redis ACLs', () => get<RedisAcl[]>('/v1/redis_acls'), (list) => aclTable(list, reload));
      main.append(section('Redis ACLs', acls, can('create_redis_acl') ? aclForm(reload) : null));
      reload();
    }
  },
};

function usersTable(list: User[], reload: () => void): HTMLElement {
  return table('Users', [
    { header: 'Name', cell: (u) => u.name },
    { header: 'E-mail', cell: (u) => u.email || '—', className: 'wrap' },
    { header: 'Role', cell: (u) => h('span', { class: 'badge' }, u.role) },
    { header: 'Login', cell: (u) => (u.auth_method === 'certificate' ? h('span', { class: 'badge info' }, 'certificate') : 'password') },
    { header: 'Subject line', cell: (u) => (u.certificate_subject_line ? h('code', {}, u.certificate_subject_line) : '—'), className: 'wrap' },
    {
      header: 'Actions',
      cell: (u) =>
        h(
          'div',
          { class: 'row-actions' },
          can('update_user') ? button('Edit', () => userDialog(u, reload), { class: 'secondary small', 'aria-label': `Edit ${u.name}` }) : null,
          can('delete_user')
            ? button('Delete', () => {
                void (async () => {
                  if (!(await confirmAction(`Delete ${u.name}?`, `The user ${u.name} (${u.email || u.uid}) can no longer log in. This cannot be undone.`, 'Delete user'))) return;
                  try {
                    await del(`/v1/users/${u.uid}`);
                    announce(`${u.name} deleted.`);
                    reload();
                  } catch (error) {
                    announce(`Could not delete ${u.name}: ${describe(error)}`, 'danger');
                  }
                })();
              }, { class: 'danger small', 'aria-label': `Delete ${u.name}` })
            : null,
        ),
    },
  ], list);
}

/** Create (user undefined) or edit a user. */
function userDialog(user: User | undefined, reload: () => void): void {
  openDialog(user ? `Edit ${user.name}` : 'New user', (close) => {
    const name = h('input', { type: 'text', value: user?.name ?? '', required: true, autocomplete: 'off' });
    const email = h('input', { type: 'email', value: user?.email ?? '', autocomplete: 'off' });
    const role = select(ROLE_NAMES.map((r) => [r, r] as const), user?.role ?? 'db_viewer');
    const method = select([['regular', 'Password'], ['certificate', 'Client certificate']], user?.auth_method ?? 'regular');
    const password = h('input', { type: 'password', autocomplete: 'new-password' });
    const subjectLine = h('input', { type: 'text', value: user?.certificate_subject_line ?? '', placeholder: 'CN=alice,OU=Engineering,O=Acme,C=US', spellcheck: 'false' });
    const dryRun = h('div', { class: 'dry-run', 'aria-live': 'polite' });
    const passwordField = field(user ? 'New password (leave empty to keep it)' : 'Password', password);
    const subjectFields = h('div', {}, field('Certificate subject line (RFC 2253, CN first)', subjectLine), subjectCheck(subjectLine));
    const status = h('div', { 'aria-live': 'polite' });
    const body = (): Record<string, unknown> => {
      const value: Record<string, unknown> = { name: name.value.trim(), role: role.value, auth_method: method.value };
      if (email.value.trim() !== '') value.email = email.value.trim();
      if (method.value === 'certificate') value.certificate_subject_line = subjectLine.value.trim();
      else if (password.value !== '') value.password = password.value;
      return value;
    };
    const path = user ? `/v1/users/${user.uid}` : '/v1/users';
    const send = (dry: boolean): Promise<unknown> => (user ? put(`${path}${dry ? '?dry_run=1' : ''}`, body()) : post(`${path}${dry ? '?dry_run=1' : ''}`, body()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The node's own verdict on the subject line (and the rest), as a dry run that changes nothing.
    subjectLine.addEventListener('input', () => {
      clearTimeout(timer);
      replaceChildren(dryRun);
      if (subjectLine.value.trim() === '' || name.value.trim() === '') return;
      timer = setTimeout(() => {
        send(true)
          .then(() => replaceChildren(dryRun, h('p', { class: 'text-success' }, 'The node accepts this subject line.')))
          .catch((error: unknown) => replaceChildren(dryRun, h('p', { class: 'text-danger' }, `The node refuses it: ${describe(error)}`)));
      }, 400);
    });
    subjectFields.append(dryRun);
    const showMethod = (): void => {
      passwordField.hidden = method.value === 'certificate';
      subjectFields.hidden = method.value !== 'certificate';
    };
    method.addEventListener('change', showMethod);
    showMethod();
    const form = h(
      'form',
      { novalidate: true, 'aria-label': user ? `Edit ${user.name}` : 'New user' },
      status,
      field('Name', name),
      field('E-mail', email),
      field('Role', role),
      field('Login', method),
      passwordField,
      subjectFields,
      h('div', { class: 'actions' }, button('Cancel', close, { class: 'secondary' }), h('button', { type: 'submit', class: 'primary' }, user ? 'Save' : 'Create user')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      replaceChildren(status);
      send(false)
        .then(() => {
          announce(user ? `${name.value} saved.` : `${name.value} created.`);
          close();
          reload();
        })
        .catch((error: unknown) => status.append(notice('danger', describe(error))));
    });
    return [form];
  });
}

function aclTable(list: RedisAcl[], reload: () => void): HTMLElement {
  return table('Redis ACLs', [
    { header: 'ID', cell: (a) => a.uid },
    { header: 'Name', cell: (a) => a.name },
    { header: 'Rules', cell: (a) => h('code', {}, a.acl), className: 'wrap' },
    {
      header: 'Actions',
      cell: (a) =>
        can('delete_redis_acl') && a.uid >= 100
          ? button('Delete', () => {
              void (async () => {
                if (!(await confirmAction(`Delete ${a.name}?`, `The Redis ACL ${a.name} is deleted.`, 'Delete ACL'))) return;
                try {
                  await del(`/v1/redis_acls/${a.uid}`);
                  announce(`${a.name} deleted.`);
                  reload();
                } catch (error) {
                  announce(`Could not delete ${a.name}: ${describe(error)}`, 'danger');
                }
              })();
            }, { class: 'danger small', 'aria-label': `Delete the ACL ${a.name}` })
          : '—',
    },
  ], list);
}

function aclForm(reload: () => void): HTMLElement {
  const name = h('input', { type: 'text', autocomplete: 'off' });
  const acl = h('input', { type: 'text', placeholder: '+@read ~app:*', spellcheck: 'false' });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'inline-form', novalidate: true, 'aria-label': 'New Redis ACL' },
    h('h3', {}, 'New Redis ACL'),
    status,
    field('Name', name),
    field('Rules', acl, 'command, key and channel rules, e.g. +@read ~app:* &chan'),
    h(
      'div',
      { class: 'actions' },
      button('Validate', () => {
        replaceChildren(status);
        post('/v1/redis_acls/validate', { name: name.value.trim(), acl: acl.value.trim() })
          .then(() => status.append(notice('success', 'The rules are valid.')))
          .catch((error: unknown) => status.append(notice('danger', describe(error))));
      }, { class: 'secondary' }),
      h('button', { type: 'submit', class: 'primary' }, 'Create ACL'),
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    replaceChildren(status);
    post('/v1/redis_acls', { name: name.value.trim(), acl: acl.value.trim() })
      .then(() => {
        announce(`${name.value} created.`);
        name.value = '';
        acl.value = '';
        reload();
      })
      .catch((error: unknown) => status.append(notice('danger', describe(error))));
  });
  return form;
}
