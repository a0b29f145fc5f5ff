// OAuth2 / OpenID Connect sign-in through the SDK against a real OpenID provider started
// locally (npm oidc-provider): the manual code flow (authWithOAuth2Code), the SDK's realtime
// popup flow (authWithOAuth2 with urlCallback, through /api/oauth2-redirect), and the
// account-takeover guard.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startServer, expectError, IS_POCKETBASE } from './harness.mjs';
import { startOidcProvider, browse } from './oidc.mjs';

// The SDK's popup flow listens on realtime: Node needs a global EventSource.
globalThis.EventSource = EventSource;

const MANUAL_REDIRECT = 'http://127.0.0.1:9/manual-callback';
let srv;
let idp;
let su;

before(async () => {
  srv = await startServer();
  idp = await startOidcProvider([MANUAL_REDIRECT, `${srv.url}/api/oauth2-redirect`]);
  su = await srv.superuserClient();
  await su.collections.update('users', { oauth2: idp.options });
});
after(async () => {
  await srv?.stop();
  await idp?.stop();
});

/** The manual flow: the provider's login in a "browser", then the code exchange. */
async function manualSignIn(pb, claims, createData = {}, name = 'oidc') {
  const methods = await pb.collection('users').listAuthMethods();
  const provider = methods.oauth2.providers.find((p) => p.name === name);
  idp.loginAs(claims);
  const landed = await browse(provider.authURL + encodeURIComponent(MANUAL_REDIRECT), MANUAL_REDIRECT);
  const back = new URL(landed.url);
  assert.equal(back.searchParams.get('state'), provider.state);
  const code = back.searchParams.get('code');
  assert.ok(code, `no code in ${landed.url}`);
  return pb.collection('users').authWithOAuth2Code(name, code, provider.codeVerifier, MANUAL_REDIRECT, createData);
}

let seq = 0;
const someone = (verified = true) => {
  seq += 1;
  return { sub: `sub-${seq}-${Date.now()}`, email: `oidc${seq}-${Date.now()}@example.com`, email_verified: verified, name: `Person ${seq}` };
};

describe('OAuth2 with a real OpenID provider', () => {
  it('listAuthMethods lists the provider with PKCE', async () => {
    const m = await srv.newClient().collection('users').listAuthMethods();
    assert.equal(m.oauth2.enabled, true);
    const p = m.oauth2.providers[0];
    assert.equal(p.name, 'oidc');
    assert.equal(p.displayName, 'Local OIDC');
    assert.equal(p.codeChallengeMethod, 'S256');
    assert.ok(p.authURL.startsWith(`${idp.issuer}/auth?`), p.authURL);
    assert.ok(p.authURL.endsWith('redirect_uri='), p.authURL);
  });

  it('authWithOAuth2Code signs up a new user, then signs the same identity in again', async () => {
    const who = someone(true);
    const pb = srv.newClient();
    const first = await manualSignIn(pb, who, { name: 'Chosen Name' });
    assert.equal(first.meta.isNew, true);
    assert.equal(first.meta.id, who.sub);
    assert.equal(first.meta.email, who.email);
    assert.equal(first.record.email, who.email);
    assert.equal(first.record.verified, true);
    assert.equal(first.record.name, 'Chosen Name');
    assert.equal(pb.authStore.isValid, true);
    const again = await manualSignIn(srv.newClient(), who);
    assert.equal(again.meta.isNew, false);
    assert.equal(again.record.id, first.record.id);
    const links = await su.collection('_externalAuths').getFullList({ filter: `recordRef = "${first.record.id}"` });
    assert.deepEqual(links.map((l) => [l.provider, l.providerId]), [['oidc', who.sub]]);
  });

  it('a user lists and unlinks its provider links (_externalAuths) through the SDK', async () => {
    const who = someone(true);
    const pb = srv.newClient();
    const auth = await manualSignIn(pb, who);
    const links = await pb.collection('users').listExternalAuths(auth.record.id);
    assert.deepEqual(links.map((l) => [l.provider, l.providerId]), [['oidc', who.sub]]);
    const stranger = srv.newClient();
    await manualSignIn(stranger, someone(true));
    assert.deepEqual(await stranger.collection('users').listExternalAuths(auth.record.id), [], 'others see none');
    assert.equal(await pb.collection('users').unlinkExternalAuth(auth.record.id, 'oidc'), true);
    assert.deepEqual(await pb.collection('users').listExternalAuths(auth.record.id), []);
  });

  it('the SDK popup flow (authWithOAuth2) completes through /api/oauth2-redirect and realtime', async () => {
    const who = someone(true);
    const pb = srv.newClient();
    idp.loginAs(who);
    const auth = await pb.collection('users').authWithOAuth2({
      provider: 'oidc',
      // Instead of a popup window: a cookie-keeping "browser" that follows the provider's
      // redirects to the server's /api/oauth2-redirect, and opens that page.
      urlCallback: async (url) => {
        const landed = await browse(url, `${srv.url}/api/oauth2-redirect`);
        const page = await fetch(landed.url, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
        assert.ok(page.status < 400, `oauth2-redirect answered ${page.status}`);
      },
    });
    assert.equal(auth.record.email, who.email);
    assert.equal(auth.meta.isNew, true);
    assert.equal(pb.authStore.isValid, true);
    assert.equal(pb.authStore.record.id, auth.record.id);
  });

  it('an identity whose address the provider did not verify cannot take over an existing account', { skip: IS_POCKETBASE && 'oxbase guard' }, async () => {
    const victimEmail = `victim-${Date.now()}@example.com`;
    const victim = await su.collection('users').create({ email: victimEmail, password: 'pass12345', passwordConfirm: 'pass12345', verified: true });
    const attacker = { sub: `attacker-${Date.now()}`, email: victimEmail, email_verified: false, name: 'Mallory' };
    const err = await expectError(manualSignIn(srv.newClient(), attacker), 400);
    assert.match(err.response.message, /already exists/);
    const links = await su.collection('_externalAuths').getFullList({ filter: `recordRef = "${victim.id}"` });
    assert.equal(links.length, 0);
    // The real owner, whose address the provider verified, is linked to the account.
    const owner = { sub: `owner-${Date.now()}`, email: victimEmail, email_verified: true, name: 'Victim' };
    const ok = await manualSignIn(srv.newClient(), owner);
    assert.equal(ok.record.id, victim.id);
    assert.equal(ok.meta.isNew, false);
  });
});

describe('OpenID Connect users from the id_token (no userInfoURL)', () => {
  // The same client as `oidc`, without a user-info URL: the user is the id_token, checked
  // against the provider's key set (found through its discovery document, from `issuers`).
  const idTokenProvider = (name, issuers) => ({
    ...idp.options.providers[0], name, displayName: name, userInfoURL: '', extra: { issuers },
  });
  before(async () => {
    await su.collections.update('users', {
      oauth2: {
        ...idp.options,
        providers: [idp.options.providers[0], idTokenProvider('oidc2', [idp.issuer]), idTokenProvider('oidc3', ['https://not-the-issuer.example'])],
      },
    });
  });
  after(async () => {
    await su.collections.update('users', { oauth2: idp.options });
  });

  it('signs up from the verified id_token claims', async () => {
    const who = someone(true);
    const auth = await manualSignIn(srv.newClient(), who, {}, 'oidc2');
    assert.equal(auth.meta.isNew, true);
    assert.equal(auth.meta.id, who.sub);
    assert.equal(auth.meta.rawUser.iss, idp.issuer);
    assert.equal(auth.meta.rawUser.aud, idp.options.providers[0].clientId);
    assert.equal(auth.record.email, who.email);
    assert.equal(auth.record.verified, true);
  });

  it('refuses an id_token from an issuer the provider does not allow', async () => {
    const err = await expectError(manualSignIn(srv.newClient(), someone(true), {}, 'oidc3'), 400);
    assert.equal(err.response.message, 'Failed to fetch OAuth2 user.');
    assert.deepEqual(err.response.data, {});
  });
});

describe('POST /api/settings/apple/generate-client-secret', () => {
  const path = '/api/settings/apple/generate-client-secret';
  const send = (client, body) => client.send(path, { method: 'POST', body });

  it('answers PocketBase\'s field errors', async () => {
    const err = await expectError(send(su, { clientId: 'a', teamId: 'b', keyId: 'c', privateKey: 'nope', duration: 99999999 }), 400);
    assert.equal(err.response.message, 'Invalid client secret data.');
    assert.deepEqual(Object.keys(err.response.data).sort(), ['duration', 'keyId', 'privateKey', 'teamId']);
    assert.equal(err.response.data.duration.code, 'validation_max_less_equal_than_required');
    assert.deepEqual(err.response.data.duration.params, { threshold: 15777000 });
    assert.equal(err.response.data.teamId.code, 'validation_length_invalid');
    assert.equal(err.response.data.privateKey.code, 'validation_match_invalid');
    const blank = await expectError(send(su, {}), 400);
    assert.deepEqual(Object.keys(blank.response.data).sort(), ['clientId', 'duration', 'keyId', 'privateKey', 'teamId']);
    await expectError(send(srv.newClient(), {}), 401);
  });

  it('signs an ES256 secret for Apple', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    const { secret } = await send(su, { clientId: 'com.example.app', teamId: 'TEAM123456', keyId: 'KID1234567', privateKey: pem, duration: 600 });
    const [header, claims] = secret.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url')));
    assert.equal(header.alg, 'ES256');
    assert.equal(header.kid, 'KID1234567');
    assert.equal(claims.iss, 'TEAM123456');
    assert.equal(claims.sub, 'com.example.app');
    assert.deepEqual([].concat(claims.aud), ['https://appleid.apple.com']);
    assert.equal(claims.exp - claims.iat, 600);
  });
});
