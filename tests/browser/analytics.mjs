// tests/browser/analytics.mjs — the analytics pages (analytics.cgi) in the browser, a scenario of
// pages.test.mjs (which signs in, checks and screenshots every page it visits: see there).
//
// Makes its own traffic first: a team, a second user and one key each (hubctl), then chat
// calls through the gateway — 3 by the member of pages.test.mjs, 2 by the other user — and
// waits until the ledger drain has rolled them up. Then, as the admin: the overview for
// several periods and time zones (totals cards, three inline-SVG charts with axes and a
// legend naming the team), every breakdown (a Total row equal to the sum of its column; the
// team's row shows its 5 calls), sorting by a column, the drill-down team → its users → one
// user's calls, the call log with a filter, the chargeback, the CSV export (equal to the
// page); then as the member: only their own 3 calls, no trace of the other user on any view,
// another user's id refused. Every page is screenshotted by visit() (lib.mjs).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { BASE, CONF, HOME, HUB, check, esc, note, open, secrets, sleep, sql, submit, tag, visit, wire } from './lib.mjs';

// h: what pages.test.mjs's earlier scenarios made: { browser, names, memberPw, adminPage, mockModel }
export async function analyticsPages(h) {
  const page = h.adminPage;
  const hubctl = (...args) =>
    execFileSync(join(HOME, 'bin', 'hubctl'), ['--config', CONF, ...args], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();
  const team = `br-team-${tag}`;
  const other = `br-noah-${tag}`;
  const app = `br-analytics-${tag}`;
  hubctl('team', 'add', team);
  hubctl('user', 'add', other, '--team', team);
  const memberKey = hubctl('key', 'create', '--name', `br-ak-mia-${tag}`, '--user', h.names.member, '--team', team,
    '--app', app, '--models', h.mockModel);
  const otherKey = hubctl('key', 'create', '--name', `br-ak-noah-${tag}`, '--user', other, '--team', team,
    '--app', `${app}-noah`, '--models', h.mockModel);
  secrets.set('analytics member key', memberKey);
  secrets.set('analytics other key', otherKey);
  // a price for the route's upstream model, so the calls have a cost (the gateway reads prices
  // with its routing snapshot, at most catalog_refresh_ms = 1 s old)
  hubctl('price', 'set', `${h.names.provider}/gpt-4o-mini`, '--input', '2.50', '--output', '10.00');
  await sleep(1500);

  // traffic: 3 calls by the member, 2 by the other user
  let okCalls = 0;
  for (const [key, n] of [[memberKey, 3], [otherKey, 2]]) {
    for (let i = 0; i < n; i++) {
      const r = await fetch(`${HUB}/v1/chat/completions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: h.mockModel, messages: [{ role: 'user', content: `analytics call ${i}` }], max_tokens: 16 }),
      });
      await r.text();
      if (r.status === 200) okCalls++;
    }
  }
  check(okCalls === 5, 'analytics: 5 chat calls through the gateway answer 200', `${okCalls}/5`);
  const ids = {
    team: sql(`SELECT id FROM teams WHERE name = '${esc(team)}'`),
    member: sql(`SELECT id FROM users WHERE name = '${esc(h.names.member)}'`),
    other: sql(`SELECT id FROM users WHERE name = '${esc(other)}'`),
  };
  const t0 = Date.now();
  let rolled = '0';
  while (Date.now() - t0 < 20000) {
    rolled = sql(`SELECT COUNT(*) FROM usage_log WHERE team_id = ${Number(ids.team)} AND rolled = 1`);
    if (rolled === '5') break;
    await sleep(200);
  }
  check(rolled === '5', 'analytics: the 5 calls are in the ledger and rolled up within 20 s', `${rolled} rolled after ${Date.now() - t0} ms`);
  note(`analytics: calls rolled up ${Date.now() - t0} ms after the last answer`);

  // ---- the admin ------------------------------------------------------------------------
  await open(page, 'analytics.cgi?period=today', 'analytics-overview-today');
  const cards = await page.locator('section.cards .card').count();
  check(cards >= 10, 'analytics overview: the totals cards (requests, tokens, images, cost, errors, p50/p95 latency and TTFB)', `${cards} cards`);
  const cardText = await page.locator('section.cards').innerText();
  check(/previous/.test(cardText) && /p95/.test(cardText) && /first byte/.test(cardText), 'analytics overview: each total is compared with the previous period', cardText.slice(0, 200));
  await chartsOk(page, 'overview today', team);
  for (const [q, name] of [['period=7d', '7d'], ['period=30d&stack=model', '30d-by-model'], ['period=month&tz=America/New_York', 'month-new-york'],
    [`period=custom&from=${day(-2)}&to=${day(0)}&tz=Asia/Tokyo`, 'custom-tokyo'], ['', 'default']]) {
    const resp = await open(page, `analytics.cgi?${q}`, `analytics-overview-${name}`);
    check(resp && resp.status() === 200 && await page.locator('figure.chart svg').count() >= 3, `analytics overview ${name}: answers with its charts`);
  }
  // the period form works in the browser (no JavaScript needed)
  await open(page, 'analytics.cgi', 'analytics-overview-form');
  await page.selectOption('select[name="period"]', '7d');
  let resp = await submit(page, page.locator('form.filters button[type="submit"]').first());
  check(/period=7d/.test(page.url()) && resp.status() === 200, 'analytics: the period form switches to the last 7 days', page.url());

  // every breakdown: a Total row equal to its column's sum; our rows present
  const want = { team: [team], user: [h.names.member, other], app: [app, `${app}-noah`], key: [`br-ak-mia-${tag}`, `br-ak-noah-${tag}`],
    model: [], provider: [], day: [] };
  for (const by of Object.keys(want)) {
    resp = await open(page, `analytics.cgi?view=breakdown&by=${by}&period=today`, `analytics-by-${by}`);
    const t = await table(page);
    const reqCol = t.head.indexOf('Requests');
    const sum = t.rows.reduce((s, r) => s + num(r[reqCol]), 0);
    check(resp.status() === 200 && reqCol > 0 && t.rows.length > 0 && t.total && num(t.total[reqCol]) === sum,
      `analytics by ${by}: the Total row's requests equal the sum of the rows`, `${t.total && t.total[reqCol]} vs ${sum} (${t.rows.length} rows)`);
    for (const w of want[by]) check(t.rows.some((r) => r[0] === w), `analytics by ${by}: ${w} has a row`, t.rows.map((r) => r[0]).join(',').slice(0, 300));
    if (by === 'team') {
      const row = t.rows.find((r) => r[0] === team);
      check(row && num(row[reqCol]) === 5, 'analytics by team: the new team shows its 5 calls', row && row.join('|'));
    }
  }
  // sortable: the Requests header sorts by requests, largest first
  await open(page, 'analytics.cgi?view=breakdown&by=user&period=today', 'analytics-by-user-again');
  resp = await submit(page, page.locator('thead th a', { hasText: /^Requests$/ }));
  let t = await table(page);
  const rc = t.head.indexOf('Requests');
  const seq = t.rows.map((r) => num(r[rc]));
  check(/sort=requests/.test(page.url()) && seq.every((v, i) => i === 0 || seq[i - 1] >= v), 'analytics: clicking "Requests" sorts the users by requests, largest first', seq.join(','));
  await visit(page, 'analytics-by-user-sorted', { resp });
  // drill-down: the team → its users → one user's calls
  await open(page, 'analytics.cgi?view=breakdown&by=team&period=today', 'analytics-by-team-again');
  resp = await submit(page, page.locator('tbody tr td a', { hasText: team }));
  t = await table(page);
  check(/by=user/.test(page.url()) && new RegExp(`team=${ids.team}`).test(page.url()) &&
    t.rows.map((r) => r[0]).sort().join(',') === [h.names.member, other].sort().join(','),
  'analytics drill-down: the team link lists exactly its two users', `${page.url()} ${t.rows.map((r) => r[0]).join(',')}`);
  await visit(page, 'analytics-team-users', { resp });
  resp = await submit(page, page.locator('tbody tr td a', { hasText: h.names.member }));
  t = await table(page);
  check(/view=calls/.test(page.url()) && t.rows.length === 3 && t.rows.every((r) => r[t.head.indexOf('User')] === h.names.member),
    'analytics drill-down: the user link lists that user\'s 3 calls', `${page.url()} ${t.rows.length} rows`);
  check(!(await page.content()).includes('analytics call'), 'analytics call log: no prompt text on the page');
  await visit(page, 'analytics-user-calls', { resp });
  // the call log, filtered
  await open(page, 'analytics.cgi?view=calls&period=today', 'analytics-calls');
  const filter = page.locator('form.filters', { has: page.locator('select[name="outcome"]') });
  await filter.locator('select[name="outcome"]').selectOption('ok');
  resp = await submit(page, filter.locator('button[type="submit"]'));
  t = await table(page);
  const oc = t.head.indexOf('Outcome');
  check(/outcome=ok/.test(page.url()) && t.rows.length > 0 && t.rows.every((r) => r[oc] === 'ok'), 'analytics call log: the outcome filter shows only ok calls', `${t.rows.length} rows`);
  await visit(page, 'analytics-calls-ok', { resp });
  // the chargeback of this month, and the CSV export equal to the page
  const month = day(0).slice(0, 7);
  await open(page, `analytics.cgi?view=chargeback&month=${month}`, 'analytics-chargeback');
  t = await table(page);
  const cb = t.rows.find((r) => r[0] === team);
  check(cb && num(cb[t.head.findIndex((x) => /^Cost/.test(x))]) > 0, 'analytics chargeback: this month charges the new team its cost',
    t.rows.map((r) => r.slice(0, 8).join('|')).join(' / '));
  await open(page, `analytics.cgi?view=chargeback&month=${month}&detail=1`, 'analytics-chargeback-detail');
  await open(page, 'analytics.cgi?view=breakdown&by=team&period=today', 'analytics-by-team-export');
  t = await table(page);
  const href = await page.locator('a.btn', { hasText: /^CSV$/ }).getAttribute('href');
  const csv = await page.request.get(new URL(href, BASE).href);
  const lines = (await csv.text()).trim().split(/\r?\n/);
  const head = lines[0].split(',');
  const csvRow = lines.slice(1).map((l) => l.split(',')).find((c) => c[0] === team || c[0] === `"${team}"`);
  const pageRow = t.rows.find((r) => r[0] === team);
  const ci = head.findIndex((x) => /^"?requests"?$/.test(x));
  check(csv.status() === 200 && /text\/csv/.test(csv.headers()['content-type'] || '') && lines.length - 1 === t.rows.length &&
    csvRow && pageRow && num(csvRow[ci]) === num(pageRow[t.head.indexOf('Requests')]),
  'analytics: the CSV download has the page\'s rows and numbers', `${csv.status()} ${csv.headers()['content-type']} ${lines.length - 1} vs ${t.rows.length}: ${csvRow}`);

  // ---- the member: only their own usage ----------------------------------------------------
  const ctx = await h.browser.newContext({ viewport: { width: 1280, height: 800 } });
  await wire(ctx, 'member-analytics');
  const mp = await ctx.newPage();
  await mp.goto(`${BASE}/login.cgi`);
  await mp.fill('input[name="user"]', h.names.member);
  await mp.fill('input[name="password"]', h.memberPw);
  await submit(mp, mp.locator('button[value="login"]'));
  const views = [['analytics.cgi', 'member-analytics-overview'], ['analytics.cgi?view=breakdown&by=model&period=today', 'member-analytics-by-model'],
    ['analytics.cgi?view=breakdown&by=key&period=today', 'member-analytics-by-key'], ['analytics.cgi?view=calls&period=today', 'member-analytics-calls']];
  for (const [path, name] of views) {
    await open(mp, path, name);
    const html = await mp.content();
    check(!html.includes(other) && !html.includes(`br-ak-noah-${tag}`) && !html.includes(`${app}-noah`),
      `analytics as the member (${name}): nothing of the other user`);
  }
  t = await table(mp);
  check(t.rows.length === 3, 'analytics as the member: the call log shows exactly their own 3 calls', `${t.rows.length} rows`);
  await open(mp, 'analytics.cgi?view=breakdown&by=key&period=today', 'member-analytics-by-key-again');
  t = await table(mp);
  check(t.rows.length === 1 && t.rows[0][0] === `br-ak-mia-${tag}` && num(t.total[t.head.indexOf('Requests')]) === 3,
    'analytics as the member: by key shows their one key with 3 requests', t.rows.map((r) => r.join('|')).join(' / '));
  resp = await open(mp, `analytics.cgi?view=calls&user=${ids.other}`, 'member-analytics-other-user-403', { want: 403 });
  check(resp.status() === 403 && !(await mp.content()).includes(other), 'analytics as the member: another user\'s id is refused (403)');
  await ctx.close();
}

// The overview's charts: three SVG figures drawn at a readable size, each with a title, axis
// labels and (the stacked ones) a legend; the legend of the by-team chart names the team.
async function chartsOk(page, what, team) {
  const charts = await page.locator('figure.chart svg').evaluateAll((svgs) => svgs.map((s) => {
    const r = s.getBoundingClientRect();
    return {
      w: r.width,
      h: r.height,
      title: s.querySelector('title') ? s.querySelector('title').textContent : '',
      texts: [...s.querySelectorAll('text')].map((t) => t.textContent),
      bars: s.querySelectorAll('rect').length,
    };
  }));
  check(charts.length >= 3, `analytics ${what}: three inline-SVG charts (cost, tokens, top spenders)`, `${charts.length}`);
  check(charts.every((c) => c.w >= 300 && c.h >= 100 && c.title && c.texts.length >= 4 && c.bars > 0),
    `analytics ${what}: every chart is drawn, titled, with labels`, JSON.stringify(charts.map((c) => [c.title, Math.round(c.w), Math.round(c.h), c.texts.length, c.bars])));
  const cost = charts.find((c) => /cost/i.test(c.title) && /team/i.test(c.title));
  check(cost && cost.texts.includes(team) && cost.texts.some((x) => /^\$?[0-9.,]+/.test(x)),
    `analytics ${what}: the cost chart has a value axis and a legend naming the new team`, cost && cost.texts.slice(0, 30).join('|'));
  check(await page.locator('script').count() === 0, `analytics ${what}: no script on the page (readable without JavaScript)`);
}

// The page's table.list as text cells: head (column names), rows, total (tfoot) or null.
async function table(page) {
  return page.locator('table.list').first().evaluate((tb) => ({
    head: [...tb.querySelectorAll('thead th')].map((c) => c.textContent.trim()),
    rows: [...tb.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent.trim())),
    total: tb.querySelector('tfoot tr') ? [...tb.querySelector('tfoot tr').children].map((c) => c.textContent.trim()) : null,
  })).catch(() => ({ head: [], rows: [], total: null }));
}

const num = (s) => Number(String(s ?? '').replace(/[",$\s]/g, ''));
const day = (d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10);
