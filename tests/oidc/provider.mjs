// The end-to-end tests' Identity Service: oidc-provider (a certified OpenID Provider)
// configured as IATI's would be for the Register Your Data API.
//
//   node tests/oidc/provider.mjs   (env: AUDIENCE, SCOPES, PORT, ACCOUNT_REDIRECT_URI;
//                                   prints one JSON line: {"issuer": …})
//
// - Clients: `publisher-tool` and `other-app` (authorization code + PKCE, public),
//   `tool-machine` and `untrusted-machine` (client credentials, secret "secret"), and
//   with ACCOUNT_REDIRECT_URI (or once POST /__account names it), `iati-account`: IATI
//   Account, a confidential client
//   (authorization code + PKCE, secret "account-secret", that redirect URI).
// - Access tokens are RFC 9068 JWTs (`typ: at+jwt`, RS256) for the API's audience, through
//   resource indicators, carrying `client_id`, `scope` and the claims the API reads.
// - Accounts are the login name typed at the (development) login form: see ACCOUNTS.
//
// Test-only controls, outside the provider, for what the tests must provoke or count:
//   GET  /__stats    requests per endpoint ({"jwks": n, "userinfo": n, "discovery": n, …})
//   POST /__rotate   a new signing key; `?keep=1` keeps the old one published too
//   POST /__down     every provider endpoint answers 503 (still counted); /__up undoes it
//   POST /__account?redirect_uri=…  registers IATI Account's console at that callback
//                    (for a console started after the provider, on a port of its own)
//
// oidc-provider's own userinfo endpoint refuses access tokens issued for another audience
// (its `validateAudience`: correct for RFC 9068 tokens), whereas Asgardeo, Keycloak and
// Auth0 answer userinfo for the access tokens they issue. So that the API's "roles only at
// userinfo" path meets the behaviour of those providers, `/me` answers for our JWT access
// tokens here, verified with the provider's own keys, from the same accounts.

import http from 'node:http';
import * as jose from 'jose';
import Provider from 'oidc-provider';

// stdout carries the one line the tests read (and may stop reading): oidc-provider's own
// notices go to stderr.
console.log = console.error;
process.stdout.on('error', () => {});

const AUDIENCE = process.env.AUDIENCE ?? 'https://registry.iatistandard.org/api/v1';
const API_SCOPES = (process.env.SCOPES ?? 'ryd').split(' ').filter(Boolean);

// login name → claims. `rolesInToken: false`: roles only at userinfo.
const ACCOUNTS = {
  alice: { iatiRegistryId: '00000000-0000-4000-8000-0000000a11ce', name: 'Alice Admin', roles: ['iati_register_your_data'] },
  dave: { iatiRegistryId: '00000000-0000-4000-8000-00000000da7e', name: 'Dave Toolstaff', roles: ['iati_register_your_data'] },
  root: { iatiRegistryId: '00000000-0000-4000-8000-0000000000aa', name: 'Root Super', roles: ['iati_register_your_data', 'iati_superadmin'] },
  carol: { iatiRegistryId: '00000000-0000-4000-8000-0000000ca201', name: 'Carol Userinfo', roles: ['iati_register_your_data'], rolesInToken: false },
};

function accountClaims(id) {
  const a = ACCOUNTS[id];
  if (!a) return undefined;
  return { sub: id, iatiRegistryId: a.iatiRegistryId, name: a.name, email: `${id}@example.org`, roles: a.roles };
}

async function newKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: `k-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, alg: 'RS256', use: 'sig' };
}

const server = http.createServer();
// PORT: a port chosen by the caller, for a relying party that must know the issuer before
// the provider knows the relying party's redirect URI.
await new Promise((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve));
let ACCOUNT_REDIRECT_URI = process.env.ACCOUNT_REDIRECT_URI;
const issuer = `http://127.0.0.1:${server.address().port}`;

let keys = [await newKey()];
let provider = makeProvider(keys);
let down = false;
const stats = {};
const count = (name) => { stats[name] = (stats[name] ?? 0) + 1; };

function makeProvider(signingKeys) {
  const p = new Provider(issuer, {
    clients: [
      { client_id: 'publisher-tool', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: ['http://127.0.0.1:9/callback'] },
      { client_id: 'other-app', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: ['http://127.0.0.1:9/callback'] },
      { client_id: 'tool-machine', client_secret: 'secret', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
      { client_id: 'untrusted-machine', client_secret: 'secret', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
      // IATI Account's console, registered as a confidential client with its sign-out
      // return and its Back-Channel Logout endpoint (sessions named by `sid`).
      ...(ACCOUNT_REDIRECT_URI ? [{
        client_id: 'iati-account',
        client_secret: 'account-secret',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [ACCOUNT_REDIRECT_URI],
        post_logout_redirect_uris: [new URL('/account', ACCOUNT_REDIRECT_URI).href],
        backchannel_logout_uri: new URL('/account/backchannel-logout', ACCOUNT_REDIRECT_URI).href,
        backchannel_logout_session_required: true,
      }] : []),
    ],
    jwks: { keys: signingKeys },
    scopes: ['openid', 'profile', 'email', ...API_SCOPES],
    claims: { openid: ['sub'], profile: ['name', 'roles', 'iatiRegistryId'], email: ['email'] },
    findAccount: async (_ctx, id) => (ACCOUNTS[id] ? { accountId: id, claims: async () => accountClaims(id) } : undefined),
    extraTokenClaims: async (_ctx, token) => {
      const claims = accountClaims(token.accountId);
      if (!claims) return undefined;
      const { sub, ...rest } = claims;
      if (ACCOUNTS[token.accountId].rolesInToken === false) delete rest.roles;
      return rest;
    },
    features: {
      devInteractions: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: API_SCOPES.join(' '),
          audience: AUDIENCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    pkce: { required: () => true },
    // Since 9.7 the provider's own HTTP client refuses special-use addresses (SSRF
    // protection) by handing fetch a guarded dispatcher; the relying party here is on
    // 127.0.0.1, so its back-channel logout calls go out without that guard (tests only).
    fetch: (url, { dispatcher, ...options }) => globalThis.fetch(url, options),
  });
  p.proxy = false;
  return p;
}

async function userinfoForJwt(req, res) {
  const token = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
  const set = jose.createLocalJWKSet({ keys: keys.map(({ d, p, q, dp, dq, qi, ...pub }) => pub) });
  try {
    const { payload } = await jose.jwtVerify(token, set, { issuer, audience: AUDIENCE });
    const claims = accountClaims(payload.sub);
    if (!claims) throw new Error('no such account');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(claims));
  } catch (e) {
    res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_token', error_description: String(e.message) }));
  }
}

server.on('request', async (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/__stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(stats));
  }
  if (url.pathname === '/__rotate' && req.method === 'POST') {
    const fresh = await newKey();
    keys = url.searchParams.get('keep') ? [fresh, ...keys] : [fresh];
    provider = makeProvider(keys);
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ kid: fresh.kid }));
  }
  if (url.pathname === '/__account' && req.method === 'POST') {
    ACCOUNT_REDIRECT_URI = url.searchParams.get('redirect_uri');
    provider = makeProvider(keys);
    res.writeHead(204);
    return res.end();
  }
  if (url.pathname === '/__down' || url.pathname === '/__up') {
    down = url.pathname === '/__down';
    res.writeHead(204);
    return res.end();
  }
  const name = { '/jwks': 'jwks', '/me': 'userinfo', '/.well-known/openid-configuration': 'discovery', '/token': 'token' }[url.pathname] ?? 'other';
  count(name);
  if (down) {
    res.writeHead(503, { 'content-type': 'text/plain' });
    return res.end('the Identity Service is down (test control)');
  }
  const bearer = req.headers.authorization ?? '';
  if (name === 'userinfo' && /^Bearer\s+[^.]+\.[^.]+\.[^.]+$/i.test(bearer)) {
    return userinfoForJwt(req, res);
  }
  return provider.callback()(req, res);
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
