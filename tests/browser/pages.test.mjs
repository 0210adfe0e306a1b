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
// Prints TAP lines ("ok - …" / "not ok - …"); exits non-zero on a failure.
import { createRequire } from 'node:module';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { analyticsPages } from './analytics.mjs';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOME = process.env.HUB_HOME;
const PORT = process.env.HUB_PORT;
const CONF = process.env.HUB_CONF || (HOME ? join(HOME, 'etc', 'hub.conf') : '');
const ART = process.env.HUB_ARTIFACTS || join(SRC, 'test-artifacts', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const REVOKE_MS = 1000; // a revoked key must be refused within this

let failed = 0;
function check(cond, name, detail = '') {
  if (cond) console.log(`ok - ${name}`);
  else {
    failed++;
    const d = detail ? ` # ${String(detail).replace(/\s+/g, ' ').slice(0, 400)}` : '';
    console.log(`not ok - ${name}${d}`);
  }
  return !!cond;
}
const note = (s) => console.log(`# ${s}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tag = randomBytes(3).toString('hex');
const rnd = (n = 18) => randomBytes(n).toString('base64url');

if (!HOME || !PORT) {
  console.log('not ok - HUB_HOME and HUB_PORT are set (run after deploy/quickstart.sh)');
  process.exit(1);
}

// ---- hub.conf, fixtures, SQL ----------------------------------------------------------
function readConf(file) {
  const out = {};
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]] = m[2]; // the last value wins, as in hub_config_load
  }
  return out;
}
const cfg = readConf(CONF);
const modes = (cfg.admin_auth || 'local').split(',').map((s) => s.trim());
const HUB = `http://127.0.0.1:${PORT}`;
const ADMIN_BASE = cfg.admin_base || '/admin';
const BASE = `${HUB}${ADMIN_BASE}`;
const fixtures = (() => {
  try {
    return JSON.parse(readFileSync(join(HOME, 'fixtures.json'), 'utf8'));
  } catch {
    return {};
  }
})();
const sql = (q) =>
  execFileSync('mariadb', ['--no-defaults', '-S', join(HOME, 'run', 'mysqld.sock'), '-u', 'root', '-N', '-B', 'hub', '-e', q],
    { encoding: 'utf8' }).trim();
const esc = (s) => String(s).replace(/\\/g, '\\\\').replace(/'/g, "''");

// ---- the browser and the driver --------------------------------------------------------
function ensureChromium() {
  if (existsSync(CHROMIUM)) return true;
  note('installing chromium (apt-get)');
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore', timeout: 600000 });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium', 'fonts-dejavu-core',
      'fonts-liberation'], { env, stdio: 'ignore', timeout: 900000 });
  } catch (e) {
    return check(false, 'chromium can be installed with apt-get', e.message);
  }
  return check(existsSync(CHROMIUM), 'chromium is installed');
}

function loadPlaywright() {
  const from = [join(SRC, 'tests', 'node', 'package.json'), join(SRC, 'tests', 'browser', 'package.json')];
  const attempt = () => {
    for (const f of from) {
      try {
        return createRequire(f)('playwright-core');
      } catch {
        // next
      }
    }
    return null;
  };
  let pw = attempt();
  if (!pw) {
    note('installing the npm packages of tests/node (playwright-core)');
    try {
      execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent'], { cwd: join(SRC, 'tests', 'node'), stdio: 'ignore', timeout: 600000 });
    } catch {
      // reported below
    }
    pw = attempt();
  }
  check(pw, 'playwright-core can be loaded (tests/node/package.json lists it)');
  return pw;
}

// ---- what every page must be -----------------------------------------------------------
const secrets = new Map(); // label -> value: must never be in a page or a log
const bodies = []; // { url, text } of every HTML document the browser received
const outside = []; // requests that tried to leave this machine
const problems = []; // console errors, page errors, dialogs
const layout = []; // horizontal overflow and the like (reported, not failed)
const cssStatus = []; // { page, ok, detail }
const cssTypes = new Set(); // "host/path status content-type" of every stylesheet answer
let shotNo = 0;

function wire(context, who) {
  context.on('page', (page) => watch(page, who));
  return context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) || !/^https?:$/.test(u.protocol)) {
      outside.push(`${who}: ${u.href}`);
      return route.abort();
    }
    return route.continue();
  });
}
function watch(page, who) {
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${who}: console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${who}: page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`${who}: a script opened a ${d.type()} dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('response', async (r) => {
    const ct = r.headers()['content-type'] || '';
    if (r.request().resourceType() === 'stylesheet') cssTypes.add(`${new URL(r.url()).host}${new URL(r.url()).pathname} ${r.status()} ${ct}`);
    if (r.request().resourceType() === 'document' && ct.startsWith('text/html')) {
      try {
        bodies.push({ url: r.url(), text: await r.text(), who });
      } catch {
        // redirects have no body
      }
    }
  });
}

// Checks the page now shown and takes its screenshot. want: expected status of the document.
async function visit(page, name, { resp = null, want = 200, mask = [], allow = [] } = {}) {
  const nameOf = `${name}`;
  const url = page.url();
  const file = join(ART, `${String(++shotNo).padStart(2, '0')}-${name}.png`);
  const before = problems.length;
  try {
    await page.waitForLoadState('load');
    const st = resp ? resp.status() : null;
    const h = resp ? await resp.allHeaders() : {};
    const hdrOk = !resp || (/default-src 'self'/.test(h['content-security-policy'] || '') && h['x-frame-options'] === 'DENY' &&
      h['x-content-type-options'] === 'nosniff' && h['referrer-policy'] === 'no-referrer' && /no-store/.test(h['cache-control'] || ''));
    const css = await page.evaluate(() => {
      const l = document.querySelector('link[rel="stylesheet"]');
      let rules = -1;
      try {
        rules = l && l.sheet ? l.sheet.cssRules.length : -1;
      } catch {
        rules = -2;
      }
      const top = document.querySelector('.topbar');
      return { href: l ? l.href : null, rules, topbarBg: top ? getComputedStyle(top).backgroundColor : null };
    });
    cssStatus.push({ page: name, ok: css.rules > 0, detail: `${css.href} rules=${css.rules}` });
    const over = await page.evaluate(() => {
      const doc = document.documentElement;
      const wide = [];
      for (const el of document.querySelectorAll('main *')) {
        const r = el.getBoundingClientRect();
        if (r.right > doc.clientWidth + 1 && !el.closest('.table-wrap')) wide.push(`${el.tagName.toLowerCase()}.${el.className || ''}`);
      }
      return { scroll: doc.scrollWidth, client: doc.clientWidth, wide: [...new Set(wide)].slice(0, 5) };
    });
    if (over.scroll > over.client + 1) layout.push(`${name}: the page scrolls sideways (${over.scroll}px > ${over.client}px): ${over.wide.join(', ')}`);
    const html = await page.content();
    const leaked = [...secrets.entries()].filter(([k, v]) => v && !allow.includes(v) && html.includes(v)).map(([k]) => k);
    await page.screenshot({ path: file, fullPage: true, mask, maskColor: '#888' });
    // the stylesheet has a check of its own; an error status the test expects is no problem
    const newProblems = problems.slice(before).filter((x) => !/Refused to apply style/.test(x) &&
      !(want >= 400 && new RegExp(`status of ${want}`).test(x)));
    check((st === null || st === want) && hdrOk && leaked.length === 0 && newProblems.length === 0,
      `${nameOf}: ${want} with the security headers, no secret in the HTML, no script error (${url.replace(HUB, '')})`,
      `status=${st} headers=${hdrOk ? 'ok' : JSON.stringify(h)} leaked=${leaked.join(',')} ${newProblems.join(' | ')}`);
  } catch (e) {
    check(false, `${nameOf}: the page can be checked and screenshotted`, e.message);
  }
}

// Navigates (goto) and visits.
async function open(page, path, name, opts = {}) {
  const url = /^https?:/.test(path) ? path : `${BASE}/${path}`;
  const resp = await page.goto(url);
  await visit(page, name, { resp, ...opts });
  return resp;
}

// Clicks something that submits or navigates; returns the final document response.
async function submit(page, locator) {
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
  return resp;
}

async function api(key, path = '/v1/models') {
  const r = await fetch(`${HUB}${path}`, { headers: { Authorization: `Bearer ${key}` } });
  let body = null;
  try {
    body = await r.json();
  } catch {
    // not JSON
  }
  return { status: r.status, body };
}

// Polls until the key is refused; returns the ms since t0, or -1.
async function refusedWithin(key, t0, limit) {
  while (Date.now() - t0 <= limit + 500) {
    const r = await api(key);
    if (r.status === 401) return Date.now() - t0;
    await sleep(50);
  }
  return -1;
}

const cookieOf = async (context, url = HUB) => (await context.cookies(url)).find((c) => c.name === 'hub_session');

// ---- the test IdP and the test web server ---------------------------------------------
async function startIdp() {
  if (process.env.HUB_OIDC_IDP) return { url: process.env.HUB_OIDC_IDP.replace(/\/$/, ''), stop: () => {} };
  const child = spawn(process.execPath, [join(SRC, 'tests', 'node', 'idp.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise((res) => {
    const t = setTimeout(() => res(null), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /idp listening port=\d+ issuer=(\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        res(m[1]);
      }
    });
    child.on('exit', () => res(null));
  });
  child.stderr.on('data', () => {});
  return { url, stop: () => child.kill('SIGTERM') };
}

function startWebserver() {
  const dir = join(HOME, 'webserver-auth');
  const pidfile = join(dir, 'run', 'httpd.pid');
  let started = false;
  const running = () => {
    try {
      process.kill(Number(readFileSync(pidfile, 'utf8')), 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!running()) {
    execFileSync('bash', [join(SRC, 'tests', 'webserver-auth', 'start.sh')], { env: process.env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 600000 });
    started = true;
  }
  return {
    port: Number(readFileSync(join(dir, 'port'), 'utf8')),
    users: JSON.parse(readFileSync(join(dir, 'users.json'), 'utf8')),
    stop: () => started && execFileSync('bash', [join(SRC, 'tests', 'webserver-auth', 'stop.sh')], { env: process.env, stdio: 'ignore' }),
  };
}

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

function scanLogs() {
  const dir = join(HOME, 'log');
  let text = '';
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.size < 64 * 1024 * 1024) text += readFileSync(p, 'latin1');
    }
  };
  try {
    walk(dir);
  } catch {
    // no logs
  }
  const leaked = [...secrets.entries()].filter(([, v]) => v && v.length >= 8 && text.includes(v)).map(([k]) => k);
  check(leaked.length === 0, 'no secret of this test (keys, passwords, provider and client secrets, session ids) is in any log under $HUB_HOME/log', leaked.join(', '));
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
    ['analytics', () => analyticsPages({ browser, wire, open, visit, submit, check, note, sql, esc, sleep, BASE, HUB, HOME, CONF, tag,
      names, memberPw, secrets, adminPage: state.adminPage, mockModel: names.model })],
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
  // the page-wide checks
  const bad = cssStatus.filter((c) => !c.ok);
  check(cssStatus.length > 0 && bad.length === 0, `the stylesheet applies on every page (${cssStatus.length - bad.length}/${cssStatus.length})`,
    `${bad.slice(0, 3).map((c) => `${c.page}: ${c.detail}`).join('; ')}; served: ${[...cssTypes].join(', ')}; ${problems.find((p) => /Refused to apply style/.test(p)) || ''}`);
  check(outside.length === 0, 'no page loads anything from outside this machine', outside.slice(0, 3).join(' '));
  const leakedBodies = [];
  for (const b of bodies) {
    for (const [k, v] of secrets.entries()) {
      if (v && b.text.includes(v) && !shownOnceOk(b, v)) leakedBodies.push(`${k} in ${b.url.replace(HUB, '')}`);
    }
  }
  check(leakedBodies.length === 0, `no secret or session id in any of the ${bodies.length} HTML answers (except the one page that shows a new key)`, leakedBodies.slice(0, 4).join('; '));
  for (const l of layout) note(`layout: ${l}`);
  scanLogs();
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

// A new key may be in exactly the answer to the POST that created it.
function shownOnceOk(b, v) {
  return (v === secrets.get('API key') || v === secrets.get('member token')) && /\/(keys|tokens)\.cgi$/.test(b.url) && b.text.includes('name="new_key"');
}
process.exit(failed ? 1 : 0);
