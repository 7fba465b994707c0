// Entry point of the Cluster Manager UI: asks the node who is logged in (a session cookie, or a client
// certificate the browser presented), shows the login page or the application shell, and routes between the
// pages on the URL hash (#/certificates), so every page has an address and Back works.
import { ApiError, get, post, setCsrfToken, whenSessionEnds, type Session } from './api.js';
import { append, button, h, loading, replaceChildren } from './dom.js';
import { can, setRole } from './permissions.js';
import { renderLogin } from './login.js';
import type { Page } from './page.js';
import { overviewPage } from './pages/overview.js';
import { certificatesPage } from './pages/certificates.js';
import { securityPage } from './pages/security.js';
import { accessPage } from './pages/access.js';
import { databasesPage } from './pages/databases.js';
import { logsPage } from './pages/logs.js';

const PAGES: readonly Page[] = [overviewPage, certificatesPage, securityPage, accessPage, databasesPage, logsPage];

const app = document.getElementById('app') as HTMLElement;
let session: Session | undefined;

function visiblePages(): Page[] {
  return PAGES.filter((page) => page.needs.length === 0 || page.needs.some((permission) => can(permission)));
}

function currentPath(): string {
  return location.hash.replace(/^#/, '') || '/';
}

function showLogin(message?: { text: string; kind: 'info' | 'danger' }): void {
  session = undefined;
  document.title = 'Log in · certplane Cluster Manager';
  replaceChildren(app, renderLogin(startApp, message));
}

function startApp(current: Session): void {
  session = current;
  setCsrfToken(current.csrf_token);
  setRole(current.role);
  const nav = h('nav', { class: 'nav', 'aria-label': 'Main' });
  const main = h('main', { id: 'main', tabindex: '-1' });
  const logout = button('Log out', () => void logOut(), { class: 'secondary small' });
  const header = h(
    'header',
    { class: 'topbar' },
    h('a', { class: 'brand', href: '#/' }, h('img', { src: 'favicon.svg', alt: '', width: 24, height: 24 }), h('span', {}, 'certplane')),
    h(
      'div',
      { class: 'who' },
      h('span', { class: 'who-name' }, current.name || current.username),
      h('span', { class: 'badge' }, current.role),
      current.login_method === 'certificate' ? h('span', { class: 'badge info', title: 'Logged in with a client certificate' }, 'certificate') : null,
      logout,
    ),
  );
  replaceChildren(app, h('a', { class: 'skip-link', href: '#main' }, 'Skip to content'), header, h('div', { class: 'layout' }, nav, main));
  app.querySelector('.skip-link')?.addEventListener('click', (event) => {
    event.preventDefault();
    main.focus();
  });
  renderRoute(nav, main);
  window.onhashchange = () => renderRoute(nav, main);
}

function renderRoute(nav: HTMLElement, main: HTMLElement): void {
  if (!session) return;
  const pages = visiblePages();
  const path = currentPath();
  const page = pages.find((p) => p.path === path) ?? pages[0];
  const list = h('ul');
  for (const p of pages) {
    const link = h('a', { href: `#${p.path}`, 'aria-current': p === page ? 'page' : undefined }, p.title);
    list.append(h('li', {}, link));
  }
  replaceChildren(nav, list);
  if (!page) {
    replaceChildren(main, h('h1', {}, 'Nothing to show'), h('p', {}, 'Your role has no access to any page of the Cluster Manager.'));
    return;
  }
  document.title = `${page.title} · certplane Cluster Manager`;
  replaceChildren(main, h('h1', {}, page.title));
  const body = h('div', { class: 'page' });
  main.append(body);
  void Promise.resolve(page.render(body)).catch((error: unknown) => {
    append(body, h('div', { class: 'alert danger', role: 'alert' }, error instanceof Error ? error.message : String(error)));
  });
}

async function logOut(): Promise<void> {
  try {
    await post('/ui/api/logout');
  } finally {
    window.onhashchange = null;
    showLogin({ text: 'You have logged out.', kind: 'info' });
  }
}

async function boot(): Promise<void> {
  replaceChildren(app, h('main', { id: 'main' }, loading('the Cluster Manager')));
  whenSessionEnds((reason) => {
    if (session) showLogin({ text: `Your session has ended (${reason}). Please log in again.`, kind: 'info' });
  });
  try {
    startApp(await get<Session>('/ui/api/session'));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      // No session and no certificate is not news; a presented certificate that was refused has its reason.
      if (error.code === 'unauthenticated') showLogin();
      else if (/certificate/.test(error.code)) showLogin({ text: `Your client certificate was not accepted: ${error.message}`, kind: 'danger' });
      else showLogin({ text: error.message, kind: 'danger' });
    } else {
      showLogin({ text: `The node could not be reached: ${error instanceof Error ? error.message : String(error)}`, kind: 'danger' });
    }
  }
}

void boot();
