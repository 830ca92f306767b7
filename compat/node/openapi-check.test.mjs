// The response-schema check itself (openapi-check.mjs), without a server: the official SDK talks to an
// axios instance whose adapter answers with bodies made up here, some of them deliberately wrong, so
// that the check is shown to catch what it is meant to catch, through the same interceptor the SDK
// suite uses. It needs Kratos's OpenAPI document (SESAME_TEST_KRATOS_FIXTURES, see fixtures.mjs).
//
//   node --test compat/node/

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Configuration, FrontendApi, MetadataApi } from '@ory/kratos-client';
import { OpenApiChecker, SchemaMismatchError, toJsonSchema } from './openapi-check.mjs';

import { OPENAPI, SKIP_WITHOUT_FIXTURES, requireFixtures } from './fixtures.mjs';

const axios = createRequire(createRequire(import.meta.url).resolve('@ory/kratos-client'))('axios');
const BASE = 'http://sesame.test';

const ID = '6f1d1c3e-58a4-4c8e-9a57-0c2f0b7a1d11';
const NOW = '2026-01-02T03:04:05.123456Z';

/** A session as Kratos sends it (trimmed to what the schema requires and a few typed fields). */
function validSession() {
  return {
    id: 'c2a3b7a4-0d3e-4f4e-8a6b-1f2e3d4c5b6a',
    active: true,
    expires_at: NOW,
    authenticated_at: NOW,
    authenticator_assurance_level: 'aal1',
    authentication_methods: [{ method: 'password', aal: 'aal1', completed_at: NOW }],
    issued_at: NOW,
    identity: {
      id: ID,
      schema_id: 'default',
      schema_url: `${BASE}/schemas/ZGVmYXVsdA`,
      state: 'active',
      traits: { email: 'a@example.com' },
      verifiable_addresses: [
        { id: ID, value: 'a@example.com', verified: false, via: 'email', status: 'pending', created_at: NOW },
      ],
      metadata_public: null,
      organization_id: null,
      created_at: NOW,
      updated_at: NOW,
    },
    devices: [],
  };
}

/**
 * An SDK wired to a fake server: `reply(config)` returns `{ status, body, contentType? }`. Returns the
 * checker (with its counters) and the APIs.
 */
function fakeSdk(reply, options) {
  const checker = OpenApiChecker.load(OPENAPI, options);
  const http = axios.create({
    adapter: async (config) => {
      const { status, body, contentType = 'application/json' } = reply(config);
      const response = {
        status,
        statusText: String(status),
        headers: new axios.AxiosHeaders({ 'content-type': contentType }),
        data: typeof body === 'string' ? body : JSON.stringify(body),
        config,
        request: {},
      };
      if (status >= 400) throw new axios.AxiosError(`Request failed with status code ${status}`, 'ERR_BAD_REQUEST', config, {}, response);
      return response;
    },
  });
  checker.attach(http);
  const config = new Configuration({ basePath: BASE });
  return { checker, frontend: new FrontendApi(config, undefined, http), metadata: new MetadataApi(config, undefined, http) };
}

/** The call must be rejected by the check; returns the mismatch messages. */
async function mismatches(promise) {
  const error = await promise.then(
    (res) => assert.fail(`the check let through ${JSON.stringify(res.data)}`),
    (e) => e,
  );
  assert.ok(error instanceof SchemaMismatchError, `expected a SchemaMismatchError, got ${error}`);
  assert.equal(error.response, undefined, 'the mismatch error does not pose as the server response');
  return error.mismatches.map((m) => m.message);
}

describe('openapi-check', { skip: SKIP_WITHOUT_FIXTURES }, () => {
  before(requireFixtures);

  test('a valid whoami body passes through the SDK and is counted', async () => {
    const { checker, frontend } = fakeSdk(() => ({ status: 200, body: validSession() }));
    const res = await frontend.toSession();
    assert.equal(res.data.identity.id, ID);
    assert.equal(checker.validated, 1);
    assert.deepEqual([...checker.byOperation], [['GET /sessions/whoami 200', 1]]);
    assert.deepEqual(checker.failures, []);
  });

  test('a deliberately wrong body fails, naming the operation, the status and the field', async () => {
    const body = validSession();
    body.identity.verifiable_addresses[0].status = 7;
    delete body.identity.schema_url;
    body.expires_at = null;
    body.authenticator_assurance_level = 'aal9';
    const { checker, frontend } = fakeSdk(() => ({ status: 200, body }));
    const messages = await mismatches(frontend.toSession({ xSessionToken: 'ory_st_x' }));
    const expected = [
      /^GET \/sessions\/whoami 200: \/identity\/verifiable_addresses\/0\/status must be string, got 7/,
      /^GET \/sessions\/whoami 200: \/identity\/schema_url is required but missing/,
      /^GET \/sessions\/whoami 200: \/expires_at must be string, got null/, // not nullable
      /^GET \/sessions\/whoami 200: \/authenticator_assurance_level must be one of \["aal0","aal1","aal2","aal3"\], got "aal9"/,
    ];
    for (const re of expected) assert.ok(messages.some((m) => re.test(m)), `${re} in:\n${messages.join('\n')}`);
    assert.equal(messages.length, expected.length, messages.join('\n'));
    assert.equal(checker.failures.length, expected.length, 'the failures are also kept for the suite');
  });

  test('error responses are checked too (whoami 401 without the error envelope)', async () => {
    const { frontend } = fakeSdk(() => ({ status: 401, body: { message: 'no session' } }));
    const messages = await mismatches(frontend.toSession());
    assert.deepEqual(messages.map((m) => m.split(' (schema')[0]), ['GET /sessions/whoami 401: /error is required but missing']);

    // And a good envelope passes as the SDK's own error.
    const ok = fakeSdk(() => ({ status: 401, body: { error: { code: 401, status: 'Unauthorized', message: 'No valid session' } } }));
    const error = await ok.frontend.toSession().catch((e) => e);
    assert.equal(error.isAxiosError, true);
    assert.equal(error.response.status, 401);
    assert.equal(ok.checker.validated, 1);
  });

  test('statuses without their own entry use `default`; undocumented ones are only counted', async () => {
    const { checker, frontend, metadata } = fakeSdk((config) =>
      config.url.endsWith('/version') ? { status: 404, body: '404 page not found', contentType: 'text/plain' } : { status: 418, body: { error: {} } },
    );
    // performNativeLogout documents 204, 400 and default: 418 is checked against default (errorGeneric).
    const messages = await mismatches(frontend.performNativeLogout({ performNativeLogoutBody: { session_token: 'x' } }));
    assert.match(messages[0], /^DELETE \/self-service\/logout\/api 418: \/error\/message is required but missing/);
    // getVersion documents only 200: a 404 has no schema to check.
    const error = await metadata.getVersion().catch((e) => e);
    assert.equal(error.response.status, 404);
    assert.deepEqual(checker.undocumented, ['GET /version 404 (getVersion does not document it)']);
  });

  test('a body of an undocumented content type fails', async () => {
    const { frontend } = fakeSdk(() => ({ status: 200, body: '<html>flow</html>', contentType: 'text/html; charset=utf-8' }));
    const messages = await mismatches(frontend.createNativeLoginFlow());
    assert.match(messages[0], /^GET \/self-service\/login\/api 200: \/ Content-Type "text\/html" is not documented \(application\/json\)/);
  });

  test('discriminated ui nodes report the field inside the chosen node type', async () => {
    const flow = {
      id: ID,
      type: 'api',
      expires_at: NOW,
      issued_at: NOW,
      request_url: `${BASE}/self-service/login/api`,
      state: 'choose_method',
      ui: {
        action: `${BASE}/self-service/login?flow=${ID}`,
        method: 'POST',
        nodes: [
          { type: 'input', group: 'default', attributes: { node_type: 'input', type: 'hidden', value: null, disabled: false }, messages: [], meta: {} },
          { type: 'text', group: 'default', attributes: { node_type: 'bogus' }, messages: [], meta: {} },
        ],
      },
    };
    const { frontend } = fakeSdk(() => ({ status: 200, body: flow }));
    const messages = (await mismatches(frontend.createNativeLoginFlow())).map((m) => m.split(' (schema')[0]);
    assert.deepEqual(messages, [
      // `value: null` is fine (nullable), the missing `name` is not.
      'GET /self-service/login/api 200: /ui/nodes/0/attributes/name is required but missing',
      'GET /self-service/login/api 200: /ui/nodes/1/attributes/node_type must be one of ["a","div","img","input","script","text"], got "bogus"',
    ]);
  });

  test('known mismatches are tolerated, counted, and reported when stale', async () => {
    const known = [
      { id: 'null-continue-with', operation: 'POST /self-service/login', status: 200, field: '/continue_with', reason: 'test' },
      { id: 'never-happens', operation: 'GET /sessions/whoami', status: 200, field: '/id', reason: 'test' },
    ];
    const { checker, frontend } = fakeSdk(() => ({ status: 200, body: { session: validSession(), session_token: 'ory_st_x', continue_with: null } }), { known });
    const res = await frontend.updateLoginFlow({ flow: ID, updateLoginFlowBody: { method: 'password', identifier: 'a', password: 'b' } });
    assert.equal(res.status, 200);
    assert.deepEqual([...checker.knownSeen], [['null-continue-with', 1]]);
    assert.deepEqual(checker.staleKnown().map((k) => k.id), ['never-happens']);
    assert.deepEqual(checker.failures, []);
  });

  test('routes: literal paths win over templates, methods count, unknown paths are not checked', () => {
    const checker = OpenApiChecker.load(OPENAPI);
    assert.equal(checker.route('GET', '/sessions/whoami').operation.operationId, 'toSession');
    assert.equal(checker.route('DELETE', '/sessions/whoami').operation.operationId, 'disableMySession');
    assert.equal(checker.route('GET', `/admin/identities/${ID}`).operation.operationId, 'getIdentity');
    assert.equal(checker.route('PUT', `/admin/identities/${ID}`).operation.operationId, 'updateIdentity');
    assert.equal(checker.route('GET', '/admin/identities').operation.operationId, 'listIdentities');
    assert.equal(checker.route('GET', '/ui/welcome'), null);
  });

  test('OpenAPI 3.0 → JSON Schema: nullable, enum, and property names that look like keywords', () => {
    assert.deepEqual(toJsonSchema({ type: 'string', format: 'date-time', nullable: true }), { type: ['string', 'null'], format: 'date-time' });
    assert.deepEqual(toJsonSchema({ type: 'string', enum: ['a'], nullable: true }), { type: ['string', 'null'], enum: ['a', null] });
    assert.deepEqual(toJsonSchema({ $ref: '#/x', nullable: true }), { anyOf: [{ $ref: '#/x' }, { type: 'null' }] });
    assert.deepEqual(toJsonSchema({ nullable: true }), {}); // no type: anything, null included
    // A property *named* `nullable` is left alone; the sub-schema under it is rewritten.
    assert.deepEqual(toJsonSchema({ type: 'object', properties: { nullable: { type: 'boolean', nullable: true } } }), {
      type: 'object',
      properties: { nullable: { type: ['boolean', 'null'] } },
    });
    // A required non-nullable field stays non-nullable.
    assert.deepEqual(toJsonSchema({ type: 'array', items: { type: 'string' } }), { type: 'array', items: { type: 'string' } });
  });
});

test('operationsTable reads the rows of the Operations section only', async () => {
  const { operationsTable } = await import('./openapi-check.mjs');
  const md = [
    '# Doc', '', '| `notThis` | GET | `/x` | supported |', '', '## Operations', '',
    '| Operation | Method | Path | Status |', '|---|---|---|---|',
    '| `toSession` | GET | `/sessions/whoami` | partly: `tokenize_as` |',
    '| `isAlive` | GET | `/health/alive` | supported |',
    '| `listSessions` | GET | `/admin/sessions` | not yet |', '', '## Next', '| `nor` | GET | `/y` | supported |',
  ].join('\n');
  assert.deepEqual(operationsTable(md), [
    { operationId: 'toSession', method: 'GET', path: '/sessions/whoami', status: 'partly' },
    { operationId: 'isAlive', method: 'GET', path: '/health/alive', status: 'supported' },
    { operationId: 'listSessions', method: 'GET', path: '/admin/sessions', status: 'not yet' },
  ]);
});
