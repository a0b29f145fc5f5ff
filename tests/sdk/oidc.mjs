// A real OpenID Connect provider for the tests: npm `oidc-provider` on a free 127.0.0.1 port.
// Its login and consent pages are replaced by one that signs in the account the test chose
// (`provider.nextLogin = {...claims}`) and grants the requested scopes, so a test drives the
// whole authorization-code flow over HTTP the way a browser would (`browse`).
import http from 'node:http';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'oxbase-sdk';
export const CLIENT_SECRET = 'sdk-secret-123';

export async function startOidcProvider(redirectUris) {
  const accounts = new Map();
  const server = http.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const oidc = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: redirectUris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    async findAccount(ctx, sub) {
      const claims = accounts.get(sub);
      return claims && { accountId: sub, async claims() { return { sub, ...claims }; } };
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['oxbase-test-cookie-key'] },
    pkce: { required: () => true },
    // The scope's claims in the id_token too, so a provider without userInfoURL has them.
    conformIdTokenClaims: false,
  });
  oidc.on('server_error', (ctx, err) => console.error('oidc-provider error', err));
  const state = { nextLogin: null };
  const callback = oidc.callback();
  server.on('request', async (req, res) => {
    if (!req.url.startsWith('/interaction/')) return callback(req, res);
    try {
      const details = await oidc.interactionDetails(req, res);
      let result;
      if (details.prompt.name === 'login') {
        const claims = state.nextLogin;
        if (!claims) throw new Error('no account chosen for this login');
        accounts.set(claims.sub, claims);
        result = { login: { accountId: claims.sub } };
      } else {
        const grant = new oidc.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
        grant.addOIDCScope(details.params.scope);
        result = { consent: { grantId: await grant.save() } };
      }
      await oidc.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e));
    }
  });
  return {
    issuer,
    /** The collection's `oauth2` options for this provider, as the generic `oidc` one. */
    options: {
      enabled: true,
      providers: [{
        name: 'oidc', displayName: 'Local OIDC', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET,
        authURL: `${issuer}/auth`, tokenURL: `${issuer}/token`, userInfoURL: `${issuer}/me`,
      }],
    },
    /** Who signs in at the provider's login page next. */
    loginAs(claims) { state.nextLogin = claims; },
    stop: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

/**
 * Follows redirects like a browser with its own cookie jar, until a URL starting with
 * `stopAt` (returned without being requested), or a page without a redirect.
 */
export async function browse(url, stopAt) {
  const jar = new Map();
  for (let i = 0; i < 20; i++) {
    if (stopAt && url.startsWith(stopAt)) return { url };
    const r = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      signal: AbortSignal.timeout(5000),
    });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
    }
    const location = r.headers.get('location');
    if (!location) return { url, status: r.status, body: await r.text() };
    url = new URL(location, url).href;
  }
  throw new Error('too many redirects');
}
