// Sesame driven by the official Ory JavaScript SDK, `@ory/kratos-client` 26.2.0 (FrontendApi,
// IdentityApi, MetadataApi), exactly as an app written for Kratos would call it: native and browser
// (single-page app) registration and login, whoami by token, cookie and bearer, both logouts, admin
// identities, schemas, health and version, and (settings.mjs) the settings flow with TOTP and backup
// codes and the aal2 logins they lead to. Every response the SDK receives is also validated against
// Kratos's own OpenAPI document (see openapi-check.mjs); the last test checks that it really was.
//
//   cargo build -p sesame-cli && npm ci --prefix compat/node && node --test compat/node/
//
// The whole suite runs twice: on SQLite (`DSN=memory`), and on PostgreSQL when
// SESAME_TEST_POSTGRES_URL is set (e.g. postgres://postgres@127.0.0.1:5432/test), in a fresh schema
// `sdk_<32 hex>` created with psql, selected through the DSN's `options=-c search_path=…` and dropped
// afterwards. Without that variable the PostgreSQL run is skipped, unless CI is set: then it fails.
//
// Environment: SESAME_BIN (default target/debug/sesame), SESAME_TEST_POSTGRES_URL, CI, and
// SESAME_TEST_KRATOS_FIXTURES, the directory holding Kratos's OpenAPI document (fixtures.mjs). Without
// the document the suite runs in full, unchecked, and the schema check and the docs/compatibility.md
// check (which needs the document's operation ids) are reported as skipped. The server's log goes to target/compat-node/sesame.log (sesame-postgres.log for the PostgreSQL run). The
// server listens on 127.0.0.1 only; PostgreSQL is wherever the URL says.
//
// The operationIds the SDK called are written to target/compat-node/operations.json
// (operations-postgres.json), and each run's last test fails unless they are exactly the rows
// docs/compatibility.md marks supported or partly.
//
// Where Sesame answers differently from Kratos, the difference is listed once, in KNOWN_MISMATCHES
// below, with the reason; the tests still assert Kratos's behaviour and fail if a listed difference
// disappears (so the entry gets removed when the server is fixed) or an unlisted one appears.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Configuration, FrontendApi, IdentityApi, MetadataApi } from '@ory/kratos-client';
import { OpenApiChecker, SchemaMismatchError, operationsTable } from './openapi-check.mjs';
import { startSesame } from './sesame-server.mjs';
import { IN_CI, OPENAPI, SKIP_WITHOUT_FIXTURES, requireFixtures } from './fixtures.mjs';
import { identityLifecycleSuite } from './identities.mjs';
import { sessionsSuite } from './sessions.mjs';
import { settingsSuite } from './settings.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const SESAME_BIN = path.resolve(ROOT, process.env.SESAME_BIN ?? 'target/debug/sesame');
const ARTIFACTS = path.join(ROOT, 'target', 'compat-node');

// The axios the SDK itself requires (resolved from the SDK's own location, so it is the very copy the
// SDK would use by default, not a second one). The suite gives the SDK an instance of it that does not
// follow redirects (a 303 is an answer to check, not something to chase) and carries the schema check.
const axios = createRequire(createRequire(import.meta.url).resolve('@ory/kratos-client'))('axios');

const TEST_TIMEOUT = 30_000;
const STEP_TIMEOUT = 10_000;
const PASSWORD = 'correct-horse-battery-7';
// Second factors are off by default, as in Kratos; the suite turns both on (Kratos's variable names).
const SECOND_FACTORS = { SELFSERVICE_METHODS_TOTP_ENABLED: 'true', SELFSERVICE_METHODS_LOOKUP_SECRET_ENABLED: 'true' };

/**
 * Every known mismatch, with the reason and where it has to be fixed (`fixIn`). `kind: 'schema'`
 * entries are response-schema mismatches the checker tolerates (matched by operation — `*` for any —,
 * status and field, `*` = one path segment); `kind: 'behaviour'` entries are SDK-visible differences,
 * asserted through `kratosBehaviour(t, id, …)`. An entry that no longer happens fails the suite:
 * remove it. `fixIn: 'sesame'` is a server bug to fix (in the server, not here); `fixIn: 'openapi'` is
 * a place where Kratos's OpenAPI document disagrees with what Kratos itself sends and Sesame, rightly,
 * sends what Kratos sends.
 */
const KNOWN_MISMATCHES = [
  {
    id: 'native-login-continue-with-null',
    kind: 'schema',
    fixIn: 'openapi',
    operation: 'POST /self-service/login',
    status: 200,
    field: '/continue_with',
    reason:
      'successfulNativeLogin.continue_with is `type: array` (not nullable), but Kratos answers a native ' +
      'login with `"continue_with": null` unless a hook adds items (spec/kratos-api.md §5.8 "API flow", and ' +
      'the worked example in §5.12); Sesame sends the same null.',
  },
  {
    id: 'error-details-additional-properties',
    kind: 'schema',
    fixIn: 'openapi',
    operation: '*',
    field: '/error/details/*',
    reason:
      'genericError.details is `{type: object, additionalProperties: false}` in the document, i.e. it may ' +
      'only ever be `{}`, yet Kratos fills it (e.g. the anti-CSRF 403 carries `details.docs`, `.hint`, ' +
      '`.reject_reason`, spec/kratos-api.md §3.3 and §5.5; the 403 aal2 error `details.redirect_browser_to`) ' +
      'and Sesame sends the same keys.',
  },
  {
    id: 'native-login-identity-null-until-aal2',
    kind: 'schema',
    fixIn: 'openapi',
    operation: 'POST /self-service/login',
    status: 200,
    field: '/session/identity',
    reason:
      'session.identity is a non-nullable `$ref: identity`, but when a native password login leaves the ' +
      'session short of the AAL whoami requires (the identity has TOTP or backup codes), Kratos answers ' +
      'with `"identity": null` (Go `Identity *identity.Identity json:"identity"`, hidden on purpose; ' +
      'spec/kratos-api.md §2.3 field 8 and §5.8 "API flow"); Sesame sends the same null.',
  },
  {
    id: 'browser-location-change-required-nested-error',
    kind: 'schema',
    fixIn: 'openapi',
    operation: 'POST /self-service/login',
    status: 422,
    field: '/error/error',
    reason:
      'errorBrowserLocationChangeRequired.error is `$ref: errorGeneric` (itself `{error: genericError}`), ' +
      'i.e. the document nests the envelope twice and requires `error.error`; Kratos sends ' +
      '`{"error":{"id":"browser_location_change_required","code":422,…},"redirect_browser_to":"…"}` ' +
      '(spec/kratos-api.md §3.3, 422; §5.8 for an SPA login that still owes a second factor), as Sesame does.',
  },
  {
    id: 'admin-sessions-identity-null-unless-expanded',
    kind: 'schema',
    fixIn: 'openapi',
    operation: 'GET /admin/sessions',
    status: 200,
    field: '/*/identity',
    reason:
      'session.identity is a non-nullable `$ref: identity`, but listSessions without `expand=identity` ' +
      'answers `"identity": null` in Kratos (spec/kratos-api.md §2.1 field 8, §4.7 "Not expanded: ' +
      '`identity: null`, `devices: null`"); Sesame sends the same null.',
  },
  {
    id: 'admin-sessions-devices-null-unless-expanded',
    kind: 'schema',
    fixIn: 'openapi',
    operation: 'GET /admin/sessions',
    status: 200,
    field: '/*/devices',
    reason:
      'session.devices is a non-nullable array, but listSessions without `expand=devices` answers ' +
      '`"devices": null` in Kratos (spec/kratos-api.md §2.1 field 9, §4.7); Sesame sends the same null.',
  },
  {
    id: 'admin-session-identity-null-unless-expanded',
    kind: 'schema',
    fixIn: 'openapi',
    operation: 'GET /admin/sessions/{id}',
    status: 200,
    field: '/identity',
    reason:
      'session.identity is a non-nullable `$ref: identity`, but getSession without `expand=identity` ' +
      'answers `"identity": null` in Kratos (spec/kratos-api.md §4.7, §9 item 8); Sesame sends the same null.',
  },
];
// ---- backends: SQLite (in memory) always, PostgreSQL when SESAME_TEST_POSTGRES_URL is set -------

const POSTGRES_URL = process.env.SESAME_TEST_POSTGRES_URL;

/** Runs one statement with psql (installed with PostgreSQL), quietly, failing on an error. */
function psql(url, sql) {
  return execFileSync('psql', [url, '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** `url` with `search_path` set to `schema` for every connection (libpq's `options`, which sqlx reads too). */
function withSearchPath(url, schema) {
  const u = new URL(url);
  const existing = u.searchParams.get('options');
  u.searchParams.set('options', `${existing ? `${existing} ` : ''}-c search_path=${schema}`);
  return u.toString();
}

const SQLITE = {
  label: 'SQLite',
  log: 'sesame.log',
  operations: 'operations.json',
  async setUp() {
    return { DSN: 'memory' };
  },
  async check() {},
  async tearDown() {},
};

/** A fresh schema per run (`sdk_<32 hex>`, as .ci/run's clean-up knows it), dropped afterwards. */
function postgresBackend(url) {
  const schema = `sdk_${randomBytes(16).toString('hex')}`;
  let created = false;
  return {
    label: 'PostgreSQL',
    log: 'sesame-postgres.log',
    operations: 'operations-postgres.json',
    async setUp() {
      psql(url, `CREATE SCHEMA ${schema}`);
      created = true;
      return { DSN: withSearchPath(url, schema) };
    },
    // The server created its tables in that schema, so the run really was on a clean database.
    async check() {
      const tables = psql(url, `SELECT count(*) FROM information_schema.tables WHERE table_schema = '${schema}'`).trim();
      assert.ok(Number(tables) > 0, `sesame created no tables in the schema ${schema} (DSN without effect?)`);
    },
    async tearDown() {
      if (created) psql(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

/** The whole suite against one server on `backend` (see SQLITE and postgresBackend). */
function sdkSuite(backend) {
  describe(`official JavaScript SDK suite (${backend.label})`, () => {
    // ---- server ---------------------------------------------------------------------------------

    let sesame;
    let publicUrl; // http://127.0.0.1:<port>/ (trailing slash, as the server's base URL)
    let adminUrl;
    let publicBase; // the same without the trailing slash: the SDK's basePath
    let adminBase;
    let checker;
    let http; // the SDK's axios instance, with the schema check
    let httpFollowing; // the same but following redirects, as axios does by default
    let frontend;
    let identities; // IdentityApi on the admin port
    let schemas; // IdentityApi on the public port (where Kratos serves /schemas)
    let metadataPublic;
    let metadataAdmin;
    let backendEnv; // the database part of the server's environment (for side servers)

    before(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      assert.ok(existsSync(SESAME_BIN), `no server binary at ${SESAME_BIN}: run \`cargo build -p sesame-cli\` or set SESAME_BIN`);
      if (!SKIP_WITHOUT_FIXTURES) requireFixtures();

      backendEnv = await backend.setUp();
      sesame = await startSesame({
        bin: SESAME_BIN,
        cwd: ROOT,
        args: ['serve', '--dev'],
        env: { ...backendEnv, ...SECOND_FACTORS },
        log: path.join(ARTIFACTS, backend.log),
      });
      await backend.check();
      ({ publicUrl, adminUrl } = sesame);
      publicBase = publicUrl.slice(0, -1);
      adminBase = adminUrl.slice(0, -1);

      // Without Kratos's document the SDK talks to Sesame directly, unchecked.
      checker = OPENAPI && OpenApiChecker.load(OPENAPI, { known: KNOWN_MISMATCHES.filter((k) => k.kind === 'schema') });
      const checked = (instance) => (checker ? checker.attach(instance) : instance);
      http = checked(axios.create({ maxRedirects: 0, timeout: STEP_TIMEOUT }));
      httpFollowing = checked(axios.create({ timeout: STEP_TIMEOUT }));
      const publicConfig = new Configuration({ basePath: publicBase });
      const adminConfig = new Configuration({ basePath: adminBase });
      frontend = new FrontendApi(publicConfig, undefined, http);
      identities = new IdentityApi(adminConfig, undefined, http);
      schemas = new IdentityApi(publicConfig, undefined, http);
      metadataPublic = new MetadataApi(publicConfig, undefined, http);
      metadataAdmin = new MetadataApi(adminConfig, undefined, http);
    });

    after(async () => {
      try {
        await sesame?.stop();
      } finally {
        await backend.tearDown();
      }
    });

    // ---- helpers --------------------------------------------------------------------------------

    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const uniqueEmail = (who) => `${who}-${randomUUID().slice(0, 8)}@example.com`;
    const JSON_ACCEPT = { headers: { Accept: 'application/json' } };

    /** The SDK call must fail with the server's `status`; returns the axios error's response. */
    async function sdkError(promise, status) {
      let error;
      try {
        const res = await promise;
        assert.fail(`expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.data)}`);
      } catch (e) {
        if (e instanceof SchemaMismatchError || e instanceof assert.AssertionError) throw e;
        error = e;
      }
      assert.equal(error.isAxiosError, true, `expected an axios error, got ${error}`);
      assert.ok(error.response, `no response: ${error.message}`);
      assert.equal(error.response.status, status, `status; body: ${JSON.stringify(error.response.data)}`);
      return error.response;
    }

    /** The error envelope every Kratos error has, with its code. */
    function assertErrorEnvelope(body, code) {
      assert.equal(typeof body, 'object');
      assert.equal(body.error.code, code);
      assert.equal(typeof body.error.message, 'string');
      assert.ok(body.error.message.length > 0);
      return body.error;
    }

    const knownBehaviourSeen = new Set();

    /**
     * Runs `fn`, which asserts what Kratos does. If `id` is a known mismatch, `fn` must fail (the
     * difference is still there) and the failure is recorded instead of thrown; if it passes, the entry
     * is stale and the test fails so that it gets removed.
     */
    async function kratosBehaviour(t, id, fn) {
      const known = KNOWN_MISMATCHES.find((k) => k.id === id && k.kind === 'behaviour');
      assert.ok(known || !KNOWN_MISMATCHES.some((k) => k.id === id), `${id} is not a behaviour entry`);
      if (!known) return fn();
      try {
        await fn();
      } catch (e) {
        // Only a failed assertion is "the difference is still there"; anything else is a real failure.
        if (!(e instanceof assert.AssertionError)) throw e;
        knownBehaviourSeen.add(id);
        t.diagnostic(`known mismatch ${id}: ${e.message.split('\n')[0]}`);
        return undefined;
      }
      assert.fail(`KNOWN_MISMATCHES lists ${id}, but Sesame now behaves like Kratos here: remove the entry`);
    }

    /** A browser's cookies for the public origin, fed from `set-cookie` and sent as a `cookie` header. */
    class CookieJar {
      #cookies = new Map();

      store(response) {
        for (const line of [].concat(response.headers['set-cookie'] ?? [])) {
          const [pair, ...attrs] = line.split(';');
          const eq = pair.indexOf('=');
          const name = pair.slice(0, eq).trim();
          const value = pair.slice(eq + 1).trim();
          const attr = (n) => attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith(`${n}=`))?.split('=')[1];
          const maxAge = attr('max-age');
          const expires = attr('expires');
          const expired = (maxAge !== undefined && Number(maxAge) <= 0) || (expires !== undefined && Date.parse(expires) <= Date.now());
          if (expired || value === '') this.#cookies.delete(name);
          else this.#cookies.set(name, { value, attrs: attrs.map((a) => a.trim()) });
        }
        return response;
      }

      get(name) {
        return this.#cookies.get(name);
      }

      names() {
        return [...this.#cookies.keys()];
      }

      header() {
        return [...this.#cookies].map(([n, c]) => `${n}=${c.value}`).join('; ');
      }
    }

    const nodeNamed = (flow, name) => flow.ui.nodes.find((n) => n.attributes.name === name);
    const csrfTokenOf = (flow) => nodeNamed(flow, 'csrf_token')?.attributes.value;

    function assertFlowBasics(flow, { type, action }) {
      assert.match(flow.id, UUID);
      assert.equal(flow.type, type);
      assert.equal(flow.ui.method, 'POST');
      assert.equal(flow.ui.action, `${publicUrl}self-service/${action}?flow=${flow.id}`);
      assert.ok(Date.parse(flow.expires_at) > Date.parse(flow.issued_at), 'expires_at after issued_at');
      assert.ok(Array.isArray(flow.ui.nodes));
    }

    function assertSession(session, { identityId, email }) {
      assert.match(session.id, UUID);
      assert.equal(session.active, true);
      assert.equal(session.identity.id, identityId);
      assert.equal(session.identity.traits.email, email);
      assert.equal(session.authenticator_assurance_level, 'aal1');
      assert.equal(session.authentication_methods[0].method, 'password');
      assert.ok(Date.parse(session.expires_at) > Date.now(), 'the session expires in the future');
      assert.ok(Date.parse(session.authenticated_at) <= Date.parse(session.expires_at));
    }

    /** Native registration through the SDK; returns `{ token, identity, session }`. */
    async function registerNative(email, password = PASSWORD) {
      const { data: flow } = await frontend.createNativeRegistrationFlow();
      const { status, data } = await frontend.updateRegistrationFlow({
        flow: flow.id,
        updateRegistrationFlowBody: { method: 'password', traits: { email }, password },
      });
      assert.equal(status, 200);
      return { token: data.session_token, identity: data.identity, session: data.session };
    }

    /** Native login through the SDK; returns the successful body. */
    async function loginNative(identifier, password = PASSWORD) {
      const { data: flow } = await frontend.createNativeLoginFlow();
      const { status, data } = await frontend.updateLoginFlow({
        flow: flow.id,
        updateLoginFlowBody: { method: 'password', identifier, password },
      });
      assert.equal(status, 200);
      return data;
    }

    /** Signs up SPA-style (JSON, cookie jar, CSRF token) and returns the jar and the body. */
    async function registerBrowser(email) {
      const jar = new CookieJar();
      const { data: flow } = jar.store(await frontend.createBrowserRegistrationFlow({}, JSON_ACCEPT));
      const res = jar.store(
        await frontend.updateRegistrationFlow({
          flow: flow.id,
          cookie: jar.header(),
          updateRegistrationFlowBody: { method: 'password', csrf_token: csrfTokenOf(flow), traits: { email }, password: PASSWORD },
        }),
      );
      return { jar, body: res.data };
    }

    // ---- tests ----------------------------------------------------------------------------------

    describe('MetadataApi: health and version', () => {
      test('isAlive and isReady on both ports, getVersion on the admin port', { timeout: TEST_TIMEOUT }, async () => {
        for (const api of [metadataPublic, metadataAdmin]) {
          const alive = await api.isAlive();
          assert.equal(alive.status, 200);
          assert.deepEqual(alive.data, { status: 'ok' });
          const ready = await api.isReady();
          assert.equal(ready.status, 200);
          assert.deepEqual(ready.data, { status: 'ok' });
        }
        const { status, data } = await metadataAdmin.getVersion();
        assert.equal(status, 200);
        assert.equal(typeof data.version, 'string');
        const cli = execFileSync(SESAME_BIN, ['--version'], { encoding: 'utf8' }).trim();
        assert.equal(cli, `sesame ${data.version}`, 'getVersion reports the binary version');
      });
    });

    describe('IdentityApi: identity schemas', () => {
      test('listIdentitySchemas and getIdentitySchema (by id and by its base64url form); unknown is 404', { timeout: TEST_TIMEOUT }, async () => {
        const { status, data: list } = await schemas.listIdentitySchemas();
        assert.equal(status, 200);
        assert.ok(Array.isArray(list));
        const def = list.find((s) => s.id === 'default');
        assert.ok(def, `the default schema is listed (ids: ${list.map((s) => s.id).join(', ')})`);
        assert.equal(def.schema.properties.traits.properties.email.format, 'email');
        assert.deepEqual(def.schema.properties.traits.required, ['email']);

        const byId = await schemas.getIdentitySchema({ id: 'default' });
        assert.equal(byId.status, 200);
        assert.deepEqual(byId.data, def.schema);
        const byEncodedId = await schemas.getIdentitySchema({ id: Buffer.from('default').toString('base64url') });
        assert.deepEqual(byEncodedId.data, def.schema);

        const missing = await sdkError(schemas.getIdentitySchema({ id: 'no-such-schema' }), 404);
        assertErrorEnvelope(missing.data, 404);
      });

      test('through IdentityApi on the admin URL, as apps configure it: a 307 to the public port', { timeout: TEST_TIMEOUT }, async (t) => {
        const { data: expected } = await schemas.listIdentitySchemas();
        await kratosBehaviour(t, 'admin-port-schemas', async () => {
          const redirect = await identities.listIdentitySchemas().then(
            (res) => assert.fail(`expected a 307, got ${res.status}`),
            (e) => {
              if (!e.response) throw e;
              return e.response;
            },
          );
          assert.equal(redirect.status, 307, `listIdentitySchemas on the admin port answered ${redirect.status}: ${JSON.stringify(redirect.data)}`);
          assert.equal(redirect.headers.location, `${publicUrl}schemas`);
          // An app's SDK follows it.
          const adminSchemas = new IdentityApi(new Configuration({ basePath: adminBase }), undefined, httpFollowing);
          assert.deepEqual((await adminSchemas.listIdentitySchemas()).data, expected);
          assert.deepEqual((await adminSchemas.getIdentitySchema({ id: 'default' })).data, expected.find((s) => s.id === 'default').schema);
        });
      });
    });

    describe('FrontendApi: native registration and login', () => {
      test('registration flow: create, get, a validation error, then success with a session token', { timeout: TEST_TIMEOUT }, async () => {
        const email = uniqueEmail('native-reg');
        const created = await frontend.createNativeRegistrationFlow();
        assert.equal(created.status, 200);
        const flow = created.data;
        assertFlowBasics(flow, { type: 'api', action: 'registration' });
        assert.equal(flow.state, 'choose_method');
        for (const name of ['traits.email', 'password', 'method']) assert.ok(nodeNamed(flow, name), `node ${name}`);
        assert.equal(nodeNamed(flow, 'password').attributes.type, 'password');
        assert.equal(nodeNamed(flow, 'method').attributes.value, 'password');

        const fetched = await frontend.getRegistrationFlow({ id: flow.id });
        assert.equal(fetched.status, 200);
        assert.equal(fetched.data.id, flow.id);
        assert.equal(fetched.data.ui.action, flow.ui.action);

        // A password that is too short: 400 with the flow, the error on the password node.
        const invalid = await sdkError(
          frontend.updateRegistrationFlow({
            flow: flow.id,
            updateRegistrationFlowBody: { method: 'password', traits: { email }, password: 'short' },
          }),
          400,
        );
        assert.equal(invalid.data.id, flow.id);
        const passwordMessages = nodeNamed(invalid.data, 'password').messages;
        assert.ok(passwordMessages.length > 0, 'the password node carries a message');
        assert.equal(passwordMessages[0].type, 'error');
        assert.equal(typeof passwordMessages[0].id, 'number');
        assert.equal(nodeNamed(invalid.data, 'traits.email').attributes.value, email, 'the email is kept');

        const done = await frontend.updateRegistrationFlow({
          flow: flow.id,
          updateRegistrationFlowBody: { method: 'password', traits: { email }, password: PASSWORD },
        });
        assert.equal(done.status, 200);
        const { identity, session, session_token: token } = done.data;
        assert.match(token, /^ory_st_[A-Za-z0-9]{32}$/);
        assert.match(identity.id, UUID);
        assert.equal(identity.schema_id, 'default');
        assert.equal(identity.schema_url, `${publicUrl}schemas/ZGVmYXVsdA`);
        assert.equal(identity.state, 'active');
        assert.deepEqual(identity.traits, { email });
        assert.equal(identity.verifiable_addresses.length, 1);
        assert.equal(identity.verifiable_addresses[0].value, email);
        assert.equal(identity.verifiable_addresses[0].via, 'email');
        assert.equal(identity.verifiable_addresses[0].verified, false);
        assert.equal(identity.verifiable_addresses[0].status, 'pending');
        assertSession(session, { identityId: identity.id, email });
        assert.deepEqual(
          done.data.continue_with?.find((c) => c.action === 'set_ory_session_token'),
          { action: 'set_ory_session_token', ory_session_token: token },
        );

        // The same email again: 400, the flow says the account exists.
        const { data: again } = await frontend.createNativeRegistrationFlow();
        const dup = await sdkError(
          frontend.updateRegistrationFlow({
            flow: again.id,
            updateRegistrationFlowBody: { method: 'password', traits: { email }, password: PASSWORD },
          }),
          400,
        );
        assert.equal(dup.data.ui.messages[0].id, 4000007);
      });

      test('login flow: create, get, a wrong password (4000006), then success', { timeout: TEST_TIMEOUT }, async () => {
        const email = uniqueEmail('native-login');
        const { identity } = await registerNative(email);

        const created = await frontend.createNativeLoginFlow();
        assert.equal(created.status, 200);
        const flow = created.data;
        assertFlowBasics(flow, { type: 'api', action: 'login' });
        assert.equal(flow.refresh, false);
        assert.equal(flow.requested_aal, 'aal1');
        for (const name of ['identifier', 'password', 'method']) assert.ok(nodeNamed(flow, name), `node ${name}`);

        const fetched = await frontend.getLoginFlow({ id: flow.id });
        assert.equal(fetched.status, 200);
        assert.equal(fetched.data.id, flow.id);

        const wrong = await sdkError(
          frontend.updateLoginFlow({
            flow: flow.id,
            updateLoginFlowBody: { method: 'password', identifier: email, password: 'not-the-password-1' },
          }),
          400,
        );
        assert.equal(wrong.data.id, flow.id);
        assert.equal(wrong.data.ui.messages[0].id, 4000006);
        assert.equal(wrong.data.ui.messages[0].type, 'error');

        const done = await frontend.updateLoginFlow({
          flow: flow.id,
          updateLoginFlowBody: { method: 'password', identifier: email, password: PASSWORD },
        });
        assert.equal(done.status, 200);
        assert.match(done.data.session_token, /^ory_st_/);
        assertSession(done.data.session, { identityId: identity.id, email });

        const missing = await sdkError(frontend.getLoginFlow({ id: randomUUID() }), 404);
        assertErrorEnvelope(missing.data, 404);

        // With a session token, a new login flow is refused unless it is a refresh; so is registration.
        const token = done.data.session_token;
        const already = await sdkError(frontend.createNativeLoginFlow({ xSessionToken: token }), 400);
        assert.equal(assertErrorEnvelope(already.data, 400).id, 'session_already_available');
        const refresh = await frontend.createNativeLoginFlow({ refresh: true, xSessionToken: token });
        assert.equal(refresh.status, 200);
        assert.equal(refresh.data.refresh, true);
        assert.equal(nodeNamed(refresh.data, 'identifier').attributes.value, email, 'the identifier is pre-filled');
      });
    });

    describe('FrontendApi: toSession', () => {
      test('with the session token (xSessionToken), and with Authorization: Bearer', { timeout: TEST_TIMEOUT }, async () => {
        const email = uniqueEmail('whoami');
        const { token, identity, session } = await registerNative(email);

        const byToken = await frontend.toSession({ xSessionToken: token });
        assert.equal(byToken.status, 200);
        assertSession(byToken.data, { identityId: identity.id, email });
        assert.equal(byToken.data.id, session.id);
        assert.equal(byToken.headers['x-kratos-authenticated-identity-id'], identity.id);

        // Bearer through the SDK's configuration (the generated toSession has no bearer parameter of its own).
        const bearer = new FrontendApi(
          new Configuration({ basePath: publicBase, baseOptions: { headers: { Authorization: `Bearer ${token}` } } }),
          undefined,
          http,
        );
        const byBearer = await bearer.toSession();
        assert.equal(byBearer.status, 200);
        assert.equal(byBearer.data.id, session.id);
        assert.equal(byBearer.data.identity.id, identity.id);

        // A second session for the same identity is a different session.
        const second = await loginNative(email);
        const bySecond = await frontend.toSession({ xSessionToken: second.session_token });
        assert.notEqual(bySecond.data.id, session.id);
        assert.equal(bySecond.data.identity.id, identity.id);
      });

      test('401 as the SDK error: no credentials, an unknown token, an unreadable cookie', { timeout: TEST_TIMEOUT }, async () => {
        for (const [what, params] of [
          ['no credentials', {}],
          ['an unknown token', { xSessionToken: 'ory_st_00000000000000000000000000000000' }],
          ['an unreadable session cookie', { cookie: 'ory_kratos_session=not-a-sealed-cookie' }],
        ]) {
          const res = await sdkError(frontend.toSession(params), 401);
          const error = assertErrorEnvelope(res.data, 401);
          assert.equal(error.status, 'Unauthorized', what);
          // Sesame's documented difference (docs/compatibility.md #1): the 401 carries its id.
          assert.equal(error.id, 'session_inactive', what);
          assert.equal(res.headers['ory-error-id'], 'session_inactive', what);
        }
      });
    });

    describe('FrontendApi: native logout', () => {
      test('performNativeLogout revokes the token; again is 204; an unknown token is 403', { timeout: TEST_TIMEOUT }, async () => {
        const email = uniqueEmail('native-logout');
        const { token } = await registerNative(email);
        const other = await loginNative(email);

        const out = await frontend.performNativeLogout({ performNativeLogoutBody: { session_token: token } });
        assert.equal(out.status, 204);
        assert.equal(out.data, '');
        await sdkError(frontend.toSession({ xSessionToken: token }), 401);
        // Only that session: the other one is still active.
        assert.equal((await frontend.toSession({ xSessionToken: other.session_token })).data.active, true);

        const again = await frontend.performNativeLogout({ performNativeLogoutBody: { session_token: token } });
        assert.equal(again.status, 204);

        const unknown = await sdkError(
          frontend.performNativeLogout({ performNativeLogoutBody: { session_token: 'ory_st_00000000000000000000000000000000' } }),
          403,
        );
        assertErrorEnvelope(unknown.data, 403);
      });
    });

    describe('FrontendApi: browser flows, single-page-app style (JSON, cookie jar, CSRF token)', () => {
      test("the SDK's default Accept gets browser flows as JSON (createBrowserRegistrationFlow, createBrowserLoginFlow)", { timeout: TEST_TIMEOUT }, async (t) => {
        await kratosBehaviour(t, 'accept-negotiation', async () => {
          const res = await frontend.createBrowserRegistrationFlow().catch((e) => {
            if (e.response) assert.fail(`createBrowserRegistrationFlow answered ${e.response.status} (Location: ${e.response.headers.location})`);
            throw e;
          });
          assert.equal(res.status, 200);
          assert.equal(res.data.type, 'browser');
        });
        await kratosBehaviour(t, 'accept-negotiation', async () => {
          const res = await frontend.createBrowserLoginFlow().catch((e) => {
            if (e.response) assert.fail(`createBrowserLoginFlow answered ${e.response.status} (Location: ${e.response.headers.location})`);
            throw e;
          });
          assert.equal(res.status, 200);
          assert.equal(res.data.type, 'browser');
        });
      });

      test('registration: create, get with the cookie, CSRF refused without the token, sign-up sets the session cookie', { timeout: TEST_TIMEOUT }, async () => {
        const email = uniqueEmail('spa-reg');
        const jar = new CookieJar();

        const created = jar.store(await frontend.createBrowserRegistrationFlow({}, JSON_ACCEPT));
        assert.equal(created.status, 200);
        const flow = created.data;
        assertFlowBasics(flow, { type: 'browser', action: 'registration' });
        const csrfCookie = jar.names().find((n) => n.startsWith('csrf_token'));
        assert.ok(csrfCookie, `an anti-CSRF cookie is set (set-cookie: ${created.headers['set-cookie']})`);
        assert.ok(jar.get(csrfCookie).attrs.includes('HttpOnly'));
        const csrfToken = csrfTokenOf(flow);
        assert.equal(typeof csrfToken, 'string');
        assert.ok(csrfToken.length > 0, 'the flow carries a csrf_token');
        assert.equal(nodeNamed(flow, 'csrf_token').attributes.type, 'hidden');

        const fetched = await frontend.getRegistrationFlow({ id: flow.id, cookie: jar.header() });
        assert.equal(fetched.status, 200);
        assert.equal(fetched.data.id, flow.id);
        assert.equal(csrfTokenOf(fetched.data).length > 0, true);
        // A browser flow is only shown to the browser that holds its anti-CSRF cookie.
        const stranger = await sdkError(frontend.getRegistrationFlow({ id: flow.id }), 403);
        assert.equal(assertErrorEnvelope(stranger.data, 403).id, 'security_csrf_violation');

        // The same submit without the token (or without the cookie) is refused.
        const body = { method: 'password', traits: { email }, password: PASSWORD };
        const noToken = await sdkError(frontend.updateRegistrationFlow({ flow: flow.id, cookie: jar.header(), updateRegistrationFlowBody: body }), 403);
        assert.equal(assertErrorEnvelope(noToken.data, 403).id, 'security_csrf_violation');
        const noCookie = await sdkError(
          frontend.updateRegistrationFlow({ flow: flow.id, updateRegistrationFlowBody: { ...body, csrf_token: csrfToken } }),
          403,
        );
        assert.equal(assertErrorEnvelope(noCookie.data, 403).id, 'security_csrf_violation');

        const done = jar.store(
          await frontend.updateRegistrationFlow({
            flow: flow.id,
            cookie: jar.header(),
            updateRegistrationFlowBody: { ...body, csrf_token: csrfToken },
          }),
        );
        assert.equal(done.status, 200);
        assert.equal(done.data.session_token, undefined, 'browser flows issue no session token');
        assert.deepEqual(done.data.identity.traits, { email });
        assertSession(done.data.session, { identityId: done.data.identity.id, email });
        assert.equal(done.data.continue_with?.[0]?.action, 'redirect_browser_to');
        const sessionCookie = jar.get('ory_kratos_session');
        assert.ok(sessionCookie, `the session cookie is set (cookies: ${jar.names().join(', ')})`);
        assert.ok(sessionCookie.attrs.includes('HttpOnly'));

        // toSession with the browser's cookie header, as a server-side app forwards it.
        const me = await frontend.toSession({ cookie: jar.header() });
        assert.equal(me.status, 200);
        assert.equal(me.data.id, done.data.session.id);
        assertSession(me.data, { identityId: done.data.identity.id, email });
      });

      test('login: create, get, wrong password, success, toSession with the cookie', { timeout: TEST_TIMEOUT }, async () => {
        const email = uniqueEmail('spa-login');
        const { identity } = await registerNative(email);
        const jar = new CookieJar();

        const created = jar.store(await frontend.createBrowserLoginFlow({}, JSON_ACCEPT));
        assert.equal(created.status, 200);
        const flow = created.data;
        assertFlowBasics(flow, { type: 'browser', action: 'login' });
        const csrf_token = csrfTokenOf(flow);
        assert.ok(csrf_token);

        const fetched = await frontend.getLoginFlow({ id: flow.id, cookie: jar.header() });
        assert.equal(fetched.data.id, flow.id);
        const stranger = await sdkError(frontend.getLoginFlow({ id: flow.id }), 403);
        assert.equal(assertErrorEnvelope(stranger.data, 403).id, 'security_csrf_violation');

        const wrong = await sdkError(
          frontend.updateLoginFlow({
            flow: flow.id,
            cookie: jar.header(),
            updateLoginFlowBody: { method: 'password', identifier: email, password: 'not-the-password-1', csrf_token },
          }),
          400,
        );
        jar.store(wrong);
        assert.equal(wrong.data.ui.messages[0].id, 4000006);
        await sdkError(frontend.toSession({ cookie: jar.header() }), 401);

        const done = jar.store(
          await frontend.updateLoginFlow({
            flow: flow.id,
            cookie: jar.header(),
            updateLoginFlowBody: { method: 'password', identifier: email, password: PASSWORD, csrf_token: csrfTokenOf(wrong.data) ?? csrf_token },
          }),
        );
        assert.equal(done.status, 200);
        assert.equal(done.data.session_token, undefined);
        assertSession(done.data.session, { identityId: identity.id, email });
        assert.ok(jar.get('ory_kratos_session'), 'the session cookie is set');

        const me = await frontend.toSession({ cookie: jar.header() });
        assert.equal(me.data.id, done.data.session.id);
        assert.equal(me.data.identity.id, identity.id);

        // Signed in, a new login flow is refused unless it is a refresh.
        const already = await sdkError(frontend.createBrowserLoginFlow({ cookie: jar.header() }, JSON_ACCEPT), 400);
        assert.equal(assertErrorEnvelope(already.data, 400).id, 'session_already_available');
        const refresh = await frontend.createBrowserLoginFlow({ refresh: true, cookie: jar.header() }, JSON_ACCEPT);
        assert.equal(refresh.status, 200);
        assert.equal(refresh.data.refresh, true);
      });

      test('logout: createBrowserLogoutFlow and updateLogoutFlow with the cookie', { timeout: TEST_TIMEOUT }, async (t) => {
        const email = uniqueEmail('spa-logout');

        // With the SDK's default Accept, Kratos treats updateLogoutFlow as a JSON request: 204.
        await kratosBehaviour(t, 'accept-negotiation', async () => {
          const { jar } = await registerBrowser(uniqueEmail('spa-logout-default'));
          const { data: logout } = await frontend.createBrowserLogoutFlow({ cookie: jar.header() });
          const res = await frontend.updateLogoutFlow({ token: logout.logout_token, cookie: jar.header() }).catch((e) => {
            if (e.response) assert.fail(`updateLogoutFlow answered ${e.response.status} (Location: ${e.response.headers.location})`);
            throw e;
          });
          assert.equal(res.status, 204);
        });

        const { jar, body } = await registerBrowser(email);
        const signedIn = jar.header();
        const created = await frontend.createBrowserLogoutFlow({ cookie: signedIn });
        assert.equal(created.status, 200);
        const { logout_token: token, logout_url: url } = created.data;
        assert.match(token, /^ory_lo_/);
        assert.equal(url, `${publicUrl}self-service/logout?token=${token}`);

        // A token that is not this session's: 403, and the session survives.
        const foreign = await registerBrowser(uniqueEmail('spa-logout-other'));
        const { data: foreignLogout } = await frontend.createBrowserLogoutFlow({ cookie: foreign.jar.header() });
        const mismatch = await sdkError(
          frontend.updateLogoutFlow({ token: foreignLogout.logout_token, cookie: signedIn }, JSON_ACCEPT),
          403,
        );
        assertErrorEnvelope(mismatch.data, 403);
        assert.equal((await frontend.toSession({ cookie: signedIn })).status, 200);

        const out = jar.store(await frontend.updateLogoutFlow({ token, cookie: signedIn }, JSON_ACCEPT));
        assert.equal(out.status, 204);
        assert.equal(jar.get('ory_kratos_session'), undefined, 'the session cookie is cleared');

        // The old cookie is dead on the server, not only forgotten by the jar.
        await sdkError(frontend.toSession({ cookie: signedIn }), 401);
        assert.equal((await identities.getIdentity({ id: body.identity.id })).data.id, body.identity.id, 'the identity stays');

        // Without a session there is nothing to log out of.
        const none = await sdkError(frontend.createBrowserLogoutFlow({ cookie: jar.header() }), 401);
        assertErrorEnvelope(none.data, 401);
      });
    });

    /** Another server on the same DSN (a database of its own for `memory`) with `env` added; its log is
     * `<backend log>-<name>.log`. */
    function startSideServer(env, name) {
      return startSesame({
        bin: SESAME_BIN,
        cwd: ROOT,
        args: ['serve', '--dev'],
        env: { ...backendEnv, ...SECOND_FACTORS, ...env },
        log: path.join(ARTIFACTS, backend.log.replace(/\.log$/, `-${name}.log`)),
      });
    }

    settingsSuite({
      get frontend() {
        return frontend;
      },
      get http() {
        return http;
      },
      get publicUrl() {
        return publicUrl;
      },
      password: PASSWORD,
      timeout: TEST_TIMEOUT,
      jsonAccept: JSON_ACCEPT,
      sdkError,
      assertErrorEnvelope,
      CookieJar,
      nodeNamed,
      csrfTokenOf,
      assertFlowBasics,
      uniqueEmail,
      startSideServer,
    });

    identityLifecycleSuite({
      get identities() {
        return identities;
      },
      get frontend() {
        return frontend;
      },
      password: PASSWORD,
      timeout: TEST_TIMEOUT,
      sdkError,
      assertErrorEnvelope,
      uniqueEmail,
      loginNative,
    });

    sessionsSuite({
      get frontend() {
        return frontend;
      },
      get identities() {
        return identities;
      },
      get http() {
        return http;
      },
      get publicUrl() {
        return publicUrl;
      },
      get adminUrl() {
        return adminUrl;
      },
      password: PASSWORD,
      timeout: TEST_TIMEOUT,
      sdkError,
      assertErrorEnvelope,
      uniqueEmail,
      startSideServer,
    });

    describe('IdentityApi: admin identities', () => {
      test('create, get, list, update (PUT), delete', { timeout: TEST_TIMEOUT }, async () => {
        const email = uniqueEmail('admin');
        const created = await identities.createIdentity({
          createIdentityBody: {
            schema_id: 'default',
            traits: { email, name: { first: 'Ada', last: 'Lovelace' } },
            credentials: { password: { config: { password: PASSWORD } } },
            metadata_public: { plan: 'free' },
            metadata_admin: { note: 'imported' },
          },
        });
        assert.equal(created.status, 201);
        const identity = created.data;
        assert.match(identity.id, UUID);
        assert.equal(identity.schema_id, 'default');
        assert.equal(identity.schema_url, `${publicUrl}schemas/ZGVmYXVsdA`);
        assert.equal(identity.state, 'active');
        assert.deepEqual(identity.traits, { email, name: { first: 'Ada', last: 'Lovelace' } });
        assert.deepEqual(identity.metadata_public, { plan: 'free' });
        assert.deepEqual(identity.metadata_admin, { note: 'imported' });
        assert.deepEqual(identity.credentials?.password?.identifiers, [email]);
        assert.equal(identity.credentials.password.config, undefined, 'credential config is not returned');
        assert.equal(identity.verifiable_addresses[0].value, email);
        assert.equal(identity.verifiable_addresses[0].status, 'pending');
        assert.ok(Date.parse(identity.created_at) <= Date.now());
        assert.equal(created.headers.location, `${adminUrl}identities/${identity.id}`);

        // The imported password signs in.
        const login = await loginNative(email);
        assert.equal(login.session.identity.id, identity.id);

        const got = await identities.getIdentity({ id: identity.id });
        assert.equal(got.status, 200);
        assert.equal(got.data.id, identity.id);
        assert.deepEqual(got.data.traits, identity.traits);
        assert.deepEqual(got.data.metadata_admin, { note: 'imported' });

        const listed = await identities.listIdentities();
        assert.equal(listed.status, 200);
        assert.ok(Array.isArray(listed.data));
        assert.ok(listed.data.some((i) => i.id === identity.id), 'the new identity is listed');
        const filtered = await identities.listIdentities({ credentialsIdentifier: email });
        assert.deepEqual(
          filtered.data.map((i) => i.id),
          [identity.id],
        );

        const newEmail = uniqueEmail('admin-renamed');
        const updated = await identities.updateIdentity({
          id: identity.id,
          updateIdentityBody: {
            schema_id: 'default',
            state: 'inactive',
            traits: { email: newEmail, name: { first: 'Ada', last: 'King' } },
            metadata_public: { plan: 'pro' },
          },
        });
        assert.equal(updated.status, 200);
        assert.equal(updated.data.id, identity.id);
        assert.equal(updated.data.state, 'inactive');
        assert.deepEqual(updated.data.traits, { email: newEmail, name: { first: 'Ada', last: 'King' } });
        assert.deepEqual(updated.data.metadata_public, { plan: 'pro' });
        assert.equal(updated.data.verifiable_addresses[0].value, newEmail);
        assert.equal((await identities.getIdentity({ id: identity.id })).data.state, 'inactive');

        const deleted = await identities.deleteIdentity({ id: identity.id });
        assert.equal(deleted.status, 204);
        assert.equal(deleted.data, '');
        assertErrorEnvelope((await sdkError(identities.getIdentity({ id: identity.id }), 404)).data, 404);
        assertErrorEnvelope((await sdkError(identities.deleteIdentity({ id: identity.id }), 404)).data, 404);
        await sdkError(frontend.toSession({ xSessionToken: login.session_token }), 401);
      });

      test('errors: conflicting identifier 409, traits against the schema 400, unknown schema 400', { timeout: TEST_TIMEOUT }, async () => {
        const email = uniqueEmail('admin-conflict');
        await identities.createIdentity({ createIdentityBody: { schema_id: 'default', traits: { email } } });
        const conflict = await sdkError(identities.createIdentity({ createIdentityBody: { schema_id: 'default', traits: { email } } }), 409);
        assertErrorEnvelope(conflict.data, 409);

        const invalid = await sdkError(identities.createIdentity({ createIdentityBody: { schema_id: 'default', traits: { name: { first: 'No' } } } }), 400);
        assertErrorEnvelope(invalid.data, 400);

        const unknownSchema = await sdkError(identities.createIdentity({ createIdentityBody: { schema_id: 'nope', traits: { email: uniqueEmail('x') } } }), 400);
        assertErrorEnvelope(unknownSchema.data, 400);
      });
    });

    describe('the differences from Kratos listed in KNOWN_MISMATCHES', () => {
      test('every listed behaviour difference was observed', () => {
        const behaviours = KNOWN_MISMATCHES.filter((k) => k.kind === 'behaviour').map((k) => k.id);
        assert.deepEqual(
          behaviours.filter((id) => !knownBehaviourSeen.has(id)),
          [],
          'KNOWN_MISMATCHES behaviour entries that were not observed',
        );
      });
    });

    describe("the response-schema check against Kratos's OpenAPI document", { skip: SKIP_WITHOUT_FIXTURES }, () => {
      test('ran on the responses above, found nothing unlisted, and every listed mismatch still happens', (t) => {
        t.diagnostic(checker.summary());
        assert.ok(checker.validated > 0, 'no response body was validated: the interceptor did not run');
        for (const op of [
          'GET /sessions/whoami 200',
          'GET /sessions/whoami 401',
          'POST /admin/identities 201',
          'POST /self-service/registration 200',
          'GET /self-service/settings/api 200',
          'POST /self-service/settings 200',
          'POST /self-service/settings 400',
        ]) {
          assert.ok([...checker.byOperation.keys()].some((k) => k.startsWith(op)), `${op} was validated`);
        }
        assert.deepEqual(
          checker.failures.map((f) => f.message),
          [],
          'responses that do not match the document (each also failed its own test)',
        );
        assert.deepEqual(
          checker.staleKnown().map((k) => k.id),
          [],
          'KNOWN_MISMATCHES schema entries that no longer happen: remove them',
        );
      });
    });

    describe('docs/compatibility.md against what this suite exercised', { skip: SKIP_WITHOUT_FIXTURES }, () => {
      test('the operations marked supported or partly are exactly the operations the SDK called', () => {
        const called = [...checker.operations.keys()].sort();
        writeFileSync(path.join(ARTIFACTS, backend.operations), `${JSON.stringify(Object.fromEntries([...checker.operations].sort()), null, 2)}\n`);
        const rows = operationsTable(readFileSync(path.join(ROOT, 'docs', 'compatibility.md'), 'utf8'));
        assert.ok(rows.length > 50, `only ${rows.length} rows in the Operations table`);
        const claimed = rows.filter((r) => r.status === 'supported' || r.status === 'partly').map((r) => r.operationId).sort();
        assert.deepEqual(
          claimed.filter((id) => !called.includes(id)),
          [],
          'marked supported or partly in docs/compatibility.md but never called by this suite: add an SDK test (or fix the row)',
        );
        assert.deepEqual(
          called.filter((id) => !claimed.includes(id)),
          [],
          'called by this suite but not marked supported or partly in docs/compatibility.md: update the row',
        );
      });
    });
  });
}

sdkSuite(SQLITE);
if (POSTGRES_URL) {
  sdkSuite(postgresBackend(POSTGRES_URL));
} else if (IN_CI) {
  describe('official JavaScript SDK suite (PostgreSQL)', () => {
    test('runs in CI', () => {
      assert.fail('SESAME_TEST_POSTGRES_URL is not set but CI is: the PostgreSQL run of the SDK suite may not be skipped');
    });
  });
} else {
  describe('official JavaScript SDK suite (PostgreSQL)', () => {
    test('the whole suite again on PostgreSQL', { skip: 'SESAME_TEST_POSTGRES_URL is not set' }, () => {});
  });
}
