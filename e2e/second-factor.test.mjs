// Second factors in a real browser: a user enrols an authenticator app (TOTP) on the built-in
// settings page, reading the secret off the page as someone without a camera would, signs out,
// signs in with the password and completes the second-factor page with a fresh code; another
// sets up backup recovery codes and signs in with one. The codes are computed here (totp.mjs).
//
//   cargo build -p sesame-cli && npm ci --prefix e2e && node --test e2e/
//
// Screenshots go to target/e2e/, the server's log to target/e2e/sesame-second-factor.log.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';
import { TEST_TIMEOUT, inView, shot, uniqueEmail, whoamiFromPage } from './harness.mjs';
import { base32Decode, hotp, stepAt, totpAt } from './totp.mjs';

let sesame;
let publicUrl;
let browser;

before(async () => {
  if (h.SKIP_WITHOUT_CHROMIUM) return;
  sesame = await h.startSesame({
    env: {
      SELFSERVICE_METHODS_TOTP_ENABLED: 'true',
      SELFSERVICE_METHODS_LOOKUP_SECRET_ENABLED: 'true',
    },
    log: 'sesame-second-factor.log',
  });
  publicUrl = sesame.publicUrl;
  browser = await h.launchChromium();
});

after(async () => {
  await browser?.close().catch(() => {});
  await sesame?.stop();
});

const newPage = (t, options) => h.newPage(browser, t, options);
const assertOnPage = (page, expected) => h.assertOnPage(page, publicUrl, expected);

/** Console messages about blocked content (a CSP that forgot `img-src data:` shows up here). */
function watchCsp(page) {
  const violations = [];
  page.on('console', (m) => /Content Security Policy/i.test(m.text()) && violations.push(m.text()));
  return violations;
}

/** Clicks something that submits a form and waits for the page it leads to. */
async function submitWith(page, locator) {
  await Promise.all([page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() }), locator.click()]);
  await page.waitForLoadState();
}

/** From the welcome page to the settings page, through its link. */
async function openSettings(page) {
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/ui/settings'),
    page.getByRole('link', { name: 'Account settings' }).click(),
  ]);
  const url = assertOnPage(page, 'ui/settings');
  assert.ok(url.searchParams.get('flow'), 'the settings page carries ?flow=');
  await page.getByRole('heading', { level: 1, name: 'Account settings' }).waitFor();
}

/** The settings page's sections, top to bottom, whatever state the flow is in. */
const SECTIONS = ['Profile', 'Password', 'Authenticator app', 'Backup recovery codes'];

async function assertSections(page) {
  assert.deepEqual(await page.getByRole('heading', { level: 2 }).allInnerTexts(), SECTIONS);
}

/** After saving a section: the page is back at that section, which shows the flow's message. */
async function assertBackAt(page, section, id) {
  assert.equal(new URL(page.url()).hash, `#${id}`, 'the address names the section just used');
  const region = page.getByRole('region', { name: section });
  assert.ok(await inView(region.getByRole('heading', { level: 2 })), `the ${section} section is in view`);
  // The message is shown once, in the section, and is in view too.
  const status = page.getByRole('status');
  assert.equal(await status.count(), 1);
  assert.equal(await region.getByRole('status').count(), 1, `the message sits in the ${section} section`);
  assert.ok(await inView(status), 'the message is in view');
  return status;
}

/** From the settings page back to the welcome page, then its sign-out link. */
async function signOut(page) {
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/ui/welcome'),
    page.getByRole('link', { name: 'Back to your account' }).click(),
  ]);
  await submitWith(page, page.getByRole('link', { name: 'Sign out' }));
  await page.getByRole('heading', { name: /not signed in/i }).waitFor();
}

/** Signs in with the password and waits for the second-factor page. */
async function signInWithPassword(page, email) {
  await page.goto(`${publicUrl}self-service/login/browser`);
  assertOnPage(page, 'ui/login');
  await page.locator('input[name="identifier"]').fill(email);
  await page.locator('input[name="password"]').fill(h.PASSWORD);
  await submitWith(page, page.locator('button[name="method"][value="password"]'));
  assertOnPage(page, 'ui/login');
  await page.getByRole('heading', { level: 1, name: 'Second factor' }).waitFor();
  // The password step is done: no identifier or password is asked for again.
  assert.equal(await page.locator('input[name="identifier"]').count(), 0);
  assert.equal(await page.locator('input[name="password"]').count(), 0);
  // Codes are typed on a number pad or filled in from the phone; backup codes are not remembered.
  const totpCode = page.locator('input[name="totp_code"]');
  if ((await totpCode.count()) > 0) {
    assert.equal(await totpCode.getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await totpCode.getAttribute('inputmode'), 'numeric');
  }
  const backupCode = page.locator('input[name="lookup_secret"]');
  if ((await backupCode.count()) > 0) assert.equal(await backupCode.getAttribute('autocomplete'), 'off');
  const prompt = page.locator('[data-message-id="1010004"]');
  assert.match(await prompt.innerText(), /complete the second authentication challenge/i);
  assert.equal(await page.locator('.messages').getAttribute('role'), 'status');
  // whoami refuses the half-finished session until the second factor is done.
  const halfway = await whoamiFromPage(page);
  assert.equal(halfway.status, 403, `whoami before the second factor: ${JSON.stringify(halfway.body)}`);
  assert.equal(halfway.body.error.id, 'session_aal2_required');
}

/** The session as the page sees it must be aal2, completed with these methods. */
async function assertAal2(page, methods) {
  const me = await whoamiFromPage(page);
  assert.equal(me.status, 200, JSON.stringify(me.body));
  assert.equal(me.body.authenticator_assurance_level, 'aal2');
  assert.deepEqual(
    me.body.authentication_methods.map((m) => m.method),
    methods,
  );
  return me.body;
}

describe('second factors in the built-in UI', { skip: h.SKIP_WITHOUT_CHROMIUM }, () => {
  test('the TOTP helper matches RFC 6238 (SHA-1 test vectors)', () => {
    // The RFC's SHA-1 secret is the ASCII "12345678901234567890"; its vectors are 8 digits.
    const key = base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    assert.equal(key.toString('ascii'), '12345678901234567890');
    assert.equal(hotp(key, stepAt(59 * 1000), 8), '94287082');
    assert.equal(hotp(key, stepAt(1111111109 * 1000), 8), '07081804');
    assert.equal(hotp(key, stepAt(20000000000 * 1000), 8), '65353130');
    assert.equal(hotp(key, 1), '287082');
  });

  test('enrol an authenticator app in settings, then sign in with the password and a fresh code', { timeout: TEST_TIMEOUT }, async (t) => {
    const { page } = await newPage(t);
    const csp = watchCsp(page);
    const email = uniqueEmail('tess');
    await h.signUpInBrowser(page, publicUrl, email);
    await openSettings(page);

    // Every method has its section, in a fixed order; the profile shows the traits. Each button
    // says what it does.
    await assertSections(page);
    assert.equal(await page.locator('input[name="traits.email"]').inputValue(), email);
    for (const name of ['Save profile', 'Change password', 'Link authenticator app', 'Generate new backup recovery codes']) {
      await page.getByRole('button', { name, exact: true }).waitFor();
    }
    assert.equal(await page.getByLabel('New password').getAttribute('autocomplete'), 'new-password');

    // The QR code is a data: image, and it is shown.
    const qr = page.getByRole('img', { name: 'Authenticator app QR code' });
    await qr.waitFor();
    assert.match(await qr.getAttribute('src'), /^data:image\/png;base64,/);
    assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code image loaded');
    assert.deepEqual(csp, [], 'no Content-Security-Policy violation');

    // The secret, as text for typing into an app by hand.
    const secret = (await page.locator('#field-totp_secret_key').innerText()).trim();
    assert.match(secret, /^[A-Z2-7]{16,}=*$/, `a base32 secret is shown: ${JSON.stringify(secret)}`);
    await shot(page, 'settings');

    // The code field offers a number pad and the browser refuses what cannot be a code.
    const verify = page.getByLabel('Verify code');
    assert.equal(await verify.getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await verify.getAttribute('inputmode'), 'numeric');
    const valid = (value) => verify.fill(value).then(() => verify.evaluate((input) => input.checkValidity()));
    assert.equal(await valid('12345'), false, 'five digits');
    assert.equal(await valid('12a456'), false, 'a letter');
    assert.equal(await valid(' 123456 '), true, 'six digits, spaces around');

    const linkStep = stepAt();
    const linkCode = totpAt(secret, linkStep);
    await verify.fill(linkCode);
    await submitWith(page, page.getByRole('button', { name: 'Link authenticator app' }));
    assertOnPage(page, 'ui/settings');
    const saved = await assertBackAt(page, 'Authenticator app', 'group-totp');
    assert.match(await saved.innerText(), /your changes have been saved/i);
    await assertSections(page);
    await page.getByRole('button', { name: 'Unlink authenticator app' }).waitFor();
    assert.equal(await page.locator('img').count(), 0, 'no QR code once linked');
    await shot(page, 'settings-totp-linked');
    // Linking proved the second factor on this session too.
    await assertAal2(page, ['password', 'totp']);

    await signOut(page);
    await signInWithPassword(page, email);
    assert.equal(await page.getByLabel('Backup recovery code').count(), 0, 'no backup codes were set up');
    const code = page.getByLabel('Authentication code');
    const useApp = page.getByRole('button', { name: 'Use Authenticator' });
    await shot(page, 'login-second-factor');

    // The code that linked the app is not accepted a second time (while it would still be valid).
    if (stepAt() <= linkStep + 1) {
      await code.fill(linkCode);
      await submitWith(page, useApp);
      const refused = page.locator('.messages[role="alert"] [data-message-id="4000008"]');
      await refused.waitFor();
      await shot(page, 'login-second-factor-replayed');
    }

    // A fresh code: the next time step after the one that linked (codes one step ahead are
    // accepted), so there is no waiting for the clock.
    await code.fill(totpAt(secret, Math.max(stepAt(), linkStep + 1)));
    await Promise.all([page.waitForURL((u) => u.pathname === '/ui/welcome'), useApp.click()]);
    await page.getByText(email).first().waitFor();
    assert.match(await page.locator('main').innerText(), /aal2 \(two factors\)/);
    await shot(page, 'welcome-aal2');
    const me = await assertAal2(page, ['password', 'totp']);
    assert.equal(me.identity.traits.email, email);
  });

  test('set up backup recovery codes, then sign in with one of them', { timeout: TEST_TIMEOUT }, async (t) => {
    const { page } = await newPage(t);
    const email = uniqueEmail('bea');
    await h.signUpInBrowser(page, publicUrl, email);
    await openSettings(page);

    // Generating codes is its own form: the authenticator app's empty, required code field on
    // the same page does not stand in the way.
    await submitWith(page, page.getByRole('button', { name: 'Generate new backup recovery codes' }));
    const list = page.getByRole('list', { name: /back up recovery codes/i });
    await list.waitFor();
    // The codes appear in their section, which stayed where it was, and the page is back at it.
    await assertSections(page);
    assert.equal(new URL(page.url()).hash, '#group-lookup_secret');
    assert.ok(await inView(list), 'the codes are in view');
    await shot(page, 'settings-backup-codes-in-view', { fullPage: false });
    const codes = (await list.locator('code').allInnerTexts()).map((c) => c.trim());
    assert.equal(codes.length, 12, `twelve codes: ${JSON.stringify(codes)}`);
    assert.equal(new Set(codes).size, 12);
    await shot(page, 'settings-backup-codes');

    await submitWith(page, page.getByRole('button', { name: 'Confirm backup recovery codes' }));
    await assertBackAt(page, 'Backup recovery codes', 'group-lookup_secret');
    await assertSections(page);
    await shot(page, 'settings-backup-codes-saved', { fullPage: false });
    await page.getByRole('button', { name: 'Reveal backup recovery codes' }).waitFor();
    await page.getByRole('button', { name: 'Disable backup recovery codes' }).waitFor();
    await assertAal2(page, ['password', 'lookup_secret']);

    await signOut(page);
    await signInWithPassword(page, email);
    assert.equal(await page.getByLabel('Authentication code').count(), 0, 'no authenticator app was linked');
    await page.getByLabel('Backup recovery code').fill(codes[3]);
    await shot(page, 'login-backup-code');
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/ui/welcome'),
      page.getByRole('button', { name: 'Use backup recovery code' }).click(),
    ]);
    await page.getByText(email).first().waitFor();
    await assertAal2(page, ['password', 'lookup_secret']);
  });

  test('the settings page on a phone-sized screen', { timeout: TEST_TIMEOUT }, async (t) => {
    const { page } = await newPage(t, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await h.signUpInBrowser(page, publicUrl, uniqueEmail('phil'));
    await openSettings(page);
    await page.getByRole('img', { name: 'Authenticator app QR code' }).waitFor();
    // Nothing wider than the screen (the QR code and the secret included): no sideways scrolling.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a 390px screen`);
    await shot(page, 'settings-phone');
  });
});
