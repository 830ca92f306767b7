// Session management through `@ory/kratos-client`, as an app written for Kratos drives it: a user's
// own sessions (FrontendApi.listMySessions, disableMySession, disableMyOtherSessions) and the admin
// session API (IdentityApi.listSessions, getSession, disableSession, extendSession,
// listIdentitySessions, deleteIdentitySessions). `manageSessions` (POST /admin/sessions) is newer
// than the 26.2.0 SDK, which has no method for it: it is sent raw through the SDK's axios instance,
// so its answers go through the same OpenAPI check.
// Registered by sdk.test.mjs inside each backend's suite; `s` hands over that suite's SDK clients and
// helpers, read lazily because they exist only once its `before` has run.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Configuration, FrontendApi, IdentityApi } from '@ory/kratos-client';

/** `s`: `{ frontend, identities, http, publicUrl, adminUrl, password, timeout, sdkError,
 * assertErrorEnvelope, uniqueEmail, startSideServer }`. */
export function sessionsSuite(s) {
  /** The 401 of the `/sessions` endpoints: Kratos's, without an id. */
  const NO_COOKIE = { code: 401, status: 'Unauthorized', reason: 'No valid session cookie found.', message: 'The request could not be authorized' };

  /** Signs `email` up natively on `api` and logs in `logins` more times: the tokens, oldest first, and the identity id. */
  async function userWithSessions(email, logins, api = s.frontend) {
    const { data: flow } = await api.createNativeRegistrationFlow();
    const { data } = await api.updateRegistrationFlow({
      flow: flow.id,
      updateRegistrationFlowBody: { method: 'password', traits: { email }, password: s.password },
    });
    const tokens = [data.session_token];
    for (let i = 0; i < logins; i += 1) {
      const { data: login } = await api.createNativeLoginFlow();
      const { data: done } = await api.updateLoginFlow({
        flow: login.id,
        updateLoginFlowBody: { method: 'password', identifier: email, password: s.password },
      });
      tokens.push(done.session_token);
    }
    return { tokens, identityId: data.identity.id };
  }

  const sessionIdOf = async (token) => (await s.frontend.toSession({ xSessionToken: token })).data.id;

  /** The `page_token` and `page_size` of a `Link` header's `rel` entry. */
  function linkParams(res, rel) {
    const entry = String(res.headers.link ?? '')
      .split(',')
      .find((part) => part.trim().endsWith(`rel="${rel}"`));
    if (!entry) return undefined;
    const target = entry.trim().split(';')[0].replace(/^</, '').replace(/>$/, '');
    return new URL(target, s.publicUrl).searchParams;
  }

  /** A raw `POST /admin/sessions` through the SDK's (checked) axios instance. */
  const manageSessions = (body) => s.http.post(`${s.adminUrl}admin/sessions`, body);

  describe('FrontendApi: my sessions', () => {
    test('listMySessions pages the other active sessions; disableMySession and disableMyOtherSessions revoke', { timeout: s.timeout }, async () => {
      const { tokens, identityId } = await userWithSessions(s.uniqueEmail('mine'), 3);
      const current = tokens[3];
      const others = [];
      for (const t of tokens.slice(0, 3).reverse()) others.push(await sessionIdOf(t));

      const all = await s.frontend.listMySessions({ xSessionToken: current });
      assert.equal(all.status, 200);
      assert.deepEqual(all.data.map((x) => x.id), others, 'the others, newest first');
      assert.equal(all.headers['x-total-count'], '3');
      for (const session of all.data) {
        assert.equal(session.active, true);
        assert.equal(session.identity.id, identityId);
        assert.equal(session.identity.metadata_admin, undefined);
        assert.equal(session.devices.length, 1);
      }

      const first = await s.frontend.listMySessions({ xSessionToken: current, perPage: 2, page: 0 });
      assert.deepEqual(first.data.map((x) => x.id), others.slice(0, 2));
      const next = linkParams(first, 'next');
      assert.ok(next, `a next link (${first.headers.link})`);
      const second = await s.frontend.listMySessions({
        xSessionToken: current,
        pageSize: Number(next.get('page_size')),
        pageToken: next.get('page_token'),
      });
      assert.deepEqual(second.data.map((x) => x.id), others.slice(2));
      assert.equal(linkParams(second, 'next'), undefined, 'the last page');

      const revoked = await s.frontend.disableMySession({ id: others[0], xSessionToken: current });
      assert.equal(revoked.status, 204);
      await s.sdkError(s.frontend.toSession({ xSessionToken: tokens[2] }), 401);
      const ownId = await sessionIdOf(current);
      const refused = await s.sdkError(s.frontend.disableMySession({ id: ownId, xSessionToken: current }), 400);
      assert.equal(s.assertErrorEnvelope(refused.data, 400).message, 'cannot revoke current session');
      const bad = await s.sdkError(s.frontend.disableMySession({ id: 'BADUUID', xSessionToken: current }), 400);
      s.assertErrorEnvelope(bad.data, 400);
      assert.equal((await s.frontend.disableMySession({ id: randomUUID(), xSessionToken: current })).status, 204);
      assert.equal((await s.frontend.listMySessions({ xSessionToken: current })).data.length, 2);

      const count = await s.frontend.disableMyOtherSessions({ xSessionToken: current });
      assert.equal(count.status, 200);
      assert.deepEqual(count.data, { count: 3 }, 'already revoked sessions count too, as in Kratos');
      assert.deepEqual((await s.frontend.listMySessions({ xSessionToken: current })).data, []);
      assert.equal((await s.frontend.toSession({ xSessionToken: current })).status, 200);
    });

    test('401 without a session: Kratos\'s body for the /sessions endpoints', { timeout: s.timeout }, async () => {
      for (const call of [
        () => s.frontend.listMySessions(),
        () => s.frontend.disableMyOtherSessions({ xSessionToken: 'ory_st_00000000000000000000000000000000' }),
        () => s.frontend.disableMySession({ id: randomUUID() }),
      ]) {
        const res = await s.sdkError(call(), 401);
        assert.deepEqual(res.data, { error: NO_COOKIE });
        assert.equal(res.headers['ory-error-id'], '');
      }
    });
  });

  describe('IdentityApi: admin sessions', () => {
    test('listSessions (keyset pages, active, expand), getSession, disableSession, extendSession', { timeout: s.timeout }, async () => {
      const { tokens, identityId } = await userWithSessions(s.uniqueEmail('admin-sessions'), 2);
      const ids = [];
      for (const t of tokens) ids.push(await sessionIdOf(t));

      // Not expanded: `identity` and `devices` are null (Kratos's answer; see KNOWN_MISMATCHES).
      const plain = await s.identities.listSessions({ pageSize: 1000 });
      assert.equal(plain.status, 200);
      const mine = plain.data.filter((x) => ids.includes(x.id));
      assert.deepEqual(mine.map((x) => x.id), [...ids].reverse(), 'newest first');
      assert.equal(mine[0].identity, null);
      assert.equal(mine[0].devices, null);
      const first = linkParams(plain, 'first');
      assert.equal(first.get('page_size'), '1000');
      assert.equal(
        Buffer.from(first.get('page_token'), 'base64').toString(),
        'id=00000000-0000-0000-0000-000000000000/created_at=2200-12-31 23:59:59',
      );

      // Every page, through the next links, to the end: each session exactly once.
      const seen = [];
      let params = { pageSize: 2, expand: ['identity', 'devices'] };
      for (let pages = 0; ; pages += 1) {
        assert.ok(pages < 500, 'the next links never end');
        const page = await s.identities.listSessions(params);
        seen.push(...page.data.map((x) => x.id));
        for (const x of page.data) assert.ok(x.identity && Array.isArray(x.devices), 'expanded');
        const next = linkParams(page, 'next');
        if (!next) break;
        params = { ...params, pageToken: next.get('page_token') };
      }
      assert.equal(new Set(seen).size, seen.length, 'no session twice');
      for (const id of ids) assert.ok(seen.includes(id), `${id} was listed`);

      const got = await s.identities.getSession({ id: ids[0] });
      assert.equal(got.data.identity, null);
      assert.deepEqual(got.data.devices, []);
      const expanded = await s.identities.getSession({ id: ids[0], expand: ['identity', 'devices'] });
      assert.equal(expanded.data.identity.id, identityId);
      assert.equal(expanded.data.devices.length, 1);
      assertErrorEnvelope404(await s.sdkError(s.identities.getSession({ id: randomUUID() }), 404));
      s.assertErrorEnvelope((await s.sdkError(s.identities.getSession({ id: 'BADUUID' }), 400)).data, 400);

      const disabled = await s.identities.disableSession({ id: ids[0] });
      assert.equal(disabled.status, 204);
      await s.sdkError(s.frontend.toSession({ xSessionToken: tokens[0] }), 401);
      assert.equal((await s.identities.getSession({ id: ids[0] })).data.active, false);
      const inactive = await s.identities.listSessions({ active: false, pageSize: 1000 });
      assert.ok(inactive.data.some((x) => x.id === ids[0]));
      const active = await s.identities.listSessions({ active: true, pageSize: 1000 });
      assert.ok(!active.data.some((x) => x.id === ids[0]));
      assert.ok(active.data.some((x) => x.id === ids[1]));
      s.assertErrorEnvelope((await s.sdkError(s.identities.disableSession({ id: randomUUID() }), 404)).data, 404);

      const before = (await s.frontend.toSession({ xSessionToken: tokens[1] })).data;
      const extended = await s.identities.extendSession({ id: ids[1] });
      assert.equal(extended.status, 200);
      assert.equal(extended.data.id, ids[1]);
      assert.equal(extended.data.identity.id, identityId);
      assert.ok(Date.parse(extended.data.expires_at) >= Date.parse(before.expires_at));
      assertErrorEnvelope404(await s.sdkError(s.identities.extendSession({ id: randomUUID() }), 404));
    });

    function assertErrorEnvelope404(res) {
      s.assertErrorEnvelope(res.data, 404);
    }

    test('listIdentitySessions and deleteIdentitySessions', { timeout: s.timeout }, async () => {
      const { tokens, identityId } = await userWithSessions(s.uniqueEmail('identity-sessions'), 2);
      await s.frontend.performNativeLogout({ performNativeLogoutBody: { session_token: tokens[0] } });

      const all = await s.identities.listIdentitySessions({ id: identityId });
      assert.equal(all.status, 200);
      assert.equal(all.data.length, 3);
      assert.equal(all.headers['x-total-count'], '3');
      assert.ok(all.data.every((x) => x.identity.id === identityId && x.devices.length === 1));
      assert.equal((await s.identities.listIdentitySessions({ id: identityId, active: true })).data.length, 2);
      assert.equal((await s.identities.listIdentitySessions({ id: identityId, active: false })).data.length, 1);
      const page = await s.identities.listIdentitySessions({ id: identityId, perPage: 2, page: 1 });
      assert.deepEqual(page.data.map((x) => x.id), [all.data[2].id]);
      assert.deepEqual((await s.identities.listIdentitySessions({ id: randomUUID() })).data, []);

      const deleted = await s.identities.deleteIdentitySessions({ id: identityId });
      assert.equal(deleted.status, 204);
      assert.deepEqual((await s.identities.listIdentitySessions({ id: identityId })).data, []);
      await s.sdkError(s.frontend.toSession({ xSessionToken: tokens[2] }), 401);
      s.assertErrorEnvelope((await s.sdkError(s.identities.deleteIdentitySessions({ id: identityId }), 404)).data, 404);
      s.assertErrorEnvelope((await s.sdkError(s.identities.deleteIdentitySessions({ id: 'BADUUID' }), 400)).data, 400);
    });

    test('manageSessions (raw: not in the 26.2.0 SDK): disable and delete by identity or session', { timeout: s.timeout }, async () => {
      const ada = await userWithSessions(s.uniqueEmail('bulk-ada'), 1);
      const bob = await userWithSessions(s.uniqueEmail('bulk-bob'), 1);
      const bobsFirst = await sessionIdOf(bob.tokens[0]);

      const disabled = await manageSessions({ action: 'disable', identities: [ada.identityId, randomUUID()] });
      assert.equal(disabled.status, 200);
      assert.deepEqual(disabled.data, { processed: 2, more: false });
      await s.sdkError(s.frontend.toSession({ xSessionToken: ada.tokens[1] }), 401);
      assert.equal((await s.identities.listIdentitySessions({ id: ada.identityId })).data.length, 2, 'kept');

      const deleted = await manageSessions({ action: 'delete', sessions: [bobsFirst] });
      assert.deepEqual(deleted.data, { processed: 1, more: false });
      s.assertErrorEnvelope((await s.sdkError(s.identities.getSession({ id: bobsFirst }), 404)).data, 404);
      assert.equal((await s.frontend.toSession({ xSessionToken: bob.tokens[1] })).status, 200);

      for (const body of [
        { action: 'purge', identities: [ada.identityId] },
        { action: 'disable' },
        { action: 'disable', identities: [ada.identityId], sessions: [bobsFirst] },
        { action: 'disable', identities: [] },
        { action: 'delete', sessions: ['*'] },
        { action: 'disable', identities: ['*', ada.identityId] },
        { action: 'disable', sessions: ['not-a-uuid'] },
      ]) {
        const res = await s.sdkError(manageSessions(body), 400);
        s.assertErrorEnvelope(res.data, 400);
      }
    });

    test('extendSession with feature_flags.faster_session_extend answers 204', { timeout: s.timeout }, async () => {
      const side = await s.startSideServer({ FEATURE_FLAGS_FASTER_SESSION_EXTEND: 'true' }, 'faster-extend');
      try {
        const frontend = new FrontendApi(new Configuration({ basePath: side.publicUrl.slice(0, -1) }), undefined, s.http);
        const identities = new IdentityApi(new Configuration({ basePath: side.adminUrl.slice(0, -1) }), undefined, s.http);
        const { tokens } = await userWithSessions(s.uniqueEmail('faster-extend'), 0, frontend);
        const { data: session } = await frontend.toSession({ xSessionToken: tokens[0] });
        const res = await identities.extendSession({ id: session.id });
        assert.equal(res.status, 204);
        assert.equal(res.data, '');
        const after = await identities.getSession({ id: session.id });
        assert.ok(Date.parse(after.data.expires_at) >= Date.parse(session.expires_at));
      } finally {
        await side.stop();
      }
    });
  });
}
