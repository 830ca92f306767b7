// The official JavaScript SDK against Sesame started from Kratos's own quickstart configuration
// (`kratos-quickstart/kratos.yml` in SESAME_TEST_KRATOS_FIXTURES, Kratos's email-password quickstart,
// unchanged; see fixtures.mjs),
// with only what cannot be in the file overridden through Kratos's environment variables: the schema
// URL (the file's `file:///etc/config/kratos/…` is a Docker path), and the listeners (free loopback
// ports and the base URLs that go with them). Everything else is what the quickstart says: bcrypt
// cost 8, CORS on, the 127.0.0.1:4455 UI URLs and allowed return URLs, registration hooks `session`
// and `show_verification_ui`, log level debug with `leak_sensitive_values: true` (which Sesame
// ignores: the log is checked for secrets at the end), no `--dev` (Secure cookies).
//
//   cargo build -p sesame-cli && node --test compat/node/
//
// Every response is checked against Kratos's OpenAPI document as in sdk.test.mjs. The server's log
// goes to target/compat-node/sesame-quickstart.log.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Configuration, FrontendApi, IdentityApi } from '@ory/kratos-client';
import { OpenApiChecker } from './openapi-check.mjs';
import { startSesame } from './sesame-server.mjs';
import { OPENAPI, QUICKSTART, SKIP_WITHOUT_FIXTURES, requireFixtures } from './fixtures.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const SESAME_BIN = path.resolve(ROOT, process.env.SESAME_BIN ?? 'target/debug/sesame');
const ARTIFACTS = path.join(ROOT, 'target', 'compat-node');
const LOG = path.join(ARTIFACTS, 'sesame-quickstart.log');

const axios = createRequire(createRequire(import.meta.url).resolve('@ory/kratos-client'))('axios');

const TEST_TIMEOUT = 30_000;
const PASSWORD = 'correct-horse-battery-7';
const UI = 'http://127.0.0.1:4455'; // the quickstart's self-service UI (never contacted)
const JSON_ACCEPT = { headers: { Accept: 'application/json' } };
const HTML_ACCEPT = { headers: { Accept: 'text/html' } };

// The same tolerated differences between Kratos's OpenAPI document and what Kratos sends as in
// sdk.test.mjs (see the reasons there).
const KNOWN_SCHEMA_MISMATCHES = [
  { id: 'native-login-continue-with-null', operation: 'POST /self-service/login', status: 200, field: '/continue_with' },
  { id: 'error-details-additional-properties', operation: '*', field: '/error/details/*' },
];

let server;
let publicUrl;
let checker;
let frontend;
let identities;
const issuedSecrets = new Set([PASSWORD]); // tokens and cookies this run saw: none may reach the log

const uniqueEmail = (who) => `${who}-${randomUUID().slice(0, 8)}@example.com`;
const nodeNamed = (flow, name) => flow.ui.nodes.find((n) => n.attributes.name === name);
const csrfTokenOf = (flow) => nodeNamed(flow, 'csrf_token')?.attributes.value;

async function sdkError(promise, status) {
  const error = await promise.then(
    (res) => assert.fail(`expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.data)}`),
    (e) => e,
  );
  assert.ok(error.response, `no response: ${error.message}`);
  assert.equal(error.response.status, status, `status; body: ${JSON.stringify(error.response.data)}`);
  return error.response;
}

/** A browser's cookies: `set-cookie` in, a `cookie` header out. */
class CookieJar {
  #cookies = new Map();

  store(response) {
    for (const line of [].concat(response.headers['set-cookie'] ?? [])) {
      const [pair, ...attrs] = line.split(';');
      const name = pair.slice(0, pair.indexOf('=')).trim();
      const value = pair.slice(pair.indexOf('=') + 1).trim();
      const gone = value === '' || attrs.some((a) => /^\s*max-age=(0|-)/i.test(a));
      if (gone) this.#cookies.delete(name);
      else this.#cookies.set(name, { value, attrs: attrs.map((a) => a.trim()) });
      if (!gone) issuedSecrets.add(value);
    }
    return response;
  }

  get(name) {
    return this.#cookies.get(name);
  }

  header() {
    return [...this.#cookies].map(([n, c]) => `${n}=${c.value}`).join('; ');
  }
}

describe('the SDK against Kratos\'s quickstart configuration', { skip: SKIP_WITHOUT_FIXTURES }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    assert.ok(existsSync(SESAME_BIN), `no server binary at ${SESAME_BIN}: run \`cargo build -p sesame-cli\` or set SESAME_BIN`);
    requireFixtures();
    server = await startSesame({
      bin: SESAME_BIN,
      cwd: ROOT,
      args: ['serve', '-c', path.join(QUICKSTART, 'kratos.yml')],
      env: {
        IDENTITY_SCHEMAS: JSON.stringify([{ id: 'default', url: pathToFileURL(path.join(QUICKSTART, 'identity.schema.json')).href }]),
      },
      log: LOG,
    });
    publicUrl = server.publicUrl;
    checker = OpenApiChecker.load(OPENAPI, { known: KNOWN_SCHEMA_MISMATCHES });
    const http = checker.attach(axios.create({ maxRedirects: 0, timeout: 10_000 }));
    frontend = new FrontendApi(new Configuration({ basePath: publicUrl.slice(0, -1) }), undefined, http);
    identities = new IdentityApi(new Configuration({ basePath: server.adminUrl.slice(0, -1) }), undefined, http);
  });

  after(async () => {
    await server?.stop();
  });

  test('native registration (quickstart traits, bcrypt cost 8), login, toSession, logout', { timeout: TEST_TIMEOUT }, async () => {
    const email = uniqueEmail('qs-native');
    const traits = { email, name: { first: 'Ada', last: 'Lovelace' } };
    const { data: flow } = await frontend.createNativeRegistrationFlow();
    assert.equal(flow.type, 'api');
    assert.equal(flow.ui.action, `${publicUrl}self-service/registration?flow=${flow.id}`);
    assert.equal(Date.parse(flow.expires_at) - Date.parse(flow.issued_at), 10 * 60 * 1000, 'registration.lifespan: 10m');
    for (const name of ['traits.email', 'traits.name.first', 'traits.name.last', 'password']) {
      assert.ok(nodeNamed(flow, name), `the quickstart schema's node ${name}`);
    }
    const reg = await frontend.updateRegistrationFlow({
      flow: flow.id,
      updateRegistrationFlowBody: { method: 'password', traits, password: PASSWORD },
    });
    assert.equal(reg.status, 200);
    assert.deepEqual(reg.data.identity.traits, traits);
    // The `session` hook signs the new identity in (`show_verification_ui` is not implemented yet).
    assert.match(reg.data.session_token, /^ory_st_/);
    issuedSecrets.add(reg.data.session_token);
    assert.equal(reg.data.session.identity.id, reg.data.identity.id);

    // hashers: bcrypt, cost 8.
    const { data: withHash } = await identities.getIdentity({ id: reg.data.identity.id, includeCredential: ['password'] });
    assert.match(withHash.credentials.password.config.hashed_password, /^\$2[aby]\$08\$/);

    const { data: loginFlow } = await frontend.createNativeLoginFlow();
    assert.equal(Date.parse(loginFlow.expires_at) - Date.parse(loginFlow.issued_at), 10 * 60 * 1000, 'login.lifespan: 10m');
    const wrong = await sdkError(
      frontend.updateLoginFlow({ flow: loginFlow.id, updateLoginFlowBody: { method: 'password', identifier: email, password: 'not-the-password-1' } }),
      400,
    );
    assert.equal(wrong.data.ui.messages[0].id, 4000006);
    const login = await frontend.updateLoginFlow({
      flow: loginFlow.id,
      updateLoginFlowBody: { method: 'password', identifier: email, password: PASSWORD },
    });
    assert.equal(login.status, 200);
    const token = login.data.session_token;
    issuedSecrets.add(token);

    const me = await frontend.toSession({ xSessionToken: token });
    assert.equal(me.data.identity.id, reg.data.identity.id);
    assert.equal(me.data.authentication_methods[0].method, 'password');
    // Bearer through the SDK's configuration (the generated toSession has no bearer parameter).
    const bearer = new FrontendApi(
      new Configuration({ basePath: publicUrl.slice(0, -1), baseOptions: { headers: { Authorization: `Bearer ${token}` } } }),
      undefined,
      checker.attach(axios.create({ maxRedirects: 0 })),
    );
    assert.equal((await bearer.toSession()).data.id, me.data.id);

    const out = await frontend.performNativeLogout({ performNativeLogoutBody: { session_token: token } });
    assert.equal(out.status, 204);
    await sdkError(frontend.toSession({ xSessionToken: token }), 401);
    assert.equal((await frontend.toSession({ xSessionToken: reg.data.session_token })).status, 200, 'the other session lives');
  });

  test('browser flows: the quickstart UI URLs, allowed return URLs, CORS, cookie sign-up and logout', { timeout: TEST_TIMEOUT }, async () => {
    // A browser navigating to the flow is sent to the quickstart's UI.
    const redirect = await sdkError(frontend.createBrowserRegistrationFlow({}, HTML_ACCEPT), 303);
    assert.match(redirect.headers.location, new RegExp(`^${UI}/registration\\?flow=[0-9a-f-]{36}$`));
    const loginRedirect = await sdkError(frontend.createBrowserLoginFlow({}, HTML_ACCEPT), 303);
    assert.match(loginRedirect.headers.location, new RegExp(`^${UI}/login\\?flow=[0-9a-f-]{36}$`));
    // return_to: allowed under selfservice.allowed_return_urls, refused elsewhere.
    await sdkError(frontend.createBrowserRegistrationFlow({ returnTo: 'https://evil.example/' }, JSON_ACCEPT), 400);

    const email = uniqueEmail('qs-spa');
    const jar = new CookieJar();
    const returnTo = `${UI}/dashboard`;
    const created = jar.store(await frontend.createBrowserRegistrationFlow({ returnTo }, JSON_ACCEPT));
    assert.equal(created.data.return_to, returnTo);
    const done = jar.store(
      await frontend.updateRegistrationFlow({
        flow: created.data.id,
        cookie: jar.header(),
        updateRegistrationFlowBody: { method: 'password', csrf_token: csrfTokenOf(created.data), traits: { email }, password: PASSWORD },
      }),
    );
    assert.equal(done.status, 200);
    assert.deepEqual(done.data.continue_with?.find((c) => c.action === 'redirect_browser_to')?.redirect_browser_to, returnTo);
    const sessionCookie = jar.get('ory_kratos_session');
    assert.ok(sessionCookie, 'the session cookie is set');
    assert.ok(sessionCookie.attrs.includes('Secure'), 'not --dev: the cookie is Secure');

    // toSession with the cookie, from the quickstart UI's origin: CORS answers for it.
    const me = await frontend.toSession({ cookie: jar.header() }, { headers: { Origin: UI } });
    assert.equal(me.data.identity.traits.email, email);
    assert.equal(me.headers['access-control-allow-origin'], UI);
    assert.equal(me.headers['access-control-allow-credentials'], 'true');

    // Browser logout: the logout URL, then the quickstart's logout.after return URL.
    const { data: logout } = await frontend.createBrowserLogoutFlow({ cookie: jar.header() });
    assert.equal(logout.logout_url, `${publicUrl}self-service/logout?token=${logout.logout_token}`);
    const signedIn = jar.header();
    const out = jar.store(await sdkError(frontend.updateLogoutFlow({ token: logout.logout_token, cookie: signedIn }, HTML_ACCEPT), 303));
    assert.equal(out.headers.location, `${UI}/login`);
    assert.equal(jar.get('ory_kratos_session'), undefined, 'the session cookie is cleared');
    await sdkError(frontend.toSession({ cookie: signedIn }), 401);
  });

  test('responses matched Kratos\'s OpenAPI document; the debug log holds no password, token or cookie', async (t) => {
    t.diagnostic(checker.summary());
    assert.ok(checker.validated > 0, 'no response body was validated');
    assert.deepEqual(checker.failures.map((f) => f.message), []);
    await server.stop();
    const log = readFileSync(LOG, 'utf8');
    assert.match(log, /DEBUG/, 'log.level: debug is in effect');
    assert.match(log, /unknown or unsupported config key `selfservice\.flows\.recovery`/);
    for (const secret of [...issuedSecrets, 'PLEASE-CHANGE-ME-I-AM-VERY-INSECURE', '32-LONG-SECRET-NOT-SECURE-AT-ALL']) {
      assert.ok(!log.includes(secret), `the log contains a secret (${secret.slice(0, 10)}…)`);
    }
  });
});
