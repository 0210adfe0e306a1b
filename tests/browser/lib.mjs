// tests/browser/lib.mjs — what the browser tests share (pages.test.mjs and analytics.mjs): TAP
// output, hub.conf, fixtures and SQL, Chromium and playwright-core, and what every page must be:
// wire() watches a browser context (no request leaves this machine; console errors, script
// dialogs and every HTML answer are kept), visit() checks the page shown (status, security
// headers, stylesheet, no secret in the HTML, no script error) and screenshots it into
// $HUB_ARTIFACTS, open() and submit() navigate and visit; the test IdP and web server; the
// page-wide checks at the end (every answer and log scanned for the secrets noted in `secrets`).
// Importing it ends the process when HUB_HOME or HUB_PORT is not set.
import { createRequire } from 'node:module';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HOME = process.env.HUB_HOME;
const PORT = process.env.HUB_PORT;
export const CONF = process.env.HUB_CONF || (HOME ? join(HOME, 'etc', 'hub.conf') : '');
export const ART = process.env.HUB_ARTIFACTS || join(SRC, 'test-artifacts', 'screenshots');
export const CHROMIUM = '/usr/bin/chromium';
export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let failed = 0;
export function check(cond, name, detail = '') {
  if (cond) console.log(`ok - ${name}`);
  else {
    failed++;
    const d = detail ? ` # ${String(detail).replace(/\s+/g, ' ').slice(0, 400)}` : '';
    console.log(`not ok - ${name}${d}`);
  }
  return !!cond;
}
export const note = (s) => console.log(`# ${s}`);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const tag = randomBytes(3).toString('hex');
export const rnd = (n = 18) => randomBytes(n).toString('base64url');

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
export const cfg = readConf(CONF);
export const modes = (cfg.admin_auth || 'local').split(',').map((s) => s.trim());
export const HUB = `http://127.0.0.1:${PORT}`;
export const ADMIN_BASE = cfg.admin_base || '/admin';
export const BASE = `${HUB}${ADMIN_BASE}`;
export const fixtures = (() => {
  try {
    return JSON.parse(readFileSync(join(HOME, 'fixtures.json'), 'utf8'));
  } catch {
    return {};
  }
})();
export const sql = (q) =>
  execFileSync('mariadb', ['--no-defaults', '-S', join(HOME, 'run', 'mysqld.sock'), '-u', 'root', '-N', '-B', 'hub', '-e', q],
    { encoding: 'utf8' }).trim();
export const esc = (s) => String(s).replace(/\\/g, '\\\\').replace(/'/g, "''");

// ---- the browser and the driver --------------------------------------------------------
export function ensureChromium() {
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

export function loadPlaywright() {
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
export const secrets = new Map(); // label -> value: must never be in a page or a log
const bodies = []; // { url, text } of every HTML document the browser received
const outside = []; // requests that tried to leave this machine
const problems = []; // console errors, page errors, dialogs
const layout = []; // horizontal overflow and the like (reported, not failed)
const cssStatus = []; // { page, ok, detail }
const cssTypes = new Set(); // "host/path status content-type" of every stylesheet answer
let shotNo = 0;

export function wire(context, who) {
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
export async function visit(page, name, { resp = null, want = 200, mask = [], allow = [] } = {}) {
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
export async function open(page, path, name, opts = {}) {
  const url = /^https?:/.test(path) ? path : `${BASE}/${path}`;
  const resp = await page.goto(url);
  await visit(page, name, { resp, ...opts });
  return resp;
}

// Clicks something that submits or navigates; returns the final document response.
export async function submit(page, locator) {
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
  return resp;
}

export async function api(key, path = '/v1/models') {
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
export async function refusedWithin(key, t0, limit) {
  while (Date.now() - t0 <= limit + 500) {
    const r = await api(key);
    if (r.status === 401) return Date.now() - t0;
    await sleep(50);
  }
  return -1;
}

export const cookieOf = async (context, url = HUB) => (await context.cookies(url)).find((c) => c.name === 'hub_session');

// ---- the test IdP and the test web server ---------------------------------------------
export async function startIdp() {
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

export function startWebserver() {
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

// The checks over every page visited, after the scenarios.
export function pageWideChecks() {
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
}

// A new key may be in exactly the answer to the POST that created it.
function shownOnceOk(b, v) {
  return (v === secrets.get('API key') || v === secrets.get('member token')) && /\/(keys|tokens)\.cgi$/.test(b.url) && b.text.includes('name="new_key"');
}

export const failures = () => failed;
