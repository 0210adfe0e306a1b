#!/usr/bin/env node
// tests/browser/pages.test.mjs — the admin pages in a real browser: headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core, against a running hub (deploy/quickstart.sh).
//
// Signs in the three ways hub.conf admin_auth allows and uses the pages as people would:
//   local      the quickstart's admin ($HUB_HOME/etc/admin.password): adds a provider with a
//              credential (the secret is typed once, then shown only masked), a model route,
//              an API key (shown once; works on /v1/models; revoked → 401 within 1 s), a
//              member with a password, the OIDC client settings; reads the audit log.
//   member     that member, signed in locally: creates a personal token (self-service),
//              uses it, revokes it; admin pages answer 403.
//   analytics  the analytics pages as the admin and the member (tests/browser/analytics.mjs).
//   oidc       through a test IdP (tests/node/idp.mjs, oauth2-mock-server; started here unless
//              HUB_OIDC_IDP names one) as a user of group hub-viewers → viewer: read-only pages.
//   webserver  through a test-only Apache with HTTP Basic auth (tests/webserver-auth/, started
//              here unless running): carol (group hub-admins → admin) and a user whose name is
//              <script>alert(1)</script> (shown escaped, never run).
// Every page visited is screenshotted (full page, PNG) into $HUB_ARTIFACTS (default
// <repo>/test-artifacts/screenshots); secrets shown once are masked in the screenshots.
// On every page: the security headers, the stylesheet applied, no console error, no script
// dialog, no request leaving this machine, no secret or session id in the HTML.
//
// Env: HUB_HOME, HUB_PORT, HUB_CONF (default $HUB_HOME/etc/hub.conf); MOCK_PORT (the mock
// provider; else the quickstart's demo provider); HUB_OIDC_IDP (optional); HUB_ARTIFACTS.
// hub.conf needs admin_auth listing local and oidc, and role_map with hub-viewers=viewer
// (the OIDC part is skipped with a note otherwise). Chromium is installed with apt-get when
// missing (root); playwright-core comes from tests/node (npm install there when missing).
// The shared helpers (check, visit, open, submit, …) are in lib.mjs.
// Prints TAP lines ("ok - …" / "not ok - …"); exits non-zero on a failure.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { analyticsPages } from './analytics.mjs';
import { ADMIN_BASE, ARGS, ART, BASE, CHROMIUM, HOME, api, check, cfg, cookieOf, ensureChromium, esc, failures,
  fixtures, loadPlaywright, modes, note, open, pageWideChecks, refusedWithin, rnd, secrets, sql, startIdp,
  startWebserver, submit, tag, visit, wire } from './lib.mjs';

const REVOKE_MS = 1000; // a revoked key must be refused within this

// ---- the scenarios -----------------------------------------------------------------------
const adminPw = readFileSync(join(HOME, 'etc', 'admin.password'), 'utf8').split('\n')[0].replace(/^password: /, '').trim();
secrets.set('admin password', adminPw);
if (fixtures.canary) secrets.set('fixtures canary provider key', fixtures.canary);
const mockPort = process.env.MOCK_PORT || (existsSync(join(HOME, 'etc', 'demo.port')) ? readFileSync(join(HOME, 'etc', 'demo.port'), 'utf8').trim() : '');
const names = {
  provider: `br-prov-${tag}`,
  model: `br-model-${tag}`,
  key: `br-key-${tag}`,
  member: `br-mia-${tag}`,
  viewer: `oidc-olga-${tag}`,
};
const provSecret = `sk-browser-canary-${rnd(24)}`;
const memberPw = `Mia-${rnd(16)}`;
const oidcSecret = `oidc-client-secret-${rnd(16)}`;
secrets.set('provider secret typed in the browser', provSecret);
secrets.set('member password', memberPw);
secrets.set('OIDC client secret', oidcSecret);
const state = {};

async function localAdmin(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await wire(ctx, 'admin');
  const page = await ctx.newPage();
  state.adminCtx = ctx;
  state.adminPage = page;

  // signed out: any page leads to the sign-in form
  let resp = await page.goto(`${BASE}/providers.cgi`);
  check(page.url().startsWith(`${BASE}/login.cgi`), 'signed out, a page sends the browser to login.cgi', page.url());
  await visit(page, 'login', { resp });
  check(await page.locator('input[name="password"][type="password"]').count() === 1 &&
    await page.locator(`a[href="${ADMIN_BASE}/oidc.cgi?start=1"]`).count() === (modes.includes('oidc') ? 1 : 0),
  'the sign-in page has the local form and (admin_auth oidc) the company sign-in button');

  // (a) local sign-in
  await page.fill('input[name="user"]', 'admin');
  await page.fill('input[name="password"]', adminPw);
  resp = await submit(page, page.locator('button[value="login"]'));
  check(page.url() === `${BASE}/`, 'local sign-in as the quickstart admin lands on the start page', page.url());
  await visit(page, 'start-admin', { resp });
  const sess = await cookieOf(ctx);
  check(sess && sess.httpOnly && sess.sameSite === 'Strict' && sess.path === '/', 'the session cookie is HttpOnly, SameSite=Strict, Path=/', JSON.stringify(sess));
  if (sess) secrets.set('admin session id', sess.value);
  check(await page.locator('.who-name').innerText() === 'admin' && /admin/i.test(await page.locator('.badge-role').innerText()),
    'the header names the signed-in user and role');

  // providers: add one with a credential (the secret typed once)
  await open(page, 'providers.cgi', 'providers');
  resp = await submit(page, page.locator('a.btn', { hasText: 'Add a provider' }));
  await visit(page, 'provider-new', { resp });
  await page.fill('input[name="name"]', names.provider);
  await page.selectOption('select[name="type"]', 'openai-compatible');
  await page.fill('input[name="base_url"]', `http://127.0.0.1:${mockPort}/v1`);
  await page.check('input[name="internal"]');
  await page.fill('input[name="label"]', 'main');
  await page.fill('input[name="secret"]', provSecret);
  resp = await submit(page, page.locator('button[value="create"]'));
  const pid = new URL(page.url()).searchParams.get('id');
  check(resp && resp.status() === 200 && /done=created/.test(page.url()) && pid, 'the provider is added (303 to its page, "done=created")', page.url());
  await visit(page, 'provider-created', { resp });
  const credRow = page.locator('tr', { hasText: 'main' }).first();
  check(/•+ \(sealed\)/.test(await credRow.innerText()), 'the credential shows masked ("•••••••• (sealed)")', await credRow.innerText());
  check(await page.locator('input[name="secret"]').evaluateAll((els) => els.every((e) => e.value === '' && e.type === 'password')),
    'the secret fields are empty password fields afterwards');
  const sealed = sql(`SELECT COUNT(*), SUM(INSTR(c.secret_enc, '${esc(provSecret)}') > 0) FROM credentials c JOIN providers p ON p.id = c.provider_id WHERE p.name = '${esc(names.provider)}'`).split('\t');
  check(sealed[0] === '1' && sealed[1] === '0', 'the database holds the credential sealed, not in plain text', sealed.join(','));
  // the connection test with the stored credential
  resp = await submit(page, credRow.locator('button[value="test"]'));
  check(/done=test/.test(page.url()) && (await page.locator('.notice').first().innerText()).includes('Connection test'), 'the connection test reports its result', page.url());
  await visit(page, 'provider-test-connection', { resp });

  // a model route to the new provider
  resp = await open(page, 'models.cgi', 'models');
  await page.fill('input[name="name"]', names.model);
  await page.selectOption('select[name="provider"]', { label: names.provider });
  await page.fill('input[name="upstream_model"]', 'gpt-4o-mini');
  resp = await submit(page, page.locator('button[value="create"]'));
  check(resp && resp.status() === 200 && /done=/.test(page.url()), 'a model route is added through models.cgi', page.url());
  await visit(page, 'model-created', { resp });
  await open(page, 'models.cgi?view=prices', 'prices');

  // an API key: shown once, works, revoked → 401 within 1 s
  await open(page, 'keys.cgi', 'keys');
  resp = await submit(page, page.locator('a.btn', { hasText: 'Create a service key' }));
  await visit(page, 'key-new', { resp });
  await page.fill('input[name="name"]', names.key);
  await page.fill('input[name="user"]', 'admin');
  await page.fill('input[name="app"]', 'browser-test');
  await page.fill('input[name="models"]', 'br-model-*');
  resp = await submit(page, page.locator('button[value="create"]'));
  const keyInput = page.locator('input[name="new_key"].secret');
  const key = (await keyInput.count()) ? await keyInput.inputValue() : '';
  check(resp && resp.status() === 200 && /^hub_[A-Za-z0-9]{20,}$/.test(key) && await keyInput.getAttribute('readonly') !== null,
    'the new key is shown once, in a read-only field', `${resp && resp.status()} ${key.slice(0, 8)}`);
  check(/no-store/.test((await resp.allHeaders())['cache-control'] || ''), 'the page with the key is not stored (Cache-Control: no-store)');
  secrets.set('API key', key);
  await visit(page, 'key-shown-once', { resp, allow: [key], mask: [keyInput] });
  const r1 = await api(key);
  check(r1.status === 200 && Array.isArray(r1.body?.data) && r1.body.data.some((m) => m.id === names.model),
    'the key works on /v1/models (and sees the new route)', `${r1.status} ${JSON.stringify(r1.body).slice(0, 200)}`);
  // reload: the key is not shown again (no-store; a re-POST is refused as a duplicate name)
  resp = await page.reload();
  const again = await page.content();
  check(!again.includes(key), 'reloading does not show the key again', `status ${resp && resp.status()}`);
  await visit(page, 'key-page-reloaded', { resp, want: resp ? resp.status() : 200 });
  resp = await open(page, 'keys.cgi', 'keys-after-create');
  const keyRow = page.locator('tr', { hasText: names.key });
  check(await keyRow.count() === 1 && (await keyRow.innerText()).includes(key.slice(0, 8)) && !(await page.content()).includes(key),
    'the list shows the key by its prefix only');
  await api(key); // in the gateway's cache now
  const [revResp] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/keys.cgi')),
    page.waitForNavigation({ waitUntil: 'load' }), keyRow.locator('button[value="revoke"]').click()]);
  const t0 = Date.now();
  check(revResp.status() === 303, 'revoke answers 303', revResp.status());
  const ms = await refusedWithin(key, t0, REVOKE_MS);
  check(ms >= 0 && ms <= REVOKE_MS, `the revoked key is refused (401) within ${REVOKE_MS} ms`, `took ${ms} ms`);
  note(`revoked key refused after ${ms} ms`);
  check(/done=revoked/.test(page.url()) && /revoked/.test(await page.locator('tr', { hasText: names.key }).innerText()), 'the list shows the key as revoked');
  await visit(page, 'key-revoked');

  // a member with a password, added through users.cgi
  await open(page, 'users.cgi', 'users');
  await page.fill('input[name="name"]', names.member);
  await page.fill('input[name="email"]', `${names.member}@example.test`);
  await page.selectOption('select[name="role"]', 'member');
  await page.fill('input[name="password"]', memberPw);
  await page.fill('input[name="password2"]', memberPw);
  resp = await submit(page, page.locator('button[value="create"]'));
  check(/done=created/.test(page.url()) && (await page.locator('h1').innerText()) === names.member, 'a member is added with a password', page.url());
  await visit(page, 'user-created', { resp });
  await open(page, 'users.cgi?view=teams', 'teams');

  // the OIDC client settings, pointing at the test IdP
  if (state.idp) {
    await open(page, 'settings.cgi', 'settings');
    await page.fill('input[name="issuer"]', state.idp);
    await page.fill('input[name="client_id"]', 'hub-pages');
    await page.fill('input[name="client_secret"]', oidcSecret);
    resp = await submit(page, page.locator('button[value="save"]'));
    check(/done=saved/.test(page.url()) && (await page.locator('input[name="client_secret"]').getAttribute('placeholder') || '').includes('stored'),
      'the OIDC client settings are saved; the secret shows only as "stored"', page.url());
    await visit(page, 'settings-saved', { resp });
  }
}

async function localMember(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await wire(ctx, 'member');
  const page = await ctx.newPage();
  await page.goto(`${BASE}/login.cgi`);
  await page.fill('input[name="user"]', names.member);
  await page.fill('input[name="password"]', memberPw);
  let resp = await submit(page, page.locator('button[value="login"]'));
  check(page.url() === `${BASE}/` && /member/i.test(await page.locator('.badge-role').innerText()), 'the member signs in locally', page.url());
  await visit(page, 'start-member', { resp });
  const navs = await page.locator('nav.nav a').allInnerTexts();
  check(navs.includes('My tokens') && !navs.some((n) => /Providers|Models|API keys|Users|Audit|Security/.test(n)),
    'a member sees "My tokens" and no admin page in the navigation', navs.join(','));
  await open(page, 'providers.cgi', 'member-providers-403', { want: 403 });
  await open(page, 'tokens.cgi', 'tokens-member');
  await page.fill('input[name="label"]', 'laptop');
  await page.fill('input[name="models"]', 'br-model-*');
  await page.fill('input[name="expires_days"]', '30');
  resp = await submit(page, page.locator('button[value="create"]'));
  const tokInput = page.locator('input[name="new_key"].secret');
  const token = (await tokInput.count()) ? await tokInput.inputValue() : '';
  check(resp && resp.status() === 200 && /^hub_/.test(token), 'self-service: the member creates a token, shown once', resp && resp.status());
  secrets.set('member token', token);
  await visit(page, 'token-shown-once', { resp, allow: [token], mask: [tokInput] });
  const r = await api(token);
  check(r.status === 200 && r.body?.data?.some((m) => m.id === names.model), 'the token works on /v1/models', `${r.status}`);
  resp = await submit(page, page.locator('a.btn', { hasText: 'Done' }));
  const row = page.locator('tr', { hasText: 'laptop' });
  check(await row.count() === 1 && !(await page.content()).includes(token), 'the token list shows the token by its prefix only');
  await visit(page, 'tokens-member-list', { resp });
  await api(token);
  const [rv] = await Promise.all([page.waitForResponse((x) => x.request().method() === 'POST' && x.url().endsWith('/tokens.cgi')),
    page.waitForNavigation({ waitUntil: 'load' }), row.locator('button[value="revoke"]').click()]);
  const ms = await refusedWithin(token, Date.now(), REVOKE_MS);
  check(rv.status() === 303 && ms >= 0 && ms <= REVOKE_MS, `the member revokes the token; refused within ${REVOKE_MS} ms`, `${rv.status()} ${ms} ms`);
  await visit(page, 'token-revoked');
  const sess = await cookieOf(ctx);
  if (sess) secrets.set('member session id', sess.value);
  await ctx.close();
}

async function oidcViewer(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await wire(ctx, 'oidc');
  // The IdP auto-approves (no login form); the user and groups it signs in come from the
  // authorization request (tests/node/idp.mjs: login_hint, hub_groups). Requests that follow a
  // redirect cannot be routed, so the test takes oidc.cgi's 303 to the IdP and adds them there,
  // as a person choosing an account at the IdP would.
  await ctx.route((u) => u.pathname === `${ADMIN_BASE}/oidc.cgi` && u.searchParams.get('start') === '1', async (route) => {
    const r = await route.fetch({ maxRedirects: 0 });
    const headers = r.headers();
    if (r.status() !== 303 || !headers.location) return route.fulfill({ response: r });
    const u = new URL(headers.location);
    u.searchParams.set('login_hint', names.viewer);
    u.searchParams.set('hub_groups', 'hub-viewers,staff');
    return route.fulfill({ response: r, headers: { ...headers, location: u.href } });
  });
  const page = await ctx.newPage();
  await open(page, 'login.cgi', 'login-oidc');
  const resp = await submit(page, page.locator('a', { hasText: 'Sign in with your company account' }));
  await page.waitForURL(`${BASE}/`, { timeout: 15000 }).catch(() => {});
  check(page.url() === `${BASE}/` && (await page.locator('.who-name').innerText()) === names.viewer,
    'OIDC sign-in through the test IdP lands on the start page as the IdP user', page.url());
  check(/viewer/i.test(await page.locator('.badge-role').innerText()), 'the group hub-viewers maps to the role viewer');
  await visit(page, 'start-oidc-viewer', { resp: null });
  void resp;
  const row = sql(`SELECT role, auth_source, email FROM users WHERE name = '${esc(names.viewer)}'`).split('\t');
  check(row[0] === 'viewer' && row[1] === 'oidc' && row[2] === `${names.viewer}@example.test`, 'the OIDC user is provisioned (viewer, oidc, e-mail from the IdP)', row.join(','));
  await open(page, 'providers.cgi', 'providers-viewer');
  check(await page.locator('a.btn', { hasText: 'Add a provider' }).count() === 0, 'a viewer sees no "Add a provider"');
  await open(page, `providers.cgi?id=${sql(`SELECT id FROM providers WHERE name='${esc(names.provider)}'`)}`, 'provider-viewer');
  check(await page.locator('main form[method="post"]').count() === 0, 'a viewer gets no forms on a provider page');
  await open(page, 'keys.cgi', 'keys-viewer');
  check(await page.locator('button[value="revoke"]').count() === 0, 'a viewer gets no revoke buttons');
  await open(page, 'audit.cgi', 'audit-viewer');
  await open(page, 'analytics.cgi?view=breakdown&by=user&period=today', 'analytics-viewer');
  check((await page.locator('tbody tr').count()) > 1 && await page.locator('main form[method="post"]').count() === 0,
    'a viewer sees everyone\'s usage on the analytics pages, read-only');
  await open(page, 'settings.cgi', 'settings-viewer-403', { want: 403 });
  await open(page, 'users.cgi', 'users-viewer-403', { want: 403 });
  await ctx.close();
}

async function webserverUsers(browser, ws) {
  const wsBase = `http://127.0.0.1:${ws.port}/admin`;
  // a user whose name is markup: provisioned by the web server, shown escaped
  const xssName = '<script>alert(1)</script>';
  const xss = ws.users[xssName];
  if (xss) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, httpCredentials: { username: xssName, password: xss.password } });
    await wire(ctx, 'webserver-xss');
    const page = await ctx.newPage();
    const resp = await open(page, `${wsBase}/`, 'start-webserver-hostile-name');
    check((await page.locator('h1').innerText()).includes(xssName), 'a user name with markup is shown as text');
    const html = resp ? await resp.text() : '';
    check(!html.includes(xssName) && html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the markup of the user name is escaped in the HTML');
    await ctx.close();
  }
  const carol = ws.users.carol;
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, httpCredentials: { username: 'carol', password: carol.password } });
  await wire(ctx, 'webserver-carol');
  const page = await ctx.newPage();
  let resp = await page.goto(`${wsBase}/`);
  check(page.url() === `${wsBase}/` && (await page.locator('.who-name').innerText()) === 'carol' && /admin/i.test(await page.locator('.badge-role').innerText()),
    'webserver sign-in: Apache Basic auth as carol (group hub-admins) opens the pages as admin', page.url());
  await visit(page, 'start-webserver-admin', { resp });
  const row = sql("SELECT role, auth_source FROM users WHERE name = 'carol'").split('\t');
  check(row[0] === 'admin' && row[1] === 'webserver', 'carol is provisioned by the web server sign-in (admin, webserver)', row.join(','));
  await open(page, `${wsBase}/users.cgi`, 'users-webserver');
  if (xss) {
    const cell = page.locator('tr', { hasText: xssName });
    check(await cell.count() === 1, 'the user list shows the hostile user name as text');
  }
  await open(page, `${wsBase}/audit.cgi?action=user.provision`, 'audit-webserver-provision');
  check(await page.locator('tr', { hasText: 'carol' }).count() >= 1, 'the audit log shows the provisioning of carol');
  // sign out: the session ends; with the web server still signing the browser in, the next
  // page view makes a new session
  const old = await cookieOf(ctx, `http://127.0.0.1:${ws.port}`);
  resp = await submit(page, page.locator('form.logout button'));
  check(/login\.cgi\?done=logout/.test(page.url()), 'sign-out leads to login.cgi?done=logout', page.url());
  await visit(page, 'logout-webserver', { resp });
  if (old) {
    const n = sql(`SELECT COUNT(*) FROM sessions WHERE id_hash = UNHEX(SHA2('${esc(old.value)}', 256))`);
    check(n === '0', 'the old webserver-mode session is gone after sign-out', n);
  }
  await ctx.close();
}

async function auditAndLogout() {
  const page = state.adminPage;
  const ctx = state.adminCtx;
  await open(page, 'audit.cgi', 'audit');
  const text = await page.locator('table.list').innerText();
  const want = [
    ['provider.create', names.provider],
    ['model.create', names.model],
    ['key.create', names.key],
    ['key.revoke', names.key],
    ['user.create', names.member],
    ['token.create', `${names.member}:laptop`],
    ['token.revoke', `${names.member}:laptop`],
  ];
  if (state.idp) want.push(['settings.update', 'oidc'], ['user.provision', names.viewer]);
  for (const [action, target] of want) {
    const rows = page.locator('tr', { hasText: action }).filter({ hasText: target });
    check(await rows.count() >= 1, `the audit log shows ${action} of ${target}`, text.slice(0, 200));
  }
  check(!text.includes(provSecret) && !text.includes(oidcSecret) && /\(sealed/.test(text), 'the audit log shows secrets only as "(sealed)"');
  await open(page, `audit.cgi?actor=admin&target_type=api_key`, 'audit-filtered');
  const acts = await page.locator('tbody tr td:nth-child(3)').allInnerTexts();
  check(acts.length > 0 && acts.every((a) => /^key\.|^token\./.test(a)), 'the audit filters (actor, target type) narrow the list', acts.join(','));
  await open(page, 'audit.cgi?verify=1', 'audit-verify');
  check(/intact/.test(await page.locator('.notice').first().innerText()), 'the audit hash chain verifies as intact');
  // a phone-sized window: the same pages stay usable
  await page.setViewportSize({ width: 390, height: 844 });
  await open(page, '', 'start-narrow');
  await open(page, 'keys.cgi', 'keys-narrow');
  await open(page, `providers.cgi?id=${sql(`SELECT id FROM providers WHERE name='${esc(names.provider)}'`)}`, 'provider-narrow');
  await page.setViewportSize({ width: 1280, height: 800 });
  // sign out; the old cookie then leads to the sign-in page
  const old = await cookieOf(ctx);
  const resp = await submit(page, page.locator('form.logout button'));
  check(page.url() === `${BASE}/login.cgi?done=logout` && (await page.locator('.notice-ok').innerText()).includes('signed out'), 'sign-out shows "You have signed out"', page.url());
  await visit(page, 'logout', { resp });
  if (old) {
    const r = await fetch(`${BASE}/providers.cgi`, { redirect: 'manual', headers: { Cookie: `hub_session=${old.value}` } });
    check(r.status === 303 && /login\.cgi$/.test(r.headers.get('location') || ''), 'the old session cookie no longer opens a page (303 to login.cgi)', `${r.status} ${r.headers.get('location')}`);
  }
  await ctx.close();
}

// ---- main --------------------------------------------------------------------------------
let browser = null;
let idp = null;
let ws = null;
// never hang a test run
setTimeout(() => {
  console.log('not ok - the browser tests finish within 10 minutes');
  process.exit(1);
}, 600000).unref();
try {
  mkdirSync(ART, { recursive: true });
  for (const f of readdirSync(ART)) if (/^\d\d\d?-.*\.png$/.test(f)) rmSync(join(ART, f)); // the last run's
  if (!ensureChromium()) process.exit(1);
  const pw = loadPlaywright();
  if (!pw) process.exit(1);
  if (modes.includes('oidc') && /hub-viewers\s*=\s*viewer/.test(cfg.role_map || '')) {
    idp = await startIdp();
    state.idp = idp.url;
    check(state.idp, 'the test IdP (tests/node/idp.mjs) runs', state.idp);
  } else {
    note('skipped: OIDC sign-in (hub.conf needs admin_auth with oidc and role_map with hub-viewers=viewer)');
  }
  browser = await pw.chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  note(`chromium ${browser.version()}, screenshots in ${ART}`);
  const steps = [
    ['local admin', () => localAdmin(browser)],
    ['local member', () => localMember(browser)],
    ['analytics', () => analyticsPages({ browser, names, memberPw, adminPage: state.adminPage, mockModel: names.model })],
  ];
  if (state.idp) steps.push(['OIDC viewer', () => oidcViewer(browser)]);
  steps.push(['webserver', async () => {
    try {
      ws = startWebserver();
    } catch (e) {
      check(false, 'the test web server (tests/webserver-auth/start.sh) starts', e.stderr ? e.stderr.toString() : e.message);
      return;
    }
    await webserverUsers(browser, ws);
  }]);
  steps.push(['audit and sign-out', () => auditAndLogout()]);
  for (const [name, fn] of steps) {
    try {
      await fn();
    } catch (e) {
      check(false, `${name}: the scenario runs to the end`, e.stack || String(e));
    }
  }
  pageWideChecks();
} catch (e) {
  check(false, 'the browser tests run to the end', e.stack || String(e));
} finally {
  if (browser) await browser.close().catch(() => {});
  if (idp) idp.stop();
  if (ws) {
    try {
      ws.stop();
    } catch {
      // already gone
    }
  }
}

process.exit(failures() ? 1 : 0);
