// Sesame in a real browser: the built-in UI (sign up, sign in, welcome, sign out, error pages),
// CORS for a single-page app on another origin, and a forged cross-site form post refused by the
// anti-CSRF check. Headless Debian Chromium driven by playwright-core; Node's own test runner.
//
//   cargo build -p sesame-cli && npm ci --prefix e2e && node --test e2e/
//
// Environment: SESAME_BIN (default target/debug/sesame), CHROMIUM (default /usr/bin/chromium).
// Screenshots of every page seen go to target/e2e/ (CI artifacts), with the server's log. The
// server, browser and helpers come from harness.mjs.
// All traffic stays on 127.0.0.1: the server, the "app" origin allowed by CORS, and the "evil" one.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as h from './harness.mjs';
import { PASSWORD, TEST_TIMEOUT, escapeHtml, fetchT, shot, uniqueEmail } from './harness.mjs';

// ---- fixtures -------------------------------------------------------------------------------

let sesame; // the server: { publicUrl, stop }
let publicUrl; // http://127.0.0.1:<port>/ (trailing slash, as the base URL)
let app; // the origin CORS allows
let evil; // an origin CORS does not allow
let browser;

before(async () => {
  if (h.SKIP_WITHOUT_CHROMIUM) return;
  app = await h.startOrigin({
    '/': '<!doctype html><title>App</title><h1>An app on an allowed origin</h1>',
  });
  evil = await h.startOrigin({
    '/': '<!doctype html><title>Evil</title><h1>A site CORS does not allow</h1>',
    // Auto-submits a login form to the victim's Sesame, with the attacker's credentials.
    '/forge': (url) => {
      const fields = JSON.parse(url.searchParams.get('fields'));
      const inputs = Object.entries(fields)
        .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
        .join('\n');
      return `<!doctype html><title>You won a prize</title>
<form id="f" method="post" action="${escapeHtml(url.searchParams.get('action'))}">
${inputs}
</form>
<script>document.getElementById('f').submit();</script>`;
    },
  });
  sesame = await h.startSesame({
    env: { SERVE_PUBLIC_CORS_ENABLED: 'true', SERVE_PUBLIC_CORS_ALLOWED_ORIGINS: app.origin },
  });
  publicUrl = sesame.publicUrl;
  browser = await h.launchChromium();
});

after(async () => {
  await browser?.close().catch(() => {});
  await sesame?.stop();
  await h.stopOrigin(app);
  await h.stopOrigin(evil);
});

// ---- helpers (bound to this file's server and browser) ---------------------------------------

const newPage = (t, options) => h.newPage(browser, t, options);
const assertOnPage = (page, expected) => h.assertOnPage(page, publicUrl, expected);
const whoami = (context) => h.whoami(context, publicUrl);
const signUpInBrowser = (page, email, password) => h.signUpInBrowser(page, publicUrl, email, password);
const signUpByApi = (email, password) => h.signUpByApi(publicUrl, email, password);

// ---- tests ------------------------------------------------------------------------------------

describe('built-in UI in a real browser', { skip: h.SKIP_WITHOUT_CHROMIUM }, () => {
  test('(a) sign up, welcome page from whoami, sign out, then whoami is 401', { timeout: TEST_TIMEOUT }, async (t) => {
    const { context, page } = await newPage(t);
    const email = uniqueEmail('alice');

    // A validation error first: a password that is too short comes back next to its field.
    await page.goto(`${publicUrl}self-service/registration/browser`);
    assertOnPage(page, 'ui/registration');
    await shot(page, 'registration');
    // The lead says what the form asks for; the optional fields say so in their names.
    assert.equal(await page.locator('.lead').innerText(), 'It takes an email address and a password; the rest is optional.');
    await page.getByLabel('E-Mail', { exact: true }).waitFor();
    await page.getByLabel('First Name (optional)', { exact: true }).waitFor();
    await page.getByLabel('Last Name (optional)', { exact: true }).waitFor();
    const firstFlow = new URL(page.url()).searchParams.get('flow');
    assert.ok(firstFlow, 'the registration page carries ?flow=');
    assert.equal(await page.locator('input[name="csrf_token"]').count(), 1, 'the form carries the anti-CSRF token');
    assert.equal(await page.locator('input[name="csrf_token"]').getAttribute('type'), 'hidden');
    await page.locator('input[name="traits.email"]').fill(email);
    await page.locator('input[name="password"]').fill('short');
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/ui/registration' && u.searchParams.get('flow') === firstFlow),
      page.locator('button[name="method"][value="password"]').click(),
    ]);
    const password = page.locator('input[name="password"]');
    assert.equal(await password.getAttribute('aria-invalid'), 'true', 'the password field is marked invalid');
    const describedBy = await password.getAttribute('aria-describedby');
    assert.ok(describedBy, 'the password field points at its messages');
    const fieldError = page.locator(`[id="${describedBy}"] .message-error`);
    assert.ok((await fieldError.count()) > 0, 'an error message sits next to the password field');
    assert.match(await fieldError.first().innerText(), /\S/);
    assert.equal(await password.inputValue(), '', 'the password is never sent back');
    assert.equal(await page.locator('input[name="traits.email"]').inputValue(), email, 'the email is kept');
    await shot(page, 'registration-validation-error');

    // Now a good password, on the same flow.
    await password.fill(PASSWORD);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/ui/welcome'),
      page.locator('button[name="method"][value="password"]').click(),
    ]);
    assertOnPage(page, 'ui/welcome');
    await page.getByText(email).first().waitFor();
    assert.match(await page.locator('main').innerText(), new RegExp(`signed in as\\s+${email.replace(/[.]/g, '\\.')}`, 'i'));
    await shot(page, 'welcome');

    // whoami agrees, asked by the page itself (same origin, the browser sends its cookie).
    const fromPage = await page.evaluate(async () => {
      const res = await fetch('/sessions/whoami', { credentials: 'same-origin', headers: { accept: 'application/json' } });
      return { status: res.status, body: await res.json() };
    });
    assert.equal(fromPage.status, 200);
    assert.equal(fromPage.body.active, true);
    assert.equal(fromPage.body.identity.traits.email, email);
    const session = await whoami(context);
    assert.equal(session.status, 200);
    assert.equal(session.body.id, fromPage.body.id);

    // The session cookie: HttpOnly, SameSite=Lax, not Secure in --dev.
    const cookies = await context.cookies(publicUrl);
    const sessionCookie = cookies.find((c) => !c.name.startsWith('csrf_token'));
    assert.ok(sessionCookie, `a session cookie is set (cookies: ${cookies.map((c) => c.name).join(', ')})`);
    assert.equal(sessionCookie.httpOnly, true);
    assert.equal(sessionCookie.sameSite, 'Lax');
    assert.equal(await page.evaluate(() => document.cookie), '', 'no cookie is readable by scripts');

    // Sign out from the welcome page's link.
    const signOut = page.getByRole('link', { name: 'Sign out' });
    assert.match(await signOut.getAttribute('href'), new RegExp(`^${publicUrl}self-service/logout\\?token=`));
    await Promise.all([page.waitForURL((u) => u.pathname === '/ui/welcome' && !u.href.includes('token=')), signOut.click()]);
    await page.getByRole('heading', { name: /not signed in/i }).waitFor();
    await shot(page, 'signed-out');

    assert.equal((await whoami(context)).status, 401, 'whoami with the context cookies after sign-out');
    assert.ok(!(await context.cookies(publicUrl)).some((c) => c.name === sessionCookie.name), 'the session cookie is cleared');
    // The old cookie is dead on the server too, not only forgotten by the browser.
    const replay = await fetchT(`${publicUrl}sessions/whoami`, { headers: { cookie: `${sessionCookie.name}=${sessionCookie.value}` } });
    assert.equal(replay.status, 401, 'the revoked session cookie, replayed');
  });

  test('sign in through the login page (wrong password first)', { timeout: TEST_TIMEOUT }, async (t) => {
    const email = uniqueEmail('bob');
    await signUpByApi(email);
    const { context, page } = await newPage(t);

    await page.goto(`${publicUrl}self-service/login/browser`);
    assertOnPage(page, 'ui/login');
    await shot(page, 'login');
    assert.equal(await page.locator('input[name="identifier"]').getAttribute('autocomplete'), 'username');
    await page.locator('input[name="identifier"]').fill(email);
    await page.locator('input[name="password"]').fill('not-the-password-1');
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/ui/login' && u.searchParams.has('flow')),
      page.locator('button[name="method"][value="password"]').click(),
    ]);
    await page.locator('.message-error').first().waitFor();
    assert.match(await page.locator('.messages').innerText(), /credentials are invalid/i);
    assert.equal(await page.locator('.messages').getAttribute('role'), 'alert');
    await shot(page, 'login-error');
    assert.equal((await whoami(context)).status, 401);

    await page.locator('input[name="identifier"]').fill(email);
    await page.locator('input[name="password"]').fill(PASSWORD);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/ui/welcome'),
      page.locator('button[name="method"][value="password"]').click(),
    ]);
    await page.getByText(email).first().waitFor();
    const me = await whoami(context);
    assert.equal(me.status, 200);
    assert.equal(me.body.identity.traits.email, email);
  });

  test('a first visit to / lands on the welcome page, which has an icon', { timeout: TEST_TIMEOUT }, async (t) => {
    const { page } = await newPage(t);
    const res = await page.goto(publicUrl);
    assert.equal(res.status(), 200);
    assertOnPage(page, 'ui/welcome');
    await page.getByRole('heading', { name: /not signed in/i }).waitFor();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    await page.getByRole('link', { name: 'Sign up' }).waitFor();
    // The built-in UI's directory leads there too.
    await page.goto(`${publicUrl}ui/`);
    assertOnPage(page, 'ui/welcome');
    await shot(page, 'first-visit');

    // Both icons the page names load and decode, as images under the page's own policy.
    const icons = await page.evaluate(() =>
      Promise.all(
        [...document.querySelectorAll('link[rel="icon"]')].map(
          (link) =>
            new Promise((resolve) => {
              const img = new Image();
              img.onload = () => resolve({ href: link.href, width: img.naturalWidth });
              img.onerror = () => resolve({ href: link.href, width: 0 });
              img.src = link.href;
            }),
        ),
      ),
    );
    assert.deepEqual(
      icons.map((i) => i.href),
      [`${publicUrl}ui/favicon.svg`, `${publicUrl}favicon.ico`],
    );
    for (const icon of icons) assert.ok(icon.width > 0, `${icon.href} loads as an image`);
    const ico = await fetchT(`${publicUrl}favicon.ico`);
    assert.equal(ico.status, 200);
    assert.equal(ico.headers.get('content-type'), 'image/x-icon');
  });

  test('the error page explains an error id', { timeout: TEST_TIMEOUT }, async (t) => {
    const { page } = await newPage(t);
    const res = await page.goto(`${publicUrl}ui/error?error=security_csrf_violation`);
    assert.equal(res.status(), 200);
    await page.getByRole('heading', { name: 'Request blocked' }).waitFor();
    assert.match(await page.locator('main').innerText(), /security_csrf_violation/);
    await shot(page, 'error');
  });

  test('the registration page on a phone-sized screen', { timeout: TEST_TIMEOUT }, async (t) => {
    const { page } = await newPage(t, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await page.goto(`${publicUrl}self-service/registration/browser`);
    assertOnPage(page, 'ui/registration');
    // Nothing wider than the screen: no sideways scrolling.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a 390px screen`);
    await shot(page, 'registration-phone');
  });
});

describe('CORS for a single-page app on another origin', { skip: h.SKIP_WITHOUT_CHROMIUM }, () => {
  test('(b) credentialed whoami from the allowed origin is 200, from another origin a CORS failure', { timeout: TEST_TIMEOUT }, async (t) => {
    const { context, page } = await newPage(t);
    const email = uniqueEmail('carol');
    await signUpInBrowser(page, email);
    assert.equal((await whoami(context)).status, 200);

    const whoamiFrom = (origin) =>
      page.goto(`${origin}/`).then(() =>
        page.evaluate(async (url) => {
          try {
            const res = await fetch(url, { credentials: 'include', headers: { accept: 'application/json' } });
            return { status: res.status, body: await res.json() };
          } catch (e) {
            return { error: `${e.name}: ${e.message}` };
          }
        }, `${publicUrl}sessions/whoami`),
      );

    const allowed = await whoamiFrom(app.origin);
    assert.equal(allowed.error, undefined, `fetch from ${app.origin} failed: ${allowed.error}`);
    assert.equal(allowed.status, 200);
    assert.equal(allowed.body.identity.traits.email, email);

    const consoleErrors = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    const denied = await whoamiFrom(evil.origin);
    assert.equal(denied.status, undefined, `the evil origin read a response: ${JSON.stringify(denied)}`);
    assert.match(denied.error, /^TypeError: Failed to fetch/);
    // It was CORS that stopped it: the server is reachable (an opaque no-cors answer) …
    const opaque = await page.evaluate(
      (url) => fetch(url, { mode: 'no-cors', credentials: 'include' }).then((r) => r.type),
      `${publicUrl}sessions/whoami`,
    );
    assert.equal(opaque, 'opaque');
    // … and Chromium says why (console messages arrive asynchronously: wait up to a second).
    for (let i = 0; i < 20 && !consoleErrors.some((m) => /blocked by CORS policy/.test(m)); i++) await sleep(50);
    assert.ok(
      consoleErrors.some((m) => /blocked by CORS policy/.test(m)),
      `Chromium reports a CORS block (console: ${JSON.stringify(consoleErrors)})`,
    );

    // The preflight tells the same story: the allowed origin is echoed with credentials, the other gets nothing.
    const preflight = async (origin) => {
      const res = await fetchT(`${publicUrl}sessions/whoami`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-session-token' },
      });
      return res.headers;
    };
    const ok = await preflight(app.origin);
    assert.equal(ok.get('access-control-allow-origin'), app.origin);
    assert.equal(ok.get('access-control-allow-credentials'), 'true');
    assert.equal((await preflight(evil.origin)).get('access-control-allow-origin'), null);
  });
});

describe('anti-CSRF in a real browser', { skip: h.SKIP_WITHOUT_CHROMIUM }, () => {
  test('(c) a forged login form post from another origin is refused and signs no one in', { timeout: TEST_TIMEOUT }, async (t) => {
    const attacker = uniqueEmail('mallory');
    await signUpByApi(attacker);

    // The victim's browser starts a login flow on Sesame (and so holds its anti-CSRF cookie).
    const { context, page } = await newPage(t);
    await page.goto(`${publicUrl}self-service/login/browser`);
    const victimFlow = assertOnPage(page, 'ui/login').searchParams.get('flow');
    assert.ok(victimFlow);
    assert.ok((await context.cookies(publicUrl)).some((c) => c.name.startsWith('csrf_token')), 'the victim holds an anti-CSRF cookie');

    // The attacker's own browser flow: a genuine token, bound to the attacker's cookie, not the victim's.
    const own = await fetchT(`${publicUrl}self-service/login/browser`, { headers: { accept: 'application/json' }, redirect: 'manual' });
    assert.equal(own.status, 200);
    const ownFlow = await own.json();
    const ownToken = ownFlow.ui.nodes.find((n) => n.attributes.name === 'csrf_token')?.attributes.value;
    assert.ok(ownToken, "the attacker's flow has a csrf_token node");

    const credentials = { method: 'password', identifier: attacker, password: PASSWORD };
    const forgeries = [
      ['no csrf_token', victimFlow, credentials],
      ['a made-up csrf_token', victimFlow, { ...credentials, csrf_token: 'bm90LWEtcmVhbC10b2tlbg==' }],
      ["the attacker's own valid token and flow (login CSRF)", ownFlow.id, { ...credentials, csrf_token: ownToken }],
    ];
    for (const [i, [what, flow, fields]] of forgeries.entries()) {
      const action = `${publicUrl}self-service/login?flow=${flow}`;
      const forge = `${evil.origin}/forge?${new URLSearchParams({ action, fields: JSON.stringify(fields) })}`;
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === action),
        page.goto(forge),
      ]);
      // Refused: the browser is sent to the error page instead of being signed in.
      assert.equal(res.status(), 303, `${what}: status`);
      assert.match(res.headers().location ?? '', /ui\/error\?error=security_csrf_violation$/, `${what}: sent to the error page`);
      const sent = await res.request().allHeaders();
      assert.equal(sent.origin, evil.origin, `${what}: the post came from the evil origin`);
      // Ports don't make sites: 127.0.0.1:<evil> is same-site with Sesame, so the browser sends the
      // victim's cookies along (SameSite=Lax doesn't help here). Only the token check stands.
      assert.match(sent.cookie ?? '', /csrf_token_/, `${what}: the victim's anti-CSRF cookie went with the post`);
      await page.waitForLoadState();
      assert.match(await page.locator('main').innerText(), /Request blocked/, `${what}: the error page explains`);
      if (i === 0) await shot(page, 'csrf-refused');
      const me = await whoami(context);
      assert.equal(me.status, 401, `${what}: the victim is not signed in (whoami: ${JSON.stringify(me.body)})`);
    }

    // Control: the same cross-origin post carrying the token of the victim's own flow goes through,
    // so the refusals above came from the token check and not from the test's set-up.
    await page.goto(`${publicUrl}ui/login?flow=${victimFlow}`);
    assert.equal(new URL(page.url()).searchParams.get('flow'), victimFlow, "the victim's flow is still open");
    const victimToken = await page.locator('input[name="csrf_token"]').inputValue();
    const action = `${publicUrl}self-service/login?flow=${victimFlow}`;
    const forge = `${evil.origin}/forge?${new URLSearchParams({ action, fields: JSON.stringify({ ...credentials, csrf_token: victimToken }) })}`;
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === action),
      page.goto(forge),
    ]);
    assert.equal(res.status(), 303, 'with the right token the post is accepted');
    assert.equal((await whoami(context)).body?.identity?.traits?.email, attacker);
  });
});
