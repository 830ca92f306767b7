// The e2e suites' shared harness: a real Sesame on free ports of 127.0.0.1 (its log in
// target/e2e/), headless Debian Chromium through playwright-core, small origins for cross-site
// tests, and page helpers. Each test file starts its own server and browser.
//
// Environment: SESAME_BIN (default target/debug/sesame), CHROMIUM (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SESAME_BIN = path.resolve(ROOT, process.env.SESAME_BIN ?? 'target/debug/sesame');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** Whether this is a CI run (CI set, and neither empty, `false` nor `0`): nothing may be skipped. */
export const IN_CI = !['', 'false', '0'].includes(process.env.CI ?? '');
/**
 * The `skip` option of every suite here: without a Chromium the suites are reported as skipped, with
 * the reason, except in CI, where `launchChromium` then fails.
 */
export const SKIP_WITHOUT_CHROMIUM = existsSync(CHROMIUM) || IN_CI
  ? false
  : `needs Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM`;
export const ARTIFACTS = path.join(ROOT, 'target', 'e2e');

// Bounds: a whole test, one Playwright action or navigation, and server start-up.
export const TEST_TIMEOUT = 90_000;
export const STEP_TIMEOUT = 15_000;
export const READY_TIMEOUT = 30_000;

export const PASSWORD = 'correct-horse-battery-7';

/** A port that was free a moment ago on 127.0.0.1 (listen on 0, read it, close). */
export async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** A tiny origin on 127.0.0.1 serving `pages` (path → HTML, or a function of the URL). */
export async function startOrigin(pages) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const page = pages[url.pathname];
    if (page === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = typeof page === 'function' ? page(url) : page;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** Stops an origin from `startOrigin`. */
export async function stopOrigin(o) {
  if (!o) return;
  o.server.closeAllConnections();
  await new Promise((resolve) => o.server.close(resolve));
}

export const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

export const uniqueEmail = (who) => `${who}-${randomUUID().slice(0, 8)}@example.com`;

/** Fetch with a time limit. */
export const fetchT = (url, init = {}) => fetch(url, { ...init, signal: AbortSignal.timeout(STEP_TIMEOUT) });

/**
 * Starts `sesame serve --dev` on an in-memory database and free ports, with only the environment
 * it needs plus `env`; its output goes to target/e2e/<log>. Resolves once /health/ready answers.
 * Returns `{ publicUrl, stop }` (`publicUrl` ends in `/`).
 */
export async function startSesame({ env = {}, log = 'sesame.log' } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  assert.ok(existsSync(SESAME_BIN), `no server binary at ${SESAME_BIN}: run \`cargo build -p sesame-cli\` or set SESAME_BIN`);
  const publicPort = await freePort();
  let adminPort = await freePort();
  while (adminPort === publicPort) adminPort = await freePort();
  const publicUrl = `http://127.0.0.1:${publicPort}/`;
  const logPath = path.join(ARTIFACTS, log);
  const out = createWriteStream(logPath);
  await new Promise((resolve) => out.once('open', resolve));
  const child = spawn(SESAME_BIN, ['serve', '--dev'], {
    cwd: ROOT,
    // Only what the server needs: no configuration leaks in from the caller's environment.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      RUST_BACKTRACE: '1',
      DSN: 'memory',
      SERVE_PUBLIC_HOST: '127.0.0.1',
      SERVE_PUBLIC_PORT: String(publicPort),
      SERVE_PUBLIC_BASE_URL: publicUrl,
      SERVE_ADMIN_HOST: '127.0.0.1',
      SERVE_ADMIN_PORT: String(adminPort),
      ...env,
    },
    stdio: ['ignore', out, out],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const running = () => child.exitCode === null && child.signalCode === null;
  // Should this process die without stopping the server, the server dies with it.
  process.once('exit', () => running() && child.kill('SIGKILL'));

  const ready = `${publicUrl}health/ready`;
  const deadline = Date.now() + READY_TIMEOUT;
  let last = 'no answer';
  for (;;) {
    if (!running()) {
      throw new Error(`sesame exited (${child.exitCode ?? child.signalCode}) before it was ready; see ${logPath}`);
    }
    try {
      const res = await fetch(ready, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) break;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e.cause?.code ?? e.message;
    }
    if (Date.now() > deadline) {
      throw new Error(`sesame was not ready within ${READY_TIMEOUT} ms (${ready}: ${last}); see ${logPath}`);
    }
    await sleep(100);
  }

  async function stop() {
    if (!running()) return;
    child.kill('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
    if (!done) {
      child.kill('SIGKILL');
      await exited;
    }
  }
  return { publicUrl, stop };
}

/** Headless Chromium. */
export async function launchChromium() {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: install Debian's chromium or set CHROMIUM`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: READY_TIMEOUT,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh browser context (own cookies) and page, with time limits, closed after the test. */
export async function newPage(browser, t, options = {}) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  t.after(() => context.close());
  const page = await context.newPage();
  return { context, page };
}

/** A screenshot, target/e2e/<name>.png: the full page, or only what the window shows. */
export async function shot(page, name, { fullPage = true } = {}) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
}

/** Whether the element is within the window, as scrolled. */
export async function inView(locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.bottom > 0 && r.top < window.innerHeight;
  });
}

/** The page's path must be `expected` (e.g. `ui/registration`) under `publicUrl`. */
export function assertOnPage(page, publicUrl, expected) {
  const url = new URL(page.url());
  assert.equal(url.origin + url.pathname, `${publicUrl}${expected}`, `expected ${expected}, at ${page.url()}`);
  return url;
}

/** whoami as the context's cookies see it (Playwright's request API shares the cookie jar). */
export async function whoami(context, publicUrl) {
  const res = await context.request.get(`${publicUrl}sessions/whoami`, { failOnStatusCode: false, maxRedirects: 0 });
  return { status: res.status(), body: await res.json().catch(() => null) };
}

/** whoami asked by the page itself (same origin: the browser sends its own cookie). */
export async function whoamiFromPage(page) {
  return page.evaluate(async () => {
    const res = await fetch('/sessions/whoami', { credentials: 'same-origin', headers: { accept: 'application/json' } });
    return { status: res.status, body: await res.json() };
  });
}

/** Signs up through the built-in UI and waits for the welcome page. */
export async function signUpInBrowser(page, publicUrl, email, password = PASSWORD) {
  await page.goto(`${publicUrl}self-service/registration/browser`);
  assertOnPage(page, publicUrl, 'ui/registration');
  await page.locator('input[name="traits.email"]').fill(email);
  await page.locator('input[name="password"]').fill(password);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/ui/welcome'),
    page.locator('button[name="method"][value="password"]').click(),
  ]);
}

/** Signs up through the API (no browser, no cookies); returns the identity. */
export async function signUpByApi(publicUrl, email, password = PASSWORD) {
  const flow = await (await fetchT(`${publicUrl}self-service/registration/api`)).json();
  const res = await fetchT(`${publicUrl}self-service/registration?flow=${flow.id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ method: 'password', traits: { email }, password }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `API registration failed: ${JSON.stringify(body)}`);
  return body.identity;
}
