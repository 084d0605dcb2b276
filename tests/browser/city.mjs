// The bureau's page (`greenwave city serve`) in Debian's chromium at an
// office screen's size (1280×900): the period's figures across halls, the
// three charts drawn by the server, and the halls whose roster is behind.
// Started by tests/city_page.rs, which seeded four halls' fortnight (one
// hall with roster version 6 while the others have 7, one with 60 %
// satisfied residents). Exit 0 only when every step passed; the last line
// is then `city: all steps passed`. Screenshots: GW_SHOTS/city-*.png.
//
// Environment: GW_BASE, GW_SHOTS, GW_FROM, GW_TO, GW_CHROMIUM.

import { base, check, env, launch, shots, step, text } from './harness.mjs';

const from = env('GW_FROM');
const to = env('GW_TO');

const browser = await launch();
let failed = false;
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  ctx.setDefaultTimeout(15000);
  const page = await ctx.newPage();
  const foreign = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(base)) foreign.push(r.url());
  });

  step('the period chosen in the form');
  await page.goto(`${base}/`);
  await page.fill('input[name=from]', from);
  await page.fill('input[name=to]', to);
  await Promise.all([page.waitForNavigation(), page.click('button')]);
  check(page.url().includes(`from=${from}`) && page.url().includes(`to=${to}`), `the form asks for the period: ${page.url()}`);

  step('the figures across halls');
  check((await text(page, '#halls')) === '4', `four halls: ${await text(page, '#halls')}`);
  const rows = await page.locator('#halls-table tbody tr').allTextContents();
  check(rows.length === 5, `four halls and the total: ${rows.length}`);
  check(rows[4].startsWith('合计'), `the total last: ${rows[4]}`);
  for (const name of ['东城区政务服务大厅', '西城区政务服务大厅', '朝阳区政务服务大厅', '海淀区政务服务大厅']) {
    check(rows.some((r) => r.startsWith(name)), `${name} in the table`);
  }
  const served = Number(await text(page, '#priority-served'));
  check(served > 500, `priority services over the fortnight: ${served}`);

  step('the charts: drawn by the server, one line per hall, worst satisfaction first in red');
  const svgs = await page.locator('svg').count();
  check(svgs === 4, `four charts: ${svgs}`);
  const lines = await page.locator('section:has(h2:text("每日绿波办结")) polyline').count();
  check(lines === 4, `one line per hall: ${lines}`);
  const firstBar = await page.locator('section:has(h2:text("群众满意率")) svg text').first().textContent();
  check(firstBar === '朝阳区政务服务大厅', `the least satisfied hall first: ${firstBar}`);
  const red = await page.locator('section:has(h2:text("群众满意率")) rect[fill="#c0392b"]').count();
  check(red === 1, `one hall under 80 % in red: ${red}`);

  step('the hours of the day across the city: issued and served per lane, adding up to the halls');
  const hours = page.locator('#hours');
  const heads = await hours.locator('th').allTextContents();
  check(heads[0] === '时段' && heads.includes('取号 · 绿波通道') && heads.includes('办结 · 普通'), `the hours' columns: ${heads}`);
  const hourLines = await hours.locator('polyline').count();
  check(hourLines === heads.length - 1, `one line per column: ${hourLines}`);
  const hourRows = await hours.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  check(hourRows.length >= 7 && hourRows[0][0].endsWith(':00'), `a working day's hours: ${hourRows.map((r) => r[0])}`);
  const issuedCols = heads.map((h, i) => (h.startsWith('取号') ? i : -1)).filter((i) => i > 0);
  const issuedByHour = hourRows.reduce((a, r) => a + issuedCols.reduce((b, i) => b + Number(r[i]), 0), 0);
  const totalIssued = Number((await page.locator('#halls-table tr.total td').nth(1).textContent()));
  check(issuedByHour === totalIssued, `the hours add up to the city's tickets: ${issuedByHour} vs ${totalIssued}`);
  await hours.screenshot({ path: `${shots}/city-hours.png` });

  step('the halls whose roster is behind');
  const roster = await text(page, '#roster');
  check(roster.includes('1 个大厅的名单落后于最新的第 7 版'), `the roster line: ${roster}`);
  check(roster.includes('朝阳区政务服务大厅') && roster.includes('第 6 版，落后 1 版'), `the hall behind: ${roster}`);

  step('one office screen wide, nothing from outside');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
  check(!wide, 'no sideways scrolling at 1280 px');
  check(foreign.length === 0, `no external request: ${foreign.join(', ')}`);
  await page.screenshot({ path: `${shots}/city-page.png`, fullPage: true });
  await page.screenshot({ path: `${shots}/city-page-top.png` });

  step('an empty period says so');
  await page.goto(`${base}/?from=2001-01-01&to=2001-01-31`);
  const empty = await page.locator('section:has(h2:text("每日绿波办结"))').textContent();
  check(empty.includes('这段时间没有数据'), `the empty chart: ${empty}`);
} catch (e) {
  failed = true;
  console.log(`FAILED: ${e.message}`);
} finally {
  await browser.close();
}
if (!failed) console.log('city: all steps passed');
process.exit(failed ? 1 : 0);
