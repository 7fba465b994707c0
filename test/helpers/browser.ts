// A real browser for the UI tests: Debian's Chromium (/usr/bin/chromium, installed by scripts/install-deps.sh)
// driven by playwright-core (no browser download). One browser per test file; each context is a fresh profile
// (its own cookies), optionally presenting a client certificate to one origin (Playwright's clientCertificates),
// and trusting the node's self-signed certificates (ignoreHTTPSErrors). close() ends every context and the
// browser; call it in afterAll.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CERTPLANE_CHROMIUM ?? '/usr/bin/chromium';

export interface ClientCertificate {
  /** PEM certificate (the leaf, optionally followed by its chain). */
  certificate: string;
  /** PEM private key. */
  key: string;
}

export interface ContextOptions {
  /** Presented to `origin` (https://host:port) when the server asks for a certificate. */
  clientCertificate?: ClientCertificate;
  origin?: string;
  /** Viewport width and height (default 1280 x 800). */
  viewport?: { width: number; height: number };
}

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (its own cookie jar). */
  newContext(options?: ContextOptions): Promise<BrowserContext>;
  /** A page in a fresh context. */
  newPage(options?: ContextOptions): Promise<Page>;
  close(): Promise<void>;
}

/** Whether the browser can run here (tests skip themselves with a clear message otherwise). */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!chromiumAvailable()) throw new Error(`the UI tests need Chromium at ${CHROMIUM} (scripts/install-deps.sh installs Debian's chromium)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // --no-sandbox: the tests run as root in a container, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    timeout: 60_000,
  });
  const contexts = new Set<BrowserContext>();
  const newContext = async (options: ContextOptions = {}): Promise<BrowserContext> => {
    const { clientCertificate, origin } = options;
    if (clientCertificate !== undefined && origin === undefined) throw new Error('a client certificate needs the origin it is presented to');
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: options.viewport ?? { width: 1280, height: 800 },
      ...(clientCertificate !== undefined && origin !== undefined ? { clientCertificates: [{ origin, cert: Buffer.from(clientCertificate.certificate), key: Buffer.from(clientCertificate.key) }] } : {}),
    });
    context.setDefaultTimeout(30_000);
    contexts.add(context);
    context.once('close', () => contexts.delete(context));
    return context;
  };
  return {
    browser,
    newContext,
    newPage: async (options) => (await newContext(options)).newPage(),
    close: async () => {
      for (const context of [...contexts]) await context.close().catch(() => undefined);
      await browser.close();
    },
  };
}

/** What a fetch from inside the page returned (the page's cookies and origin apply). */
export interface PageResponse {
  status: number;
  json: any;
  text: string;
  headers: Record<string, string>;
}

/**
 * A fetch() run inside the page (same origin: the browser attaches the session cookie itself). Until the UI's
 * own pages exist, the login tests drive /ui/api/* this way.
 */
export async function pageFetch(page: Page, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<PageResponse> {
  return page.evaluate(
    async ({ path, init }) => {
      const headers: Record<string, string> = { ...init.headers };
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(path, {
        method: init.method ?? 'GET',
        headers,
        credentials: 'same-origin',
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      const out: Record<string, string> = {};
      response.headers.forEach((value, name) => (out[name] = value));
      return { status: response.status, json, text, headers: out };
    },
    { path, init },
  );
}
