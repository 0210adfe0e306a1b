#!/usr/bin/env node
// tests/node/idp.mjs — a test identity provider for hub's OAuth/OIDC tests: oauth2-mock-server
// (a real OIDC provider for tests: discovery, JWKS, /authorize, /token, /userinfo) with two
// signing keys (RS256 and ES256; tokens alternate between them) and a few test hooks.
//
//   node tests/node/idp.mjs [--port N] [--host 127.0.0.1] [--pidfile FILE]
//
// Prints "idp listening port=N issuer=URL" once it listens (--port 0 or none: a free port);
// the issuer is http://HOST:PORT (http://127.0.0.1:PORT by default).
// Stops on SIGTERM/SIGINT.
//
// Test hooks:
//   POST /token, extra form field hub_claims=<JSON object>: merged into the payload of the
//     access token (a claim set to null is removed), e.g. to set preferred_username, team,
//     aud, iss or exp. The standard field aud=… also sets the audience (client_credentials).
//   GET /authorize?…&login_hint=NAME[&hub_groups=a,b][&hub_id_claims=<JSON object>]: the
//     authorization code is for user NAME (default "oidc-user"); the id_token and access token
//     of that code carry preferred_username=NAME, name, email=NAME@example.test and
//     groups=[a, b]; hub_id_claims is then merged into the id_token only (null removes a
//     claim), e.g. a wrong nonce, aud, iss or exp, or no profile claims (userinfo has them).
//   GET /userinfo answers the profile claims of the bearer access token presented.
//   GET /userinfo with "Authorization: Bearer hub-test-jwks" answers {"jwks_fetches": N, "kids":
//     [...]}: how often the JWKS was served, and the key ids in it; "Bearer hub-test-new-key"
//     starts adding a new RS256 signing key (a key rotation: tokens are then signed with
//     every key in turn; poll hub-test-jwks until "kids" has it) and answers the same.
import { OAuth2Server } from 'oauth2-mock-server';
import { writeFileSync, unlinkSync } from 'node:fs';

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const host = arg('--host', '127.0.0.1');
const port = Number(arg('--port', process.env.IDP_PORT ?? '0'));
const pidfile = arg('--pidfile', null);

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.issuer.keys.generate('ES256');

const users = new Map(); // authorization code -> { name, groups }

function profile(u) {
  return {
    preferred_username: u.name,
    name: `Test ${u.name}`,
    email: `${u.name}@example.test`,
    groups: u.groups,
  };
}

server.service.on('beforeAuthorizeRedirect', (redirect, req) => {
  const code = redirect.url.searchParams.get('code');
  if (!code) return;
  const name = typeof req.query.login_hint === 'string' && req.query.login_hint ? req.query.login_hint : 'oidc-user';
  const groups = typeof req.query.hub_groups === 'string' && req.query.hub_groups
    ? req.query.hub_groups.split(',') : [];
  const idClaims = typeof req.query.hub_id_claims === 'string' ? JSON.parse(req.query.hub_id_claims) : {};
  users.set(code, { name, groups, idClaims });
});

server.service.on('beforeTokenSigning', (token, req) => {
  const body = req.body ?? {};
  const merge = (extra) => {
    for (const [k, v] of Object.entries(extra)) {
      if (v === null) delete token.payload[k];
      else token.payload[k] = v;
    }
  };
  if (body.grant_type === 'authorization_code' && users.has(body.code)) {
    const u = users.get(body.code);
    Object.assign(token.payload, profile(u));
    // the access token of this grant carries a scope; the id_token does not
    if (!('scope' in token.payload)) merge(u.idClaims);
  }
  if (typeof body.hub_claims === 'string') merge(JSON.parse(body.hub_claims));
});

server.service.on('beforeResponse', (_response, req) => {
  // an authorization code is single use
  if (req.body?.grant_type === 'authorization_code') users.delete(req.body.code);
});

// count the JWKS answers (the JWKS handler serialises the key store once per request)
let jwksFetches = 0;
const keysToJSON = server.issuer.keys.toJSON.bind(server.issuer.keys);
server.issuer.keys.toJSON = (priv = false) => {
  if (!priv) jwksFetches++;
  return keysToJSON(priv);
};
const jwksInfo = () => ({ jwks_fetches: jwksFetches, kids: keysToJSON(false).map((k) => k.kid) });

server.service.on('beforeUserinfo', (response, req) => {
  const auth = req.headers.authorization ?? '';
  if (auth === 'Bearer hub-test-new-key') server.issuer.keys.generate('RS256').catch(() => {});
  if (auth === 'Bearer hub-test-jwks' || auth === 'Bearer hub-test-new-key') {
    response.body = jwksInfo();
    return;
  }
  const parts = auth.replace(/^Bearer\s+/i, '').split('.');
  if (parts.length !== 3) return;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    const out = { sub: claims.sub ?? 'johndoe' };
    for (const k of ['preferred_username', 'name', 'email', 'groups']) {
      if (k in claims) out[k] = claims[k];
    }
    response.body = out;
  } catch {
    // leave the default answer
  }
});

await server.start(port, host);
const actual = server.address().port;
// the issuer (iss of every token, the discovery document's "issuer") names the address the
// hub is configured with, not "localhost"
server.issuer.url = `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
if (pidfile) writeFileSync(pidfile, `${process.pid}\n`);
console.log(`idp listening port=${actual} issuer=${server.issuer.url}`);

async function stop() {
  await server.stop();
  if (pidfile) {
    try {
      unlinkSync(pidfile);
    } catch {
      // already gone
    }
  }
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
