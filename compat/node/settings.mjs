// The settings flow and second factors through `@ory/kratos-client`, as an app written for Kratos
// drives them: createNativeSettingsFlow / createBrowserSettingsFlow, getSettingsFlow,
// updateSettingsFlow with the profile, password, totp and lookup_secret methods, then `aal=aal2`
// logins with updateLoginFlow `method: totp` and `method: lookup_secret`, and toSession at aal2.
// Registered by sdk.test.mjs inside each backend's suite (so every response goes through the same
// OpenAPI check and counts for the operations table); `s` hands over that suite's SDK clients and
// helpers, read lazily because they exist only once its `before` has run.
//
// TOTP codes are computed here (totp.mjs) against the real clock. Sesame refuses a code that already
// linked an app or completed a login inside its window (docs/compatibility.md difference 8), so a
// login after linking uses the code of the next 30-second step, which the server accepts (±1 step).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Configuration, FrontendApi } from '@ory/kratos-client';
import { totpCode, totpStep } from './totp.mjs';

const NEW_PASSWORD = 'another-horse-battery-8';

/** `s`: `{ frontend, http, publicUrl, password, timeout, sdkError, assertErrorEnvelope, CookieJar,
 * nodeNamed, csrfTokenOf, assertFlowBasics, uniqueEmail, jsonAccept, startSideServer }`. */
export function settingsSuite(s) {
  // ---- helpers ----------------------------------------------------------------------------------

  /** A text node by its `attributes.id` (`totp_secret_key`, `lookup_secret_codes`). */
  const textNode = (flow, id) => flow.ui.nodes.find((n) => n.type === 'text' && n.attributes.id === id);
  const offeredSecret = (flow) => {
    const node = textNode(flow, 'totp_secret_key');
    assert.ok(node, `the flow offers a TOTP secret (nodes: ${nodeNames(flow)})`);
    const { secret } = node.attributes.text.context;
    assert.match(secret, /^[A-Z2-7]{32}$/, 'a 160-bit base32 secret without padding');
    assert.equal(node.attributes.text.text, secret);
    return secret;
  };
  const shownCodes = (flow) => {
    const node = textNode(flow, 'lookup_secret_codes');
    assert.ok(node, `the flow shows backup codes (nodes: ${nodeNames(flow)})`);
    return node.attributes.text.context.secrets.map((m) => m.context.secret);
  };
  const nodeNames = (flow) => flow.ui.nodes.map((n) => `${n.group}:${n.attributes.name ?? n.attributes.id}`).join(', ');
  const messageIds = (flow) => (flow.ui.messages ?? []).map((m) => m.id);
  const nodeMessageIds = (flow, name) => (s.nodeNamed(flow, name)?.messages ?? []).map((m) => m.id);
  const submitNode = (flow, value) =>
    flow.ui.nodes.find((n) => n.attributes.name === 'method' && n.attributes.type === 'submit' && n.attributes.value === value);

  /** A code none of the steps around now accepts. */
  function wrongCode(secret) {
    const now = totpStep();
    const valid = [now - 1, now, now + 1, now + 2].map((step) => totpCode(secret, step));
    return ['000000', '111111', '222222'].find((c) => !valid.includes(c));
  }

  /** Native sign-up on `api` (another server's FrontendApi, or the suite's). */
  async function registerNative(email, api = s.frontend) {
    const { data: flow } = await api.createNativeRegistrationFlow();
    const { data } = await api.updateRegistrationFlow({
      flow: flow.id,
      updateRegistrationFlowBody: { method: 'password', traits: { email }, password: s.password },
    });
    return { token: data.session_token, identity: data.identity, session: data.session };
  }

  /** A password login on `api`; returns the success body (its session may still owe a factor). */
  async function loginNative(email, password = s.password, api = s.frontend) {
    const { data: flow } = await api.createNativeLoginFlow();
    const { status, data } = await api.updateLoginFlow({
      flow: flow.id,
      updateLoginFlowBody: { method: 'password', identifier: email, password },
    });
    assert.equal(status, 200);
    return data;
  }

  /** Links an authenticator app in a new native settings flow; returns its secret and the step used. */
  async function linkTotp(token) {
    const { data: flow } = await s.frontend.createNativeSettingsFlow({ xSessionToken: token });
    const secret = offeredSecret(flow);
    const step = totpStep();
    const { status, data } = await s.frontend.updateSettingsFlow({
      flow: flow.id,
      xSessionToken: token,
      updateSettingsFlowBody: { method: 'totp', totp_code: totpCode(secret, step) },
    });
    assert.equal(status, 200);
    assert.equal(data.state, 'success');
    return { secret, step, flow: data };
  }

  function assertSettingsFlow(flow, { type, identityId }) {
    s.assertFlowBasics(flow, { type, action: 'settings' });
    assert.equal(flow.identity.id, identityId);
    assert.equal(flow.identity.credentials, undefined, 'the flow shows no credentials');
    assert.equal(flow.identity.metadata_admin, undefined, 'the flow shows no admin metadata');
  }

  /** `toSession`'s AAL and AMR methods for a token or a cookie header. */
  async function whoami(params) {
    const { data } = await s.frontend.toSession(params);
    return { aal: data.authenticator_assurance_level, methods: data.authentication_methods.map((m) => m.method), session: data };
  }

  // ---- tests ------------------------------------------------------------------------------------

  describe('FrontendApi: settings flow and second factors', () => {
    test('native settings: createNativeSettingsFlow, getSettingsFlow, profile and password updates', { timeout: s.timeout }, async () => {
      const email = s.uniqueEmail('settings');
      const { token, identity, session } = await registerNative(email);

      const created = await s.frontend.createNativeSettingsFlow({ xSessionToken: token });
      assert.equal(created.status, 200);
      const flow = created.data;
      assertSettingsFlow(flow, { type: 'api', identityId: identity.id });
      assert.equal(flow.state, 'show_form');
      assert.equal(flow.request_url, `${s.publicUrl}self-service/settings/api`);
      assert.equal(flow.continue_with, undefined);
      assert.equal(s.csrfTokenOf(flow), '', 'API flows carry an empty csrf_token');
      assert.equal(s.nodeNamed(flow, 'traits.email').attributes.value, email, 'the traits are pre-filled');
      assert.equal(s.nodeNamed(flow, 'traits.email').group, 'profile');
      assert.equal(s.nodeNamed(flow, 'password').attributes.autocomplete, 'new-password');
      assert.equal(s.nodeNamed(flow, 'password').attributes.value, undefined, 'no password is echoed');
      for (const method of ['profile', 'password', 'totp']) assert.ok(submitNode(flow, method), `a ${method} submit (nodes: ${nodeNames(flow)})`);
      assert.ok(s.nodeNamed(flow, 'lookup_secret_regenerate'), 'backup codes can be generated');
      assert.ok(s.nodeNamed(flow, 'totp_code'), 'a TOTP code input');
      const qr = flow.ui.nodes.find((n) => n.type === 'img' && n.attributes.id === 'totp_qr');
      assert.match(qr?.attributes.src ?? '', /^data:image\/png;base64,/);
      offeredSecret(flow);

      const fetched = await s.frontend.getSettingsFlow({ id: flow.id, xSessionToken: token });
      assert.equal(fetched.status, 200);
      assert.equal(fetched.data.id, flow.id);
      assert.equal(offeredSecret(fetched.data), offeredSecret(flow), 'the same secret until the form is rebuilt');

      // profile: a trait that is no identifier changes without a privileged session check.
      const traits = { email, name: { first: 'Ada', last: 'Lovelace' } };
      const profile = await s.frontend.updateSettingsFlow({
        flow: flow.id,
        xSessionToken: token,
        updateSettingsFlowBody: { method: 'profile', traits },
      });
      assert.equal(profile.status, 200);
      assert.equal(profile.data.id, flow.id);
      assert.equal(profile.data.state, 'success');
      assert.deepEqual(profile.data.identity.traits, traits);
      assert.deepEqual(messageIds(profile.data), [1050001]);
      assert.equal(profile.data.ui.messages[0].type, 'success');
      assert.equal(profile.data.continue_with, undefined, 'no continue_with for API flows without hooks');
      assert.equal(s.nodeNamed(profile.data, 'traits.name.first').attributes.value, 'Ada');
      assert.notEqual(offeredSecret(profile.data), offeredSecret(flow), 'a rebuilt form offers a new secret');
      const me = await s.frontend.toSession({ xSessionToken: token });
      assert.equal(me.data.id, session.id);
      assert.deepEqual(me.data.identity.traits, traits);

      // Invalid traits: 400 with the flow (the SDK throws); the message sits on the field.
      const invalid = await s.sdkError(
        s.frontend.updateSettingsFlow({
          flow: flow.id,
          xSessionToken: token,
          updateSettingsFlowBody: { method: 'profile', traits: { email: 'not-an-email' } },
        }),
        400,
      );
      assert.equal(invalid.data.id, flow.id);
      assert.equal(nodeMessageIds(invalid.data, 'traits.email').length, 1, `a message on traits.email: ${JSON.stringify(invalid.data.ui)}`);
      assert.equal(s.nodeNamed(invalid.data, 'traits.email').messages[0].type, 'error');

      // password: too short, then the same as now, then a new one.
      const short = await s.sdkError(
        s.frontend.updateSettingsFlow({ flow: flow.id, xSessionToken: token, updateSettingsFlowBody: { method: 'password', password: 'short' } }),
        400,
      );
      assert.deepEqual(nodeMessageIds(short.data, 'password'), [4000032]);
      assert.equal(s.nodeNamed(short.data, 'password').attributes.value, undefined, 'the password is not echoed');
      const same = await s.sdkError(
        s.frontend.updateSettingsFlow({ flow: flow.id, xSessionToken: token, updateSettingsFlowBody: { method: 'password', password: s.password } }),
        400,
      );
      assert.deepEqual(nodeMessageIds(same.data, 'password'), [4000039]);
      const changed = await s.frontend.updateSettingsFlow({
        flow: flow.id,
        xSessionToken: token,
        updateSettingsFlowBody: { method: 'password', password: NEW_PASSWORD },
      });
      assert.equal(changed.status, 200);
      assert.equal(changed.data.state, 'success');
      assert.deepEqual(messageIds(changed.data), [1050001]);
      assert.equal((await s.frontend.toSession({ xSessionToken: token })).data.id, session.id, 'the session survives the change');

      const old = await s.sdkError(
        s.frontend.createNativeLoginFlow().then(({ data: login }) =>
          s.frontend.updateLoginFlow({ flow: login.id, updateLoginFlowBody: { method: 'password', identifier: email, password: s.password } }),
        ),
        400,
      );
      assert.deepEqual(messageIds(old.data), [4000006]);
      assert.equal((await loginNative(email, NEW_PASSWORD)).session.identity.id, identity.id);

      // A body no method claims: 400 with the flow, 4010004.
      const none = await s.sdkError(
        s.frontend.updateSettingsFlow({ flow: flow.id, xSessionToken: token, updateSettingsFlowBody: { method: 'nothing' } }),
        400,
      );
      assert.deepEqual(messageIds(none.data), [4010004]);
    });

    test('native settings errors: no session 401, another identity 403, unknown flow 404', { timeout: s.timeout }, async () => {
      const alice = await registerNative(s.uniqueEmail('settings-alice'));
      const bob = await registerNative(s.uniqueEmail('settings-bob'));

      const anonymous = await s.sdkError(s.frontend.createNativeSettingsFlow(), 401);
      assert.equal(s.assertErrorEnvelope(anonymous.data, 401).id, 'session_inactive');
      const unknownToken = await s.sdkError(s.frontend.createNativeSettingsFlow({ xSessionToken: 'ory_st_00000000000000000000000000000000' }), 401);
      assert.equal(s.assertErrorEnvelope(unknownToken.data, 401).id, 'session_inactive');

      const { data: flow } = await s.frontend.createNativeSettingsFlow({ xSessionToken: alice.token });
      const noSession = await s.sdkError(s.frontend.getSettingsFlow({ id: flow.id }, s.jsonAccept), 401);
      s.assertErrorEnvelope(noSession.data, 401);
      const stranger = await s.sdkError(s.frontend.getSettingsFlow({ id: flow.id, xSessionToken: bob.token }), 403);
      assert.equal(s.assertErrorEnvelope(stranger.data, 403).id, 'security_identity_mismatch');
      const foreignSubmit = await s.sdkError(
        s.frontend.updateSettingsFlow({
          flow: flow.id,
          xSessionToken: bob.token,
          updateSettingsFlowBody: { method: 'profile', traits: { email: s.uniqueEmail('hijack') } },
        }),
        403,
      );
      assert.equal(s.assertErrorEnvelope(foreignSubmit.data, 403).id, 'security_identity_mismatch');
      const unsigned = await s.sdkError(
        s.frontend.updateSettingsFlow({ flow: flow.id, updateSettingsFlowBody: { method: 'password', password: NEW_PASSWORD } }),
        401,
      );
      s.assertErrorEnvelope(unsigned.data, 401);

      const missing = await s.sdkError(s.frontend.getSettingsFlow({ id: randomUUID(), xSessionToken: alice.token }), 404);
      s.assertErrorEnvelope(missing.data, 404);
    });

    test('TOTP: link it in the settings flow, then an aal=aal2 login with method totp', { timeout: s.timeout }, async () => {
      const email = s.uniqueEmail('totp');
      const { token, identity } = await registerNative(email);
      const { data: flow } = await s.frontend.createNativeSettingsFlow({ xSessionToken: token });
      const secret = offeredSecret(flow);

      // A wrong code: 400 with the flow, 4000008 on the code input; the secret stays.
      const wrong = await s.sdkError(
        s.frontend.updateSettingsFlow({ flow: flow.id, xSessionToken: token, updateSettingsFlowBody: { method: 'totp', totp_code: wrongCode(secret) } }),
        400,
      );
      assert.equal(wrong.data.id, flow.id);
      assert.deepEqual(nodeMessageIds(wrong.data, 'totp_code'), [4000008]);
      assert.equal(s.nodeNamed(wrong.data, 'totp_code').messages[0].type, 'error');
      assert.equal(offeredSecret(wrong.data), secret);
      assert.equal((await whoami({ xSessionToken: token })).aal, 'aal1', 'nothing was linked');

      const linkStep = totpStep();
      const linkCode = totpCode(secret, linkStep);
      const linked = await s.frontend.updateSettingsFlow({
        flow: flow.id,
        xSessionToken: token,
        updateSettingsFlowBody: { method: 'totp', totp_code: linkCode },
      });
      assert.equal(linked.status, 200);
      assert.equal(linked.data.state, 'success');
      assert.deepEqual(messageIds(linked.data), [1050001]);
      assert.ok(s.nodeNamed(linked.data, 'totp_unlink'), `a linked app can be unlinked (nodes: ${nodeNames(linked.data)})`);
      assert.equal(textNode(linked.data, 'totp_secret_key'), undefined, 'no new secret once linked');
      // Linking proved the factor on this session.
      const after = await whoami({ xSessionToken: token });
      assert.equal(after.aal, 'aal2');
      assert.deepEqual(after.methods, ['password', 'totp']);

      // A password alone now gives a session that still owes the second factor.
      const first = await loginNative(email);
      assert.equal(first.session.authenticator_assurance_level, 'aal1');
      const owed = await s.sdkError(s.frontend.toSession({ xSessionToken: first.session_token }), 403);
      assert.equal(s.assertErrorEnvelope(owed.data, 403).id, 'session_aal2_required');
      // …and its settings wait for it too (required_aal: highest_available).
      const settingsOwed = await s.sdkError(s.frontend.createNativeSettingsFlow({ xSessionToken: first.session_token }), 403);
      assert.equal(s.assertErrorEnvelope(settingsOwed.data, 403).id, 'session_aal2_required');

      const created = await s.frontend.createNativeLoginFlow({ aal: 'aal2', xSessionToken: first.session_token });
      assert.equal(created.status, 200);
      const login = created.data;
      s.assertFlowBasics(login, { type: 'api', action: 'login' });
      assert.equal(login.requested_aal, 'aal2');
      assert.deepEqual(messageIds(login), [1010004]);
      assert.ok(s.nodeNamed(login, 'totp_code'), `a TOTP input (nodes: ${nodeNames(login)})`);
      assert.ok(submitNode(login, 'totp'));
      assert.equal(s.nodeNamed(login, 'password'), undefined, 'no password input on a second-factor flow');
      assert.equal(s.nodeNamed(login, 'lookup_secret'), undefined, 'no backup code input without backup codes');
      assert.equal((await s.frontend.getLoginFlow({ id: login.id })).data.requested_aal, 'aal2');

      // The code that linked the app is refused when replayed in its window (difference 8).
      const replayed = await s.sdkError(
        s.frontend.updateLoginFlow({
          flow: login.id,
          xSessionToken: first.session_token,
          updateLoginFlowBody: { method: 'totp', totp_code: linkCode },
        }),
        400,
      );
      assert.equal(replayed.data.id, login.id);
      assert.deepEqual(messageIds(replayed.data).filter((id) => id !== 1010004), [4000008]);
      assert.ok(totpStep() <= linkStep + 1, 'the replay was refused while the code was still inside its window');
      const wrongLogin = await s.sdkError(
        s.frontend.updateLoginFlow({
          flow: login.id,
          xSessionToken: first.session_token,
          updateLoginFlowBody: { method: 'totp', totp_code: wrongCode(secret) },
        }),
        400,
      );
      assert.deepEqual(messageIds(wrongLogin.data).filter((id) => id !== 1010004), [4000008]);
      assert.equal(s.nodeNamed(wrongLogin.data, 'totp_code').attributes.value ?? '', '', 'the code input is emptied');

      const done = await s.frontend.updateLoginFlow({
        flow: login.id,
        xSessionToken: first.session_token,
        updateLoginFlowBody: { method: 'totp', totp_code: totpCode(secret, Math.max(linkStep + 1, totpStep())) },
      });
      assert.equal(done.status, 200);
      assert.equal(done.data.session_token, first.session_token, 'the same session token');
      assert.equal(done.data.session.id, first.session.id, 'the same session, upgraded');
      assert.equal(done.data.session.authenticator_assurance_level, 'aal2');
      assert.equal(done.data.session.identity.id, identity.id);
      const upgraded = await whoami({ xSessionToken: first.session_token });
      assert.equal(upgraded.aal, 'aal2');
      assert.deepEqual(upgraded.methods, ['password', 'totp']);
      assert.equal(upgraded.session.id, first.session.id);

      // Unlinking takes it away again (the unlink node's body, as the SDK types it).
      const { data: manage } = await s.frontend.createNativeSettingsFlow({ xSessionToken: first.session_token });
      const unlinked = await s.frontend.updateSettingsFlow({
        flow: manage.id,
        xSessionToken: first.session_token,
        updateSettingsFlowBody: { method: 'totp', totp_unlink: true },
      });
      assert.equal(unlinked.data.state, 'success');
      offeredSecret(unlinked.data);
      const plain = await loginNative(email);
      assert.equal((await whoami({ xSessionToken: plain.session_token })).aal, 'aal1', 'a password is enough again');
    });

    test('backup codes: lookup_secret regenerate and confirm, then aal2 logins with method lookup_secret', { timeout: s.timeout }, async () => {
      const email = s.uniqueEmail('lookup');
      const { token } = await registerNative(email);
      const { data: flow } = await s.frontend.createNativeSettingsFlow({ xSessionToken: token });

      const early = await s.sdkError(
        s.frontend.updateSettingsFlow({
          flow: flow.id,
          xSessionToken: token,
          updateSettingsFlowBody: { method: 'lookup_secret', lookup_secret_confirm: true },
        }),
        400,
      );
      assert.deepEqual(messageIds(early.data), [4000001], 'nothing to confirm before codes were generated');

      const generated = await s.frontend.updateSettingsFlow({
        flow: flow.id,
        xSessionToken: token,
        updateSettingsFlowBody: { method: 'lookup_secret', lookup_secret_regenerate: true },
      });
      assert.equal(generated.status, 200);
      assert.equal(generated.data.state, 'show_form', 'codes are only shown, nothing is saved yet');
      const codes = shownCodes(generated.data);
      assert.equal(codes.length, 12);
      for (const code of codes) assert.match(code, /^[a-z0-9]{8}$/);
      assert.ok(s.nodeNamed(generated.data, 'lookup_secret_confirm'), `a confirm button (nodes: ${nodeNames(generated.data)})`);
      assert.deepEqual(shownCodes((await s.frontend.getSettingsFlow({ id: flow.id, xSessionToken: token })).data), codes, 'the flow keeps them');
      assert.equal((await whoami({ xSessionToken: token })).aal, 'aal1', 'not confirmed yet');

      const confirmed = await s.frontend.updateSettingsFlow({
        flow: flow.id,
        xSessionToken: token,
        updateSettingsFlowBody: { method: 'lookup_secret', lookup_secret_confirm: true },
      });
      assert.equal(confirmed.status, 200);
      assert.equal(confirmed.data.state, 'success');
      assert.deepEqual(messageIds(confirmed.data), [1050001]);
      for (const name of ['lookup_secret_reveal', 'lookup_secret_disable']) assert.ok(s.nodeNamed(confirmed.data, name), `${name} (nodes: ${nodeNames(confirmed.data)})`);
      const after = await whoami({ xSessionToken: token });
      assert.equal(after.aal, 'aal2');
      assert.deepEqual(after.methods, ['password', 'lookup_secret']);

      // Reveal shows the saved codes again.
      const revealed = await s.frontend.updateSettingsFlow({
        flow: flow.id,
        xSessionToken: token,
        updateSettingsFlowBody: { method: 'lookup_secret', lookup_secret_reveal: true },
      });
      assert.deepEqual(shownCodes(revealed.data), codes);

      const first = await loginNative(email);
      const { data: login } = await s.frontend.createNativeLoginFlow({ aal: 'aal2', xSessionToken: first.session_token });
      assert.equal(login.requested_aal, 'aal2');
      assert.ok(s.nodeNamed(login, 'lookup_secret'), `a backup code input (nodes: ${nodeNames(login)})`);
      assert.ok(submitNode(login, 'lookup_secret'));
      assert.equal(s.nodeNamed(login, 'totp_code'), undefined, 'no TOTP input without an app');

      const unknown = await s.sdkError(
        s.frontend.updateLoginFlow({
          flow: login.id,
          xSessionToken: first.session_token,
          updateLoginFlowBody: { method: 'lookup_secret', lookup_secret: 'zzzzzzzz' },
        }),
        400,
      );
      assert.deepEqual(messageIds(unknown.data).filter((id) => id !== 1010004), [4000016]);

      const done = await s.frontend.updateLoginFlow({
        flow: login.id,
        xSessionToken: first.session_token,
        updateLoginFlowBody: { method: 'lookup_secret', lookup_secret: codes[0] },
      });
      assert.equal(done.status, 200);
      assert.equal(done.data.session.id, first.session.id);
      assert.equal(done.data.session.authenticator_assurance_level, 'aal2');
      const upgraded = await whoami({ xSessionToken: first.session_token });
      assert.equal(upgraded.aal, 'aal2');
      assert.deepEqual(upgraded.methods, ['password', 'lookup_secret']);

      // Each code works once: a refresh of the aal2 session cannot use it again, the next one can.
      const { data: again } = await s.frontend.createNativeLoginFlow({ aal: 'aal2', refresh: true, xSessionToken: first.session_token });
      const used = await s.sdkError(
        s.frontend.updateLoginFlow({
          flow: again.id,
          xSessionToken: first.session_token,
          updateLoginFlowBody: { method: 'lookup_secret', lookup_secret: codes[0] },
        }),
        400,
      );
      assert.ok(messageIds(used.data).includes(4000012), `4000012 (used): ${JSON.stringify(used.data.ui.messages)}`);
      const next = await s.frontend.updateLoginFlow({
        flow: again.id,
        xSessionToken: first.session_token,
        updateLoginFlowBody: { method: 'lookup_secret', lookup_secret: codes[1] },
      });
      assert.equal(next.data.session.authenticator_assurance_level, 'aal2');
    });

    test('browser settings, SPA style: createBrowserSettingsFlow with the cookie jar, CSRF, TOTP, then an aal2 browser login', { timeout: s.timeout }, async () => {
      const email = s.uniqueEmail('spa-settings');
      const jar = new s.CookieJar();
      const { data: regFlow } = jar.store(await s.frontend.createBrowserRegistrationFlow({}, s.jsonAccept));
      const registered = jar.store(
        await s.frontend.updateRegistrationFlow({
          flow: regFlow.id,
          cookie: jar.header(),
          updateRegistrationFlowBody: { method: 'password', csrf_token: s.csrfTokenOf(regFlow), traits: { email }, password: s.password },
        }),
      );
      const identityId = registered.data.identity.id;

      // Without a session: 401 for a JSON request.
      const anonymous = await s.sdkError(s.frontend.createBrowserSettingsFlow({}, s.jsonAccept), 401);
      assert.equal(s.assertErrorEnvelope(anonymous.data, 401).id, 'session_inactive');

      const created = jar.store(await s.frontend.createBrowserSettingsFlow({ cookie: jar.header() }, s.jsonAccept));
      assert.equal(created.status, 200);
      const flow = created.data;
      assertSettingsFlow(flow, { type: 'browser', identityId });
      assert.equal(flow.state, 'show_form');
      const csrf_token = s.csrfTokenOf(flow);
      assert.ok(csrf_token, 'browser flows carry a csrf_token');
      assert.ok(jar.names().some((n) => n.startsWith('csrf_token')), 'the anti-CSRF cookie is kept');

      const fetched = await s.frontend.getSettingsFlow({ id: flow.id, cookie: jar.header() });
      assert.equal(fetched.data.id, flow.id);

      // The SDK's default Accept is answered with JSON too; `returnTo` under the public URL is kept.
      const byDefault = await s.frontend.createBrowserSettingsFlow({ cookie: jar.header() });
      assert.equal(byDefault.status, 200);
      assert.equal(byDefault.data.type, 'browser');
      const returning = await s.frontend.createBrowserSettingsFlow({ returnTo: `${s.publicUrl}ui/welcome`, cookie: jar.header() }, s.jsonAccept);
      assert.equal(returning.data.return_to, `${s.publicUrl}ui/welcome`);

      // A submit without the token is refused.
      const traits = { email, name: { first: 'Grace', last: 'Hopper' } };
      const noToken = await s.sdkError(
        s.frontend.updateSettingsFlow({ flow: flow.id, cookie: jar.header(), updateSettingsFlowBody: { method: 'profile', traits } }),
        403,
      );
      assert.equal(s.assertErrorEnvelope(noToken.data, 403).id, 'security_csrf_violation');

      const profile = jar.store(
        await s.frontend.updateSettingsFlow({
          flow: flow.id,
          cookie: jar.header(),
          updateSettingsFlowBody: { method: 'profile', traits, csrf_token },
        }),
      );
      assert.equal(profile.status, 200);
      assert.equal(profile.data.state, 'success');
      assert.deepEqual(profile.data.identity.traits, traits);
      const redirect = profile.data.continue_with?.find((c) => c.action === 'redirect_browser_to');
      assert.ok(redirect, `continue_with says where the browser goes: ${JSON.stringify(profile.data.continue_with)}`);
      assert.equal(redirect.redirect_browser_to, `${s.publicUrl}ui/settings?flow=${flow.id}`);
      assert.ok(jar.get('ory_kratos_session'), 'the session cookie is re-issued');

      const secret = offeredSecret(profile.data);
      const linkStep = totpStep();
      const linked = jar.store(
        await s.frontend.updateSettingsFlow({
          flow: flow.id,
          cookie: jar.header(),
          updateSettingsFlowBody: { method: 'totp', totp_code: totpCode(secret, linkStep), csrf_token: s.csrfTokenOf(profile.data) ?? csrf_token },
        }),
      );
      assert.equal(linked.data.state, 'success');
      assert.equal((await whoami({ cookie: jar.header() })).aal, 'aal2');

      // A new browser login with the password alone still owes the second factor: a SPA is told
      // to change location (422), to the aal2 login flow.
      const fresh = new s.CookieJar();
      const { data: login } = fresh.store(await s.frontend.createBrowserLoginFlow({}, s.jsonAccept));
      const owed = fresh.store(
        await s.sdkError(
          s.frontend.updateLoginFlow({
            flow: login.id,
            cookie: fresh.header(),
            updateLoginFlowBody: { method: 'password', identifier: email, password: s.password, csrf_token: s.csrfTokenOf(login) },
          }),
          422,
        ),
      );
      assert.equal(s.assertErrorEnvelope(owed.data, 422).id, 'browser_location_change_required');
      assert.match(owed.data.redirect_browser_to, /\/self-service\/login\/browser\?aal=aal2/);
      assert.ok(fresh.get('ory_kratos_session'), 'the aal1 session cookie is set');
      const owedSettings = await s.sdkError(s.frontend.createBrowserSettingsFlow({ cookie: fresh.header() }, s.jsonAccept), 403);
      assert.equal(s.assertErrorEnvelope(owedSettings.data, 403).id, 'session_aal2_required');

      const { data: second } = fresh.store(await s.frontend.createBrowserLoginFlow({ aal: 'aal2', cookie: fresh.header() }, s.jsonAccept));
      assert.equal(second.requested_aal, 'aal2');
      assert.ok(s.nodeNamed(second, 'totp_code'), `a TOTP input (nodes: ${nodeNames(second)})`);
      const done = fresh.store(
        await s.frontend.updateLoginFlow({
          flow: second.id,
          cookie: fresh.header(),
          updateLoginFlowBody: { method: 'totp', totp_code: totpCode(secret, Math.max(linkStep + 1, totpStep())), csrf_token: s.csrfTokenOf(second) },
        }),
      );
      assert.equal(done.status, 200);
      assert.equal(done.data.session_token, undefined, 'browser flows issue no token');
      assert.equal(done.data.session.authenticator_assurance_level, 'aal2');
      assert.equal(done.data.continue_with?.[0]?.action, 'redirect_browser_to');
      const upgraded = await whoami({ cookie: fresh.header() });
      assert.equal(upgraded.aal, 'aal2');
      assert.deepEqual(upgraded.methods, ['password', 'totp']);
      assert.equal((await s.frontend.createBrowserSettingsFlow({ cookie: fresh.header() }, s.jsonAccept)).status, 200);
    });

    test('session_refresh_required: an old session re-authenticates (refresh login), then resubmits', { timeout: s.timeout }, async () => {
      // A second server on the same database whose sessions stop being privileged after 2 s.
      const side = await s.startSideServer({ SELFSERVICE_FLOWS_SETTINGS_PRIVILEGED_SESSION_MAX_AGE: '2s' }, 'refresh');
      try {
        const api = new FrontendApi(new Configuration({ basePath: side.publicUrl.slice(0, -1) }), undefined, s.http);
        const email = s.uniqueEmail('refresh');
        const { token, session } = await registerNative(email, api);
        const { data: flow } = await api.createNativeSettingsFlow({ xSessionToken: token });
        await sleep(2_200);

        const refused = await s.sdkError(
          api.updateSettingsFlow({ flow: flow.id, xSessionToken: token, updateSettingsFlowBody: { method: 'password', password: NEW_PASSWORD } }),
          403,
        );
        const error = s.assertErrorEnvelope(refused.data, 403);
        assert.equal(error.id, 'session_refresh_required');
        assert.equal(refused.headers['ory-error-id'], 'session_refresh_required');
        const back = `${side.publicUrl}self-service/settings?flow=${flow.id}`;
        assert.equal(
          refused.data.redirect_browser_to,
          `${side.publicUrl}self-service/login/browser?refresh=true&return_to=${encodeURIComponent(back)}`,
        );
        // Traits that identify nobody need no fresh sign-in.
        const named = await api.updateSettingsFlow({
          flow: flow.id,
          xSessionToken: token,
          updateSettingsFlowBody: { method: 'profile', traits: { email, name: { first: 'Old', last: 'Session' } } },
        });
        assert.equal(named.data.state, 'success');

        // The native app refreshes its session (same session, new authenticated_at)…
        const { data: refresh } = await api.createNativeLoginFlow({ refresh: true, xSessionToken: token });
        assert.equal(refresh.refresh, true);
        const refreshed = await api.updateLoginFlow({
          flow: refresh.id,
          xSessionToken: token,
          updateLoginFlowBody: { method: 'password', identifier: email, password: s.password },
        });
        assert.equal(refreshed.data.session.id, session.id);
        assert.ok(Date.parse(refreshed.data.session.authenticated_at) > Date.parse(session.authenticated_at));
        // …and submits the change again: Sesame keeps no continuity container.
        const changed = await api.updateSettingsFlow({
          flow: flow.id,
          xSessionToken: token,
          updateSettingsFlowBody: { method: 'password', password: NEW_PASSWORD },
        });
        assert.equal(changed.data.state, 'success');
        assert.equal((await loginNative(email, NEW_PASSWORD, api)).session.identity.id, session.identity.id);
      } finally {
        await side.stop();
      }
    });
  });
}
