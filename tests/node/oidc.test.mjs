// Corporate OAuth/OIDC against a live hub with a real test identity provider (tests/node/idp.mjs,
// oauth2-mock-server): JWT access tokens on the API, and the admin pages' authorization-code
// sign-in (oidc.cgi). Prints TAP-style lines for tests/run.sh; exits non-zero on a failure.
//
// Env: HUB_HOME, HUB_PORT, HUB_CONF (with the jwt_* lines pointing at the IdP; the IdP is found
// from jwt_jwks_uri), optional HUB_TEST_MODEL (default demo-echo), OIDC_SKIP_PAGES=1 to run only
// the API part.
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, createSign, createHmac, randomUUID } from 'node:crypto';
import { join } from 'node:path';

const home = process.env.HUB_HOME;
const hub = `http://127.0.0.1:${process.env.HUB_PORT}`;
const model = process.env.HUB_TEST_MODEL ?? 'demo-echo';
let failed = 0;
const check = (cond, name, detail = '') => {
  if (cond) console.log(`ok - ${name}`);
  else {
    failed++;
    console.log(`not ok - ${name}${detail ? ' # ' + String(detail).replace(/\n/g, ' ').slice(0, 300) : ''}`);
  }
  return cond;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const note = (s) => console.log(`# ${s}`);
const sql = (q) =>
  execFileSync('mariadb', ['--no-defaults', '-S', join(home, 'run', 'mysqld.sock'), '-u', 'root', '-N', '-B', 'hub', '-e', q], {
    encoding: 'utf8',
  }).trim();
const esc = (s) => String(s).replace(/\\/g, '\\\\').replace(/'/g, "''");

function conf() {
  const out = {};
  let text = '';
  try {
    text = readFileSync(process.env.HUB_CONF, 'utf8');
  } catch (e) {
    check(false, 'hub.conf can be read', e.message);
  }
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]] = m[2]; // the last value wins, as in hub_config_load
  }
  return out;
}
const cfg = conf();
const b64u = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');
const decode = (tok) => tok.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
const now = () => Math.floor(Date.now() / 1000);
const sentTokens = [];

// ---- the IdP ----
const idp = (cfg.jwt_jwks_uri ?? '').replace(/\/jwks\/?$/, '');
async function idpToken(claims, aud = cfg.jwt_audience) {
  const form = new URLSearchParams({ grant_type: 'client_credentials', hub_claims: JSON.stringify(claims) });
  if (aud !== undefined) form.set('aud', aud);
  const r = await fetch(`${idp}/token`, { method: 'POST', body: form });
  const j = await r.json();
  return j.access_token;
}
// A token signed by a key of our own (not in the IdP's JWKS).
const own = generateKeyPairSync('rsa', { modulusLength: 2048 });
function selfSigned(header, payload, key = own.privateKey) {
  const input = `${b64u(header)}.${b64u(payload)}`;
  const sig = createSign('RSA-SHA256').update(input).sign(key).toString('base64url');
  return `${input}.${sig}`;
}

// ---- the API ----
async function chat(token, extraHeaders = {}) {
  if (token) sentTokens.push(token);
  const r = await fetch(`${hub}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...extraHeaders },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello from a corporate token' }] }),
  });
  const text = await r.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, body, text, rid: r.headers.get('x-request-id'), headers: r.headers };
}
async function usageRow(rid) {
  for (let i = 0; i < 100; i++) {
    const r = sql(`SELECT COALESCE(key_id,'NULL'), COALESCE(user_id,'NULL'), COALESCE(team_id,'NULL'), app, outcome FROM usage_log WHERE request_id='${esc(rid)}' AND outcome <> 'pending'`);
    if (r) return r.split('\t');
    await sleep(100);
  }
  return null;
}
const isAuthError = (r) => r.status === 401 && r.body && r.body.error && typeof r.body.error.message === 'string' && r.body.error.type === 'authentication_error';
const noEcho = (r, tok) => !r.text.includes(tok) && !r.text.includes(tok.split('.')[2] || tok);

async function apiTests() {
  if (!check(cfg.jwt_jwks_uri && cfg.jwt_issuer && cfg.jwt_audience, 'hub.conf has jwt_jwks_uri, jwt_issuer and jwt_audience', JSON.stringify(cfg))) return;
  const userClaim = cfg.jwt_user_claim || 'preferred_username';
  const teamClaim = cfg.jwt_team_claim || '';
  const tag = randomUUID().slice(0, 8);
  const user = `jwt-alice-${tag}`;
  const team = `jwt-team-${tag}`;
  const base = { [userClaim]: user, ...(teamClaim ? { [teamClaim]: team } : {}) };

  // a valid token: 200, metered under the (new) user and team, no key, app "oauth"
  const good = await idpToken(base);
  const r1 = await chat(good);
  check(r1.status === 200 && r1.body?.object === 'chat.completion', 'a valid IdP JWT works on /v1/chat/completions', `${r1.status} ${r1.text}`);
  const urow = sql(`SELECT id, role, auth_source, COALESCE(team_id,'NULL') FROM users WHERE name='${esc(user)}'`).split('\t');
  check(urow.length === 4 && urow[1] === 'member' && urow[2] === 'oidc', "the token's user is provisioned (role member, auth_source oidc)", urow.join(','));
  const teamId = teamClaim ? sql(`SELECT id FROM teams WHERE name='${esc(team)}'`) : 'NULL';
  if (teamClaim) {
    check(/^\d+$/.test(teamId), "the token's team is created", teamId);
    check(sql(`SELECT COUNT(*) FROM memberships WHERE user_id=${Number(urow[0])} AND team_id=${Number(teamId)}`) === '1', 'the user becomes a member of the team');
  }
  const u1 = r1.rid ? await usageRow(r1.rid) : null;
  check(u1 && u1[0] === 'NULL' && u1[1] === urow[0] && u1[2] === String(teamId) && u1[3] === 'oauth' && u1[4] === 'ok',
    'the usage row lands under the right user and team (key_id NULL, app oauth)', `${u1} user=${urow[0]} team=${teamId}`);

  // the same user again with another team: found, not duplicated; metered under the new team
  if (teamClaim) {
    const team2 = `${team}-b`;
    const r = await chat(await idpToken({ ...base, [teamClaim]: team2 }));
    const t2 = sql(`SELECT id FROM teams WHERE name='${esc(team2)}'`);
    const u = r.rid ? await usageRow(r.rid) : null;
    check(r.status === 200 && sql(`SELECT COUNT(*) FROM users WHERE name='${esc(user)}'`) === '1' && u && u[2] === t2,
      "a second team claim meters under that team, same user", `${r.status} ${u} team2=${t2}`);
  }

  // aud as an array that contains the audience
  const rArr = await chat(await idpToken({ ...base, aud: ['other-api', cfg.jwt_audience] }, undefined));
  check(rArr.status === 200, 'aud as an array containing jwt_audience is accepted', `${rArr.status} ${rArr.text}`);

  // both signing algorithms of the IdP (its keys take turns; a rotation test below may have
  // added a third key to an IdP that outlives this run)
  const algs = new Set();
  let allOk = true;
  for (let i = 0; i < 12 && algs.size < 2; i++) {
    const t = await idpToken(base);
    algs.add(decode(t)[0].alg);
    const r = await chat(t);
    allOk = allOk && r.status === 200;
  }
  check(allOk && algs.size === 2, `tokens signed with ${[...algs].join(' and ')} are accepted`, [...algs].join(','));

  // bad tokens: each 401, OpenAI-shaped, the token never echoed
  const t0 = now();
  const bad = [];
  bad.push(['expired', await idpToken({ ...base, iat: t0 - 7200, nbf: t0 - 7200, exp: t0 - 600 }), /expired/i]);
  bad.push(['wrong audience', await idpToken(base, 'some-other-api'), /audience/i]);
  bad.push(['no audience', await idpToken({ ...base, aud: null }, undefined), /audience/i]);
  bad.push(['wrong issuer', await idpToken({ ...base, iss: 'https://evil.example.test' }), /issue/i]);
  bad.push(['not yet valid (nbf in an hour)', await idpToken({ ...base, nbf: t0 + 3600 }), /valid yet/i]);
  bad.push(['no user claim', await idpToken({ ...base, [userClaim]: null }), new RegExp(userClaim)]);
  const goodClaims = { ...decode(good)[1], iat: t0, exp: t0 + 600 };
  bad.push(['alg none (no signature)', `${b64u({ alg: 'none', typ: 'JWT' })}.${b64u(goodClaims)}.`, /none/]);
  bad.push(['alg none (with a signature part)', `${b64u({ alg: 'none', typ: 'JWT' })}.${b64u(goodClaims)}.${b64u('x')}`, /none/]);
  bad.push(['alg NONE (upper case)', `${b64u({ alg: 'NONE' })}.${b64u(goodClaims)}.`, /none/i]);
  bad.push(['unknown kid (a key not in the JWKS)', selfSigned({ alg: 'RS256', typ: 'JWT', kid: 'not-in-the-jwks' }, goodClaims), /verif/]);
  const realKid = decode(good)[0].kid;
  bad.push(['known kid, foreign key (bad signature)', selfSigned({ alg: 'RS256', typ: 'JWT', kid: realKid }, goodClaims), /verif/]);
  bad.push(['no kid, foreign key', selfSigned({ alg: 'RS256', typ: 'JWT' }, goodClaims), /verif/]);
  const [h, , s] = good.split('.');
  bad.push(['tampered payload', `${h}.${b64u({ ...decode(good)[1], [userClaim]: 'mallory' })}.${s}`, /verif/]);
  const hsIn = `${b64u({ alg: 'HS256', typ: 'JWT', kid: realKid })}.${b64u(goodClaims)}`;
  bad.push(['HS256 (algorithm confusion)', `${hsIn}.${createHmac('sha256', 'secret').update(hsIn).digest('base64url')}`, /algorithm/]);
  bad.push(['not base64url', 'eyJhbGciOiJSUzI1NiJ9.e30.a+b', /well-formed/]);
  bad.push(['three dots is not a JWT nor a key', `${good}.x`, /./]);
  for (const [name, tok, re] of bad) {
    const r = await chat(tok);
    check(isAuthError(r) && re.test(r.body.error.message) && noEcho(r, tok), `${name}: 401 with a clear message`, `${r.status} ${r.text}`);
  }

  // unknown key ids cannot make the gateway hammer the IdP: a flood of tokens with made-up
  // kids costs at most one JWKS fetch per jwt_jwks_refetch_seconds, and a real key rotation
  // is still picked up (the new kid triggers a fetch once the window allows)
  const jwks = async (hook = 'hub-test-jwks') => (await fetch(`${idp}/userinfo`, { headers: { Authorization: `Bearer ${hook}` } })).json();
  const before = await jwks();
  const flood = [];
  for (let i = 0; i < 30; i++) flood.push(chat(selfSigned({ alg: 'RS256', typ: 'JWT', kid: `made-up-${tag}-${i}` }, goodClaims)));
  for (let i = 0; i < 10; i++) flood.push(chat(selfSigned({ alg: 'RS256', typ: 'JWT' }, { ...goodClaims, jti: `${tag}-${i}` })));
  const floodRes = await Promise.all(flood);
  const after = await jwks();
  const fetches = after.jwks_fetches - before.jwks_fetches;
  check(floodRes.every((r) => isAuthError(r)) && fetches <= 2, 'a flood of 40 tokens with unknown or no key ids: all 401, at most 2 JWKS fetches',
    `${fetches} fetches; statuses ${[...new Set(floodRes.map((r) => r.status))]}`);
  note(`unknown-kid flood: ${fetches} JWKS fetch(es) for 40 tokens`);
  await jwks('hub-test-new-key');
  let kids = before.kids;
  for (let i = 0; i < 50 && kids.length <= before.kids.length; i++) {
    await sleep(100);
    kids = (await jwks()).kids;
  }
  const newKid = kids.find((k) => !before.kids.includes(k));
  let rotated = null;
  for (let i = 0; i < 10 && newKid && !rotated; i++) {
    const t = await idpToken(base);
    if (decode(t)[0].kid === newKid) rotated = t;
  }
  const waitS = Number(cfg.jwt_jwks_refetch_seconds ?? 5);
  const tr = Date.now();
  let rr = rotated ? await chat(rotated) : null;
  while (rotated && rr.status !== 200 && Date.now() - tr < (waitS + 3) * 1000) {
    await sleep(500);
    rr = await chat(rotated);
  }
  check(rotated && rr.status === 200, `after a key rotation at the IdP, a token signed with the new key works within ${waitS + 3} s even right after a flood`,
    `${newKid} ${rr && rr.status} ${rr && rr.text}`);
  note(`new signing key accepted ${Date.now() - tr} ms after the rotation was first used`);

  // the result cache is short: a disabled user is refused within key_cache_ms (+ jwt cache)
  sql(`UPDATE users SET disabled=1 WHERE name='${esc(user)}'`);
  await sleep(Number(cfg.key_cache_ms ?? 500) + 200);
  const rDis = await chat(good);
  check(isAuthError(rDis) && /disabled/.test(rDis.body.error.message), 'a disabled user is refused', `${rDis.status} ${rDis.text}`);
  sql(`UPDATE users SET disabled=0 WHERE name='${esc(user)}'`);
  await sleep(Number(cfg.key_cache_ms ?? 500) + 200);

  // a cached verification is re-checked for expiry: a token that expires in 2 s stops working
  const short = await idpToken({ ...base, exp: now() + 2 });
  const rs1 = await chat(short);
  await sleep(3200);
  const rs2 = await chat(short);
  check(rs1.status === 200 && isAuthError(rs2) && /expired/.test(rs2.body.error.message), 'a token stops working when it expires (also from the cache)', `${rs1.status} ${rs2.status} ${rs2.text}`);

  // hub keys keep working next to JWTs
  const demoKey = existsSync(join(home, 'etc', 'demo.key')) ? readFileSync(join(home, 'etc', 'demo.key'), 'utf8').trim() : null;
  if (demoKey) {
    const r = await chat(demoKey);
    check(r.status === 200, 'hub keys still work', `${r.status} ${r.text}`);
  }
}

// ---- the admin pages: oidc.cgi, authorization code + PKCE, plain HTTP requests ----
const base = `${hub}${cfg.admin_base || '/admin'}`;
const get = (url, cookie) => fetch(url, { redirect: 'manual', headers: cookie ? { Cookie: cookie } : {} });
const setCookies = (r) => (typeof r.headers.getSetCookie === 'function' ? r.headers.getSetCookie() : [r.headers.get('set-cookie') ?? '']);
const cookieValue = (r, name) => {
  for (const c of setCookies(r)) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(c);
    if (m) return { value: m[1], line: c };
  }
  return null;
};

// Starts a sign-in; returns { loc, state, cookie } (the 303 to the IdP and the state cookie).
async function startLogin() {
  const r = await get(`${base}/oidc.cgi?start=1`);
  const loc = r.headers.get('location') ?? '';
  const c = cookieValue(r, 'hub_oidc_state');
  return { r, loc, state: c?.value, cookieLine: c?.line ?? '', cookie: c ? `hub_oidc_state=${c.value}` : '' };
}
// The IdP's /authorize (auto-approves) for user name; returns the callback URL into hub.
async function authorize(loc, name, extra = {}) {
  const u = new URL(loc);
  u.searchParams.set('login_hint', name);
  for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  const r = await get(u.href);
  return r.headers.get('location') ?? '';
}

async function pagesTests() {
  const modes = (cfg.admin_auth ?? 'local').split(',').map((x) => x.trim());
  if (!modes.includes('oidc')) {
    const r = await get(`${base}/oidc.cgi?start=1`);
    check(r.status === 404, 'oidc.cgi answers 404 when admin_auth does not list oidc', r.status);
    return;
  }
  const issuer = cfg.jwt_issuer; // the same test IdP serves the pages
  sql(`REPLACE INTO settings (name, value) VALUES ('oidc_issuer','${esc(issuer)}'),('oidc_client_id','hub-pages'),('oidc_scopes','openid profile email')`);
  const tag = randomUUID().slice(0, 8);
  const admins = (cfg.role_map ?? '').split(',').find((x) => x.endsWith('=admin'))?.split('=')[0];
  const name = `oidc-carol-${tag}`;

  const s = await startLogin();
  const q = s.loc ? new URL(s.loc).searchParams : new URLSearchParams();
  check(s.r.status === 303 && s.loc.startsWith(`${issuer}/authorize?`), 'oidc.cgi?start=1 sends the browser to the IdP (303)', `${s.r.status} ${s.loc}`);
  check(q.get('response_type') === 'code' && q.get('client_id') === 'hub-pages' && q.get('code_challenge_method') === 'S256' &&
    /^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '') && (q.get('nonce') ?? '').length >= 32 && q.get('redirect_uri') === `${base}/oidc.cgi` &&
    (q.get('scope') ?? '').split(' ').includes('openid'), 'the authorization request carries PKCE (S256), nonce, state, scope and redirect_uri', s.loc);
  check(s.state && s.state === q.get('state') && /HttpOnly/i.test(s.cookieLine) && /SameSite=Lax/i.test(s.cookieLine),
    'the state is bound to the browser by an HttpOnly SameSite=Lax cookie', s.cookieLine);
  const pendingHash = sql(`SELECT COUNT(*) FROM oidc_pending WHERE state_hash = UNHEX(SHA2('${esc(s.state)}', 256)) AND expires_at > NOW(3)`);
  check(pendingHash === '1', 'the pending login is stored as the hash of the state, for a few minutes', pendingHash);

  const cb = await authorize(s.loc, name, admins ? { hub_groups: `${admins},staff` } : {});
  check(cb.startsWith(`${base}/oidc.cgi?`) && new URL(cb).searchParams.get('state') === s.state, 'the IdP redirects back to oidc.cgi with the code and the state', cb);
  const r = await get(cb, s.cookie);
  const sess = cookieValue(r, 'hub_session');
  const html = await r.text();
  check(r.status === 200 && sess && /^[0-9a-f]{64}$/.test(sess.value) && html.includes('http-equiv="refresh"'),
    'the callback creates a session (Set-Cookie hub_session) and moves on to the pages', `${r.status} ${html.slice(0, 200)}`);
  const urow = sql(`SELECT id, role, auth_source, COALESCE(email,'') FROM users WHERE name='${esc(name)}'`).split('\t');
  const wantRole = admins ? 'admin' : cfg.default_role || 'member';
  check(urow[1] === wantRole && urow[2] === 'oidc' && urow[3] === `${name}@example.test`,
    `the user is provisioned from the id_token (auth_source oidc, role ${wantRole} from the groups)`, urow.join(','));
  check(sql(`SELECT COUNT(*) FROM oidc_pending WHERE state_hash = UNHEX(SHA2('${esc(s.state)}', 256))`) === '0', 'the pending login is gone after use');
  if (sess) {
    let page = await get(`${base}/tokens.cgi`, `hub_session=${sess.value}`);
    let which = 'tokens.cgi';
    if (page.status === 404) {
      page = await get(`${base}/`, `hub_session=${sess.value}`);
      which = 'the pages (tokens.cgi not installed)';
    }
    const anon = await get(which === 'tokens.cgi' ? `${base}/tokens.cgi` : `${base}/`);
    check(page.status === 200 && anon.status !== 200, `the hub_session cookie opens ${which} (without it: ${anon.status})`, `${page.status} ${page.headers.get('location') ?? ''}`);
  }
  const replay = await get(cb, s.cookie);
  check(replay.status === 400 && !cookieValue(replay, 'hub_session') && /already used|expired/.test(await replay.text()),
    'the same code and state cannot be used twice', replay.status);

  // state checks
  const s2 = await startLogin();
  const cb2 = await authorize(s2.loc, name);
  const noCookie = await get(cb2);
  check(noCookie.status === 400 && !cookieValue(noCookie, 'hub_session'), 'a callback without the state cookie is refused', noCookie.status);
  const s3 = await startLogin();
  const cb3 = await authorize(s3.loc, name);
  const forged = new URL(cb3);
  forged.searchParams.set('state', 'a'.repeat(64));
  const wrong = await get(forged.href, `hub_oidc_state=${'a'.repeat(64)}`);
  check(wrong.status === 400 && !cookieValue(wrong, 'hub_session'), 'an unknown state is refused', wrong.status);
  const denied = await get(`${base}/oidc.cgi?error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}&state=${s3.state}`, s3.cookie);
  const dtext = await denied.text();
  check(denied.status === 400 && dtext.includes('access_denied') && !dtext.includes('<script>alert') && dtext.includes('&lt;script&gt;'),
    'an IdP error is shown as a readable, escaped page', `${denied.status} ${dtext.slice(0, 120)}`);

  // id_token checks: each refused, no session
  const t0 = now();
  const badId = [
    ['a wrong nonce', { nonce: 'not-the-nonce' }],
    ['another audience', { aud: 'someone-else' }],
    ['another issuer', { iss: 'https://evil.example.test' }],
    ['an expired id_token', { iat: t0 - 7200, exp: t0 - 600 }],
  ];
  for (const [what, claims] of badId) {
    const st = await startLogin();
    const c = await authorize(st.loc, name, { hub_id_claims: claims });
    const rr = await get(c, st.cookie);
    check(rr.status === 401 && !cookieValue(rr, 'hub_session'), `an id_token with ${what} is refused`, rr.status);
  }

  // claims missing from the id_token come from userinfo
  const uname = `oidc-dave-${tag}`;
  const su = await startLogin();
  const cu = await authorize(su.loc, uname, { hub_id_claims: { preferred_username: null, email: null, groups: null } });
  const ru = await get(cu, su.cookie);
  check(ru.status === 200 && cookieValue(ru, 'hub_session') && sql(`SELECT auth_source FROM users WHERE name='${esc(uname)}'`) === 'oidc',
    'claims missing from the id_token are read from userinfo', ru.status);

  // a disabled user gets no session
  sql(`UPDATE users SET disabled=1 WHERE name='${esc(name)}'`);
  const sd = await startLogin();
  const rd = await get(await authorize(sd.loc, name), sd.cookie);
  check(rd.status === 403 && !cookieValue(rd, 'hub_session'), 'a disabled user is not signed in', rd.status);
  sql(`UPDATE users SET disabled=0 WHERE name='${esc(name)}'`);

  // only GET
  const post = await fetch(`${base}/oidc.cgi`, { method: 'POST', redirect: 'manual', body: 'start=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  check(post.status === 405, 'oidc.cgi refuses POST', post.status);
}

// ---- a JWT is never logged ----
function logsClean() {
  const dir = join(home, 'log');
  let text = '';
  for (const f of ['gateway.log', 'lighttpd-error.log']) {
    const p = join(dir, f);
    if (existsSync(p)) text += readFileSync(p, 'utf8');
  }
  const leaked = sentTokens.filter((t) => t.length > 20 && (text.includes(t) || text.includes(t.split('.').slice(0, 2).join('.'))));
  check(leaked.length === 0 && !/eyJ[A-Za-z0-9_-]{10,}/.test(text), 'no JWT appears in the gateway or web server logs', `${leaked.length} leaked`);
}

try {
  await apiTests();
  if (process.env.OIDC_SKIP_PAGES !== '1') await pagesTests();
  logsClean();
} catch (e) {
  check(false, 'oidc tests ran to the end', e.stack || String(e));
}
process.exit(failed ? 1 : 0);
