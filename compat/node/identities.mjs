// An identity's lifecycle through `@ory/kratos-client`'s IdentityApi, as an admin tool written for
// Kratos drives it: batchPatchIdentities (batch create with imported and plaintext passwords),
// patchIdentity (JSON Patch, denied paths), state changes and what they do to sessions,
// getIdentityByExternalID, listIdentities with `ids`, and deleteIdentityCredentials (second
// factors go, the last first factor stays).
// Registered by sdk.test.mjs inside each backend's suite, like settings.mjs, so that every response
// goes through the same OpenAPI check and counts for the operations table; `s` hands over that
// suite's SDK clients and helpers, read lazily because they exist only once its `before` has run.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

/** `s`: `{ identities, frontend, password, timeout, sdkError, assertErrorEnvelope, uniqueEmail,
 * loginNative }`. */
export function identityLifecycleSuite(s) {
  /** An identity with the suite's password, created through createIdentity. */
  async function createUser(email, extra = {}) {
    const { data } = await s.identities.createIdentity({
      createIdentityBody: {
        schema_id: 'default',
        traits: { email },
        credentials: { password: { config: { password: s.password } } },
        ...extra,
      },
    });
    return data;
  }

  describe('IdentityApi: identity lifecycle', () => {
    test('batchPatchIdentities: good items are created, each bad one reports its error', { timeout: s.timeout }, async () => {
      const good = s.uniqueEmail('batch');
      const plain = s.uniqueEmail('batch-plain');
      const patchIds = [randomUUID(), randomUUID(), randomUUID()];
      const { status, data } = await s.identities.batchPatchIdentities({
        patchIdentitiesBody: {
          identities: [
            { patch_id: patchIds[0], create: { schema_id: 'default', traits: { email: good } } },
            { patch_id: patchIds[1], create: { schema_id: 'default', traits: { email: good.toUpperCase() } } },
            {
              patch_id: patchIds[2],
              create: {
                schema_id: 'default',
                traits: { email: plain },
                credentials: { password: { config: { password: s.password } } },
              },
            },
            { create: { schema_id: 'default', traits: { name: { first: 'No email' } } } },
          ],
        },
      });
      assert.equal(status, 200);
      const results = data.identities;
      assert.deepEqual(
        results.map((r) => r.action),
        ['create', 'error', 'create', 'error'],
      );
      assert.deepEqual(
        results.map((r) => r.patch_id),
        [...patchIds, undefined],
      );
      assert.equal(results[1].error.code, 409);
      assert.equal(results[1].identity, undefined);
      assert.equal(results[3].error.code, 400);
      const login = await s.loginNative(plain);
      assert.equal(login.session.identity.id, results[2].identity);

      const tooMany = Array.from({ length: 1001 }, (_, i) => ({
        create: { schema_id: 'default', traits: { email: `too-many-${i}@example.com` } },
      }));
      const refused = await s.sdkError(s.identities.batchPatchIdentities({ patchIdentitiesBody: { identities: tooMany } }), 400);
      s.assertErrorEnvelope(refused.data, 400);
    });

    test('patchIdentity: a JSON Patch of traits and metadata; denied paths and unknown ids are refused', { timeout: s.timeout }, async () => {
      const identity = await createUser(s.uniqueEmail('patch'));
      const renamed = s.uniqueEmail('patched');
      const { status, data } = await s.identities.patchIdentity({
        id: identity.id,
        jsonPatch: [
          { op: 'replace', path: '/traits/email', value: renamed },
          { op: 'add', path: '/metadata_public/plan', value: 'pro' },
        ],
      });
      assert.equal(status, 200);
      assert.equal(data.id, identity.id);
      assert.equal(data.traits.email, renamed);
      assert.deepEqual(data.metadata_public, { plan: 'pro' });
      assert.deepEqual(data.credentials.password.identifiers, [renamed]);
      assert.equal(data.verifiable_addresses[0].value, renamed);
      assert.equal(data.verifiable_addresses[0].verified, false, 'a new address starts unverified');
      await s.loginNative(renamed);

      const verified = await s.identities.patchIdentity({
        id: identity.id,
        jsonPatch: [{ op: 'replace', path: '/verifiable_addresses/0/verified', value: true }],
      });
      assert.equal(verified.data.verifiable_addresses[0].verified, true);
      assert.ok(verified.data.verifiable_addresses[0].verified_at, 'verifying stamps verified_at');

      const denied = await s.sdkError(
        s.identities.patchIdentity({ id: identity.id, jsonPatch: [{ op: 'replace', path: '/credentials', value: {} }] }),
        400,
      );
      assert.equal(s.assertErrorEnvelope(denied.data, 400).message, 'patch includes denied path: /credentials');
      const unsupported = await s.sdkError(
        s.identities.patchIdentity({ id: identity.id, jsonPatch: [{ op: 'test', path: '/state', value: 'active' }] }),
        400,
      );
      assert.equal(unsupported.data.error.message, 'unsupported operation: test');
      const unknown = await s.sdkError(
        s.identities.patchIdentity({ id: randomUUID(), jsonPatch: [{ op: 'remove', path: '/metadata_public' }] }),
        404,
      );
      s.assertErrorEnvelope(unknown.data, 404);
    });

    test('patchIdentity state inactive ends the sessions at once; active again brings them back', { timeout: s.timeout }, async () => {
      const email = s.uniqueEmail('state');
      const identity = await createUser(email);
      const { session_token: token } = await s.loginNative(email);
      assert.equal((await s.frontend.toSession({ xSessionToken: token })).status, 200);

      const off = await s.identities.patchIdentity({
        id: identity.id,
        jsonPatch: [{ op: 'replace', path: '/state', value: 'inactive' }],
      });
      assert.equal(off.data.state, 'inactive');
      assert.ok(Date.parse(off.data.state_changed_at) >= Date.parse(identity.state_changed_at));
      await s.sdkError(s.frontend.toSession({ xSessionToken: token }), 401);

      await s.identities.patchIdentity({ id: identity.id, jsonPatch: [{ op: 'replace', path: '/state', value: 'active' }] });
      const back = await s.frontend.toSession({ xSessionToken: token });
      assert.equal(back.status, 200);
      assert.equal(back.data.identity.id, identity.id);
    });

    test('getIdentityByExternalID and listIdentities with ids', { timeout: s.timeout }, async () => {
      const externalID = `crm-${randomUUID()}`;
      const linked = await createUser(s.uniqueEmail('external'), { external_id: externalID });
      const other = await createUser(s.uniqueEmail('other'));
      const found = await s.identities.getIdentityByExternalID({ externalID, includeCredential: ['password'] });
      assert.equal(found.status, 200);
      assert.equal(found.data.id, linked.id);
      assert.equal(found.data.external_id, externalID);
      assert.equal(typeof found.data.credentials.password.config.hashed_password, 'string');
      const missing = await s.sdkError(s.identities.getIdentityByExternalID({ externalID: `crm-${randomUUID()}` }), 404);
      s.assertErrorEnvelope(missing.data, 404);

      const listed = await s.identities.listIdentities({ ids: [linked.id, other.id, randomUUID()], pageSize: 1 });
      assert.equal(listed.status, 200);
      assert.equal(listed.data.length, 1);
      assert.match(listed.headers.link, /rel="next"/);
      const both = await s.identities.listIdentities({ ids: [linked.id, other.id] });
      assert.deepEqual(
        both.data.map((i) => i.id).sort(),
        [linked.id, other.id].sort(),
      );
      const bad = await s.sdkError(s.identities.listIdentities({ ids: ['not-a-uuid'] }), 400);
      s.assertErrorEnvelope(bad.data, 400);
    });

    test('deleteIdentityCredentials: backup codes go, the last password stays, a missing type is 404', { timeout: s.timeout }, async () => {
      const identity = await createUser(s.uniqueEmail('credentials'));
      await s.identities.patchIdentity({
        id: identity.id,
        jsonPatch: [
          {
            op: 'add',
            path: '/credentials/lookup_secret',
            value: { config: { recovery_codes: [{ code: 'abcd1234', used_at: null }] } },
          },
        ],
      });
      const removed = await s.identities.deleteIdentityCredentials({ id: identity.id, type: 'lookup_secret' });
      assert.equal(removed.status, 204);
      const after = await s.identities.getIdentity({ id: identity.id });
      assert.deepEqual(Object.keys(after.data.credentials), ['password']);

      const last = await s.sdkError(s.identities.deleteIdentityCredentials({ id: identity.id, type: 'password' }), 400);
      assert.equal(s.assertErrorEnvelope(last.data, 400).reason, 'You cannot remove the last first factor credential.');
      const missing = await s.sdkError(s.identities.deleteIdentityCredentials({ id: identity.id, type: 'totp' }), 404);
      s.assertErrorEnvelope(missing.data, 404);
    });
  });
}
