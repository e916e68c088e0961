// Drives the authorization code flow with PKCE through the provider's own login and
// consent pages over HTTP, as a browser would, and prints the token response (JSON).
//
//   node tests/oidc/login.mjs ISSUER CLIENT_ID LOGIN "SCOPES" AUDIENCE

import crypto from 'node:crypto';

const [issuer, clientId, login, scope, audience] = process.argv.slice(2);
const redirectUri = 'http://127.0.0.1:9/callback';
const verifier = crypto.randomBytes(32).toString('base64url');
const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
const cookies = new Map();

async function go(url, init = {}) {
  const headers = { ...(init.headers ?? {}), cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  const res = await fetch(new URL(url, issuer), { ...init, headers, redirect: 'manual' });
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    cookies.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return res;
}

const form = (fields) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

const auth = new URL('/auth', issuer);
Object.entries({
  client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope, state: 'st',
  code_challenge: challenge, code_challenge_method: 'S256', resource: audience,
}).forEach(([k, v]) => auth.searchParams.set(k, v));

let res = await go(auth);
let code;
for (let step = 0; step < 10 && !code; step += 1) {
  const location = res.headers.get('location');
  if (!location) throw new Error(`stuck at ${res.status}: ${await res.text()}`);
  const next = new URL(location, issuer);
  if (next.origin + next.pathname === redirectUri) {
    code = next.searchParams.get('code');
    if (!code) throw new Error(`no code: ${next}`);
    break;
  }
  if (next.pathname.startsWith('/interaction/')) {
    const page = await (await go(next)).text();
    const prompt = page.includes('name="login"') ? 'login' : 'consent';
    res = await go(next, form(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt }));
  } else {
    res = await go(next);
  }
}
const token = await fetch(new URL('/token', issuer), form({
  grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId,
  code_verifier: verifier, resource: audience,
}));
const body = await token.json();
if (!body.access_token) throw new Error(`token endpoint: ${JSON.stringify(body)}`);
process.stdout.write(`${JSON.stringify(body)}\n`);
