// The Cluster Manager UI's pages (issue 13 items 3-4) in Debian's Chromium against a real node: every page
// loads for an admin without console errors; replacing certificates with one valid and one invalid item shows
// the API's per-item error beside the failing item and changes nothing; a cluster_viewer sees no upload control
// and no key; axe-core finds no serious or critical violation; a phone-width viewport has no horizontal
// overflow; the login form and the navigation work with the keyboard alone; certificate login opens the app and a
// refused certificate is explained on the login page; a session that ends brings the login page back.
// With CERTPLANE_UI_SCREENSHOTS=1 it also saves a 1280 px screenshot of every page to docs/screenshots/.
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createCa, issueCertificate, selfSigned, type TestCertificate } from '../helpers/pki.js';
import { createTestUser, type TestUser } from '../helpers/test-users.js';
import { apiRequest, type Credentials } from '../helpers/api-client.js';

const PAGES = [
  { path: '/', title: 'Overview', shot: 'overview' },
  { path: '/certificates', title: 'Certificates', shot: 'certificates' },
  { path: '/security', title: 'Security', shot: 'security' },
  { path: '/access', title: 'Access control', shot: 'access-control' },
  { path: '/databases', title: 'Databases', shot: 'databases' },
  { path: '/logs', title: 'Logs', shot: 'logs' },
] as const;
const SCREENSHOTS = process.env.CERTPLANE_UI_SCREENSHOTS === '1';
const DAY = 86_400_000;

let node: TestNode;
let browser: TestBrowser;
let viewer: TestUser;
let valid: TestCertificate;
let expired: TestCertificate;
let axeSource: string;

/** Requests the pages make that may fail by design: the session probe before login, alerts a node may lack. */
function expectedFailure(url: string, status: number): boolean {
  return (status === 401 && url.endsWith('/ui/api/session')) || (status === 404 && url.endsWith('/v1/cluster/alerts'));
}

interface Watched {
  context: BrowserContext;
  page: Page;
  problems: string[];
}

async function openPage(width = 1280, height = 900): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400 && !expectedFailure(response.url(), response.status())) problems.push(`HTTP ${response.status()} ${response.request().method()} ${response.url()}`);
  });
  return { context, page, problems };
}

const base = (): string => `https://${node.address}:${node.cmPort}/`;

async function logIn(page: Page, who: Credentials): Promise<void> {
  await page.goto(base());
  await page.getByLabel('E-mail or user name').fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** Opens a page of the app and waits until nothing on it is loading any more. */
async function visit(page: Page, route: string, title: string): Promise<void> {
  await page.goto(`${base()}#${route}`);
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  // Locator counts, not waitForFunction: the page's CSP (no unsafe-eval) refuses Playwright's string predicates.
  await expect.poll(() => page.locator('[aria-busy], .loading').count(), { timeout: 30_000 }).toBe(0);
}

beforeAll(async () => {
  browser = await launchBrowser(); // fails loudly, saying why, when Chromium is missing
  node = await startTestNode();
  [viewer, valid, expired, axeSource] = await Promise.all([
    createTestUser(node, 'cluster_viewer', 'ui_viewer'),
    selfSigned({ cn: 'api.ui-test.example', sans: ['DNS:api.ui-test.example'], freshKey: true }),
    selfSigned({ cn: 'expired.ui-test.example', notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY), freshKey: true }),
    readFile(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8'),
  ]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await node?.destroy();
});

describe('Cluster Manager UI pages', () => {
  it('every page loads for an admin without console errors or failed requests', async () => {
    const { context, page, problems } = await openPage();
    try {
      await logIn(page, node.admin);
      for (const { path: route, title } of PAGES) {
        await visit(page, route, title);
        expect(await page.locator('.alert.danger').count(), `${title}: an error is shown`).toBe(0);
      }
      // The overview shows the node; the certificates page every autogenerated certificate with its fingerprint.
      await visit(page, '/', 'Overview');
      await expect.poll(() => page.getByRole('cell', { name: node.address }).count()).toBeGreaterThan(0);
      await visit(page, '/certificates', 'Certificates');
      // What the browser's own DER reader shows is what Node's X509Certificate reads from the same PEM.
      const installed = await apiRequest(node.port, { path: '/v1/cluster/certificates', auth: node.admin });
      for (const name of ['api', 'cm', 'proxy', 'syncer', 'metrics_exporter', 'ccs_internode_encryption']) {
        const x509 = new X509Certificate(installed.json[`${name}_cert`]);
        const card = page.locator(`article[data-name="${name}"]`);
        await expect.poll(() => card.locator('.fingerprint').textContent()).toBe(x509.fingerprint256);
        const text = (await card.textContent()) ?? '';
        for (const san of (x509.subjectAltName ?? '').split(', ').map((entry) => entry.replace('IP Address:', 'IP:'))) expect(text).toContain(san);
        expect(text).toContain(`Not after${new Date(x509.validTo).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`);
        expect(text).toContain(`Subject${x509.subject.split('\n').reverse().join(',')}`);
      }
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('one valid and one invalid item: the error is shown beside the invalid item and nothing changes', async () => {
    const { context, page, problems } = await openPage();
    try {
      await logIn(page, node.admin);
      await visit(page, '/certificates', 'Certificates');
      const form = page.getByRole('form', { name: 'Replace certificates' });
      const items = form.locator('fieldset.cert-item');
      await items.nth(0).getByLabel('Name').selectOption('api');
      await items.nth(0).getByLabel('Certificate (PEM', { exact: false }).fill(valid.certificate);
      await items.nth(0).getByLabel('Private key (PEM)').fill(valid.key);
      await form.getByRole('button', { name: 'Add another certificate' }).click();
      await items.nth(1).getByLabel('Name').selectOption('proxy');
      // A file upload for the second item, as a person would choose it.
      await items.nth(1).getByLabel('Certificate file').setInputFiles({ name: 'proxy.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(expired.certificate) });
      await expect.poll(() => items.nth(1).getByLabel('Certificate (PEM', { exact: false }).inputValue()).toContain('BEGIN CERTIFICATE');
      await items.nth(1).getByLabel('Private key (PEM)').fill(expired.key);
      await expectNoChange(node, async () => {
        await form.getByRole('button', { name: 'Replace certificates' }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Replace' }).click();
        await items.nth(1).locator('.item-error .alert').waitFor();
      });
      await expect.poll(() => items.nth(1).locator('.item-error').textContent()).toMatch(/proxy: .*expired.*\(certificate_expired\)/i);
      expect(await items.nth(0).locator('.item-error .alert').count()).toBe(0);
      expect(await form.locator('.alert.danger').first().textContent()).toMatch(/Nothing was changed: 1 of 2 items were refused/);
      // The installed api certificate is still the node's own.
      expect(await page.locator('article[data-name="api"]').textContent()).not.toContain('api.ui-test.example');

      // Without the invalid item the same submission goes through, and the new api certificate is listed.
      await items.nth(1).getByRole('button', { name: 'Remove this item' }).click();
      await form.getByRole('button', { name: 'Replace certificates' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Replace' }).click();
      await form.locator('.alert.success').waitFor({ timeout: 60_000 });
      await expect.poll(() => page.locator('article[data-name="api"]').textContent(), { timeout: 30_000 }).toContain('CN=api.ui-test.example');
      expect(problems.filter((p) => !/HTTP 40[06] PUT .*\/v1\/cluster\/certificates/.test(p))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a cluster_viewer sees no upload or delete controls and no private key', async () => {
    const { context, page, problems } = await openPage();
    try {
      await logIn(page, viewer);
      await visit(page, '/certificates', 'Certificates');
      await page.locator('article[data-name="api"]').waitFor();
      expect(await page.getByRole('form', { name: 'Replace certificates' }).count()).toBe(0);
      expect(await page.locator('input[type="file"], textarea').count()).toBe(0);
      expect(await page.getByRole('button', { name: /Delete/ }).count()).toBe(0);
      expect(await page.getByRole('button', { name: /Download/ }).count()).toBeGreaterThan(0);
      expect(await page.content()).not.toMatch(/PRIVATE KEY/);
      // What the role cannot do is not offered: no user list (view_all_users_info), no ACL or user creation.
      const nav = await page.getByRole('navigation', { name: 'Main' }).textContent();
      await visit(page, '/access', 'Access control');
      await page.getByRole('heading', { name: 'Redis ACLs' }).waitFor();
      expect(await page.getByRole('heading', { name: 'Users' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: /New user|Create ACL|Delete/ }).count()).toBe(0);
      await visit(page, '/security', 'Security');
      expect(await page.getByRole('button', { name: /Save|Install|Test now/ }).count()).toBe(0);
      expect(await page.getByRole('heading', { name: 'OCSP stapling' }).count()).toBe(0);
      for (const { path: route, title } of PAGES.filter((p) => nav?.includes(p.title))) {
        await visit(page, route, title);
        expect(await page.locator('input[type="file"]').count(), title).toBe(0);
        expect(await page.content()).not.toMatch(/PRIVATE KEY/);
      }
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a session that ends (its cookie gone) brings back the login page with the reason', async () => {
    const { context, page } = await openPage();
    try {
      await logIn(page, node.admin);
      await visit(page, '/certificates', 'Certificates');
      await context.clearCookies();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Logs' }).click();
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      expect(await page.locator('.login-status').textContent()).toMatch(/Your session has ended/);
    } finally {
      await context.close();
    }
  });

  it('a browser presenting a certificate user\'s certificate opens the app at once; a refused one is explained on the login page', async () => {
    const ca = await createCa({ subject: 'CN=UI Pages Test CA,O=Acme' });
    const alice = await issueCertificate(ca, { subject: 'CN=alice-ui,O=Acme', eku: ['clientAuth'], freshKey: true });
    const stranger = await selfSigned({ cn: 'alice-ui', eku: ['clientAuth'], freshKey: true });
    const admin = async (method: string, route: string, body: unknown): Promise<void> => {
      const response = await apiRequest(node.port, { method, path: route, auth: node.admin, body });
      expect(response.status, `${method} ${route}: ${response.text}`).toBe(200);
    };
    await admin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: ca.certificate }] });
    await admin('PUT', '/v1/cluster', { mtls_certificate_authentication: true, mtls_client_cert_subject_validation_type: 'disabled' });
    await admin('POST', '/v1/users', { name: 'Alice UI', email: 'alice-ui@acme.example', role: 'cluster_viewer', auth_method: 'certificate', certificate_subject_line: 'CN=alice-ui,O=Acme' });
    const origin = `https://${node.address}:${node.cmPort}`;

    const context = await browser.newContext({ clientCertificate: { certificate: alice.certificate, key: alice.key }, origin });
    try {
      const page = await context.newPage();
      await page.goto(base());
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      const who = (await page.locator('.who').textContent()) ?? '';
      expect(who).toContain('Alice UI');
      expect(who).toContain('cluster_viewer');
      expect(who).toContain('certificate');
      expect(await page.getByRole('form', { name: 'Log in' }).count()).toBe(0);
    } finally {
      await context.close();
    }

    const refused = await browser.newContext({ clientCertificate: { certificate: stranger.certificate, key: stranger.key }, origin });
    try {
      const page = await refused.newPage();
      await page.goto(base());
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      await expect.poll(() => page.locator('.login-status').textContent()).toMatch(/Your client certificate was not accepted: .*trust/i);
    } finally {
      await refused.close();
    }
  });

  it('axe-core finds no serious or critical violation on the login page or any page', async () => {
    const { context, page } = await openPage();
    const check = async (where: string): Promise<void> => {
      // Evaluated through the DevTools protocol: the page's CSP (script-src 'self') refuses an injected <script>.
      await page.evaluate(axeSource);
      const violations = await page.evaluate<Array<{ impact: string }>>('axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) })))');
      expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'), where).toEqual([]);
    };
    try {
      await page.goto(base());
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      await check('login');
      await logIn(page, node.admin);
      for (const { path: route, title } of PAGES) {
        await visit(page, route, title);
        await check(title);
      }
    } finally {
      await context.close();
    }
  });

  it('a phone-width viewport (390 px) renders every page without horizontal overflow', async () => {
    const { context, page, problems } = await openPage(390, 844);
    try {
      await page.goto(base());
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await logIn(page, node.admin);
      for (const { path: route, title } of PAGES) {
        await visit(page, route, title);
        const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(overflow, title).toBeLessThanOrEqual(0);
      }
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('keyboard only: tab through the login form, log in with Enter, tab to the navigation and follow a link', async () => {
    const { context, page } = await openPage();
    const focused = (): Promise<string> => page.evaluate<string>('(() => { const e = document.activeElement; return e ? (e.getAttribute("name") || e.textContent || e.tagName).trim() : ""; })()');
    try {
      await page.goto(base());
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      expect(await focused()).toBe('username'); // autofocus
      await page.keyboard.type(node.admin.email);
      await page.keyboard.press('Tab');
      expect(await focused()).toBe('password');
      await page.keyboard.type(node.admin.password);
      await page.keyboard.press('Tab');
      expect(await focused()).toBe('Log in');
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Enter');
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      // From the top of the page: the skip link first, then the brand, the log-out button and the navigation.
      const seen: string[] = [];
      for (let i = 0; i < 8 && !seen.includes('Certificates'); i += 1) {
        await page.keyboard.press('Tab');
        seen.push(await focused());
      }
      expect(seen[0]).toBe('Skip to content');
      expect(seen).toContain('Log out');
      expect(seen.at(-1)).toBe('Certificates');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: 'Certificates' }).waitFor();
      expect(page.url()).toContain('#/certificates');
    } finally {
      await context.close();
    }
  });
});

// Opt-in (CERTPLANE_UI_SCREENSHOTS=1): screenshots for the README, of a cluster with something to show: a trusted
// CA under the alert threshold (warning), an LDAP client certificate a few days from expiry (danger), certificate
// login on, a certificate user, a database with TLS and client certificates, and the events these left.
describe.runIf(SCREENSHOTS)('README screenshots (docs/screenshots)', () => {
  const admin = async (method: string, route: string, body: unknown): Promise<void> => {
    const response = await apiRequest(node.port, { method, path: route, auth: node.admin, body });
    expect(response.status, `${method} ${route}: ${response.text}`).toBe(200);
  };

  it('takes a 1280 px screenshot of every page, the per-item errors and the phone layout', async () => {
    const ca = await createCa({ subject: 'CN=Acme Clients CA,O=Acme', notAfter: new Date(Date.now() + 20 * DAY) });
    const ldap = await issueCertificate(ca, { cn: 'ldap.acme.example', sans: ['DNS:ldap.acme.example'], notAfter: new Date(Date.now() + 5 * DAY), freshKey: true });
    const alice = await issueCertificate(ca, { subject: 'CN=alice,OU=Engineering,O=Acme', eku: ['clientAuth'] });
    await admin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: ca.certificate }, { name: 'ldap_client', certificate: ldap.certificate, key: ldap.key }] });
    await admin('PUT', '/v1/cluster', {
      mtls_certificate_authentication: true,
      mtls_client_cert_subject_validation_type: 'full_subject',
      mtls_authorized_subjects: [{ CN: 'alice', OU: ['Engineering'], O: 'Acme' }],
    });
    await admin('POST', '/v1/users', { name: 'Alice', email: 'alice@acme.example', role: 'cluster_member', auth_method: 'certificate', certificate_subject_line: 'CN=alice,OU=Engineering,O=Acme' });
    await admin('POST', '/v1/bdbs', { name: 'orders', memory_size: 104_857_600, tls_mode: 'enabled', enforce_client_authentication: 'enabled' });
    await mkdir('docs/screenshots', { recursive: true });

    const { context, page } = await openPage(1280, 800);
    try {
      await page.goto(base());
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      await page.screenshot({ path: 'docs/screenshots/login.png' });
      await logIn(page, node.admin);
      for (const { path: route, title, shot } of PAGES) {
        await visit(page, route, title);
        await page.screenshot({ path: `docs/screenshots/${shot}.png`, fullPage: true });
      }
      await visit(page, '/access', 'Access control');
      await page.getByRole('button', { name: 'New user' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Name').fill('Bob');
      await dialog.getByLabel('Login').selectOption('certificate');
      await dialog.getByLabel('Certificate subject line').fill('CN=alice, OU=Engineering, O=Acme');
      await dialog.getByLabel('Check against a certificate').fill(alice.certificate);
      await dialog.locator('.subject-result .badge').waitFor();
      await page.screenshot({ path: 'docs/screenshots/subject-line-check.png' });
      await page.keyboard.press('Escape');

      await visit(page, '/certificates', 'Certificates');
      const form = page.getByRole('form', { name: 'Replace certificates' });
      const items = form.locator('fieldset.cert-item');
      // Certificates that take no key, so that no private key (even a test one) ends up in a picture.
      await items.nth(0).getByLabel('Name').selectOption('mtls_trusted_ca');
      await items.nth(0).getByLabel('Certificate (PEM', { exact: false }).fill(ca.certificate);
      await form.getByRole('button', { name: 'Add another certificate' }).click();
      await items.nth(1).getByLabel('Name').selectOption('sso_issuer');
      await items.nth(1).getByLabel('Certificate (PEM', { exact: false }).fill(expired.certificate);
      await form.getByRole('button', { name: 'Replace certificates' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Replace' }).click();
      await items.nth(1).locator('.item-error .alert').waitFor();
      await form.screenshot({ path: 'docs/screenshots/certificates-item-errors.png' });
      await page.setViewportSize({ width: 390, height: 844 });
      await visit(page, '/certificates', 'Certificates');
      await page.screenshot({ path: 'docs/screenshots/certificates-phone.png' });
    } finally {
      await context.close();
    }
  });
});
