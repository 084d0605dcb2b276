// Walks the resident's progress page (/t/{token}) through a ticket's life
// in Debian's chromium at 390×844, as a phone would show it: waiting, near
// (快到您了, one vibration however often the page is reloaded), called,
// no-show, transferred; an accompanied resident pressing 请协办员过来 and
// the helper's page showing the call until the helper answers; the page
// without JavaScript; an unknown token. Started by tests/progress_page.rs,
// which owns the daemon: this script asks it for a ticket's token (as the
// QR code has it) by printing `@@ {json}` and reading one JSON line back.
// Exit 0 only when every step passed; the last line is then
// `progress: all steps passed`. Screenshots: GW_SHOTS/progress-*.png.
//
// Environment: GW_BASE, GW_WINDOW1, GW_MANAGER, GW_HELPER (tokens),
// GW_SHOTS, GW_CHROMIUM (default /usr/bin/chromium).

import { api, ask, base, check, env, launch, shots, step, text as txt, waitText } from './harness.mjs';

const man = env('GW_MANAGER');
const w1 = env('GW_WINDOW1');

async function visible(page, sel) {
  return page.locator(sel).first().isVisible();
}

// Every element with text on the page lies within the phone's width (no
// sideways scrolling) and no visible text is smaller than `min` px.
async function readable(page, min, what) {
  const r = await page.evaluate((min) => {
    const out = { wide: [], small: [] };
    const width = document.documentElement.clientWidth;
    for (const e of document.querySelectorAll('main *')) {
      const box = e.getBoundingClientRect();
      if (!box.width || getComputedStyle(e).display === 'none') continue;
      if (box.right > width + 1) out.wide.push(e.id || e.className || e.tagName);
      const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (own && parseFloat(getComputedStyle(e).fontSize) < min) out.small.push(`${e.id || e.className}: ${e.textContent.trim()}`);
    }
    out.scroll = document.documentElement.scrollWidth > width;
    return out;
  }, min);
  check(!r.scroll && r.wide.length === 0, `${what}: wider than the phone: ${r.wide.join(', ')}`);
  check(r.small.length === 0, `${what}: text under ${min} px: ${r.small.join(' | ')}`);
}

async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${shots}/progress-${name}.png` });
}

const browser = await launch();
let failed = false;
try {
  const phone = {
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
  };
  const ctx = await browser.newContext(phone);
  ctx.setDefaultTimeout(15000);
  // The phone's vibrations, by pattern, counted here.
  const vibrations = [];
  await ctx.exposeFunction('gwVibrated', (p) => vibrations.push(p));
  await ctx.addInitScript(() => {
    navigator.vibrate = (p) => {
      window.gwVibrated(JSON.stringify(p));
      return true;
    };
  });
  const nearBuzz = () => vibrations.filter((p) => p === '[400,200,400]').length;
  const pageErrors = [];
  const watch = (p, name) => {
    p.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(`${name} console: ${m.text()}`);
    });
  };

  // ----- waiting --------------------------------------------------------------
  step('waiting: number, time of issue, people ahead, the windows to watch');
  for (let i = 0; i < 5; i++) await api('POST', '/api/tickets', man, { service: 'civil' });
  const { token } = await ask({ op: 'token', number: 'A005' });
  const prog = await ctx.newPage();
  watch(prog, 'progress');
  await prog.goto(`${base}/t/${token}`);
  await waitText(prog, '#number', 'A005');
  // The resident touches the page (a phone vibrates only for a page that
  // was touched).
  await prog.tap('#number');
  await waitText(prog, '#message', '前面还有 4 人');
  await waitText(prog, '#guide', '请留意 1、2 号窗口叫号');
  await waitText(prog, '#advice', '请不要走远');
  check(/^\d\d:\d\d 取号$/.test(await txt(prog, '#issued')), 'the time of issue, HH:MM');
  check(!(await visible(prog, '#near')), 'not near with 4 ahead');
  check(!(await visible(prog, '#lane')), 'no lane badge on a normal ticket');
  check(!(await visible(prog, '#helper')), 'no helper on a normal ticket');
  check(!(await visible(prog, '#rate')), 'the rating place is empty and hidden');
  check(!/身份证|姓名/.test(await prog.locator('body').innerText()), 'no personal data');
  await readable(prog, 18, 'waiting');
  await shot(prog, 'waiting');

  // ----- near -----------------------------------------------------------------
  step('near: three ahead says 快到您了 and vibrates once');
  await api('POST', '/api/windows/1/call', w1, {});
  await waitText(prog, '#message', '前面还有 3 人', { timeout: 20000 });
  await prog.locator('#near').waitFor();
  await waitText(prog, '#near', '快到您了');
  await waitText(prog, '#advice', '请到窗口附近等候');
  check(nearBuzz() === 1, `one vibration when near, got ${nearBuzz()}`);
  await prog.reload();
  await prog.locator('#near').waitFor();
  await prog.tap('#number');
  // The next update after the touch is when it would vibrate again.
  await waitText(prog, '#updated', '更新于', { timeout: 20000 });
  check(nearBuzz() === 1, `no second vibration after a reload, got ${nearBuzz()}`);
  await readable(prog, 18, 'near');
  await shot(prog, 'near');

  // ----- called ---------------------------------------------------------------
  step('called: 请到 1 号窗口');
  await api('POST', '/api/windows/1/finish', w1, {});
  await api('POST', '/api/windows/1/call', w1, { number: 'A005' });
  await waitText(prog, '#message', '请到 1 号窗口', { timeout: 20000 });
  check((await prog.locator('body').getAttribute('data-status')) === 'called', 'the page shows it is called');
  check(!(await visible(prog, '#near')), 'no 快到您了 once called');
  check(!(await visible(prog, '#guide')) && !(await visible(prog, '#advice')), 'no waiting advice once called');
  await readable(prog, 18, 'called');
  await shot(prog, 'called');

  // ----- no-show --------------------------------------------------------------
  step('no-show: until when to come back');
  await api('POST', '/api/windows/1/no-show', w1, {});
  await waitText(prog, '#message', '您已过号', { timeout: 20000 });
  await waitText(prog, '#guide', '号窗口重新排队');
  check(/^请在 \d\d:\d\d 前到 1 号窗口重新排队$/.test(await txt(prog, '#guide')), 'the rejoin time');
  await readable(prog, 18, 'no-show');
  await shot(prog, 'noshow');

  // ----- transferred --------------------------------------------------------
  step('transferred: the new service and window');
  await api('POST', '/api/windows/2/call', man, { number: 'A002' });
  await api('POST', '/api/windows/2/transfer', man, { service: 'medical', window: 3 });
  const moved = (await ask({ op: 'token', number: 'A002' })).token;
  const tp = await ctx.newPage();
  watch(tp, 'transferred');
  await tp.goto(`${base}/t/${moved}`);
  await waitText(tp, '#guide', '已转到 医保业务，请留意 3 号窗口叫号');
  await waitText(tp, '#service', '医保业务');
  await readable(tp, 18, 'transferred');
  await shot(tp, 'transferred');
  await tp.close();

  // ----- an accompanied resident calls their helper -------------------------
  step('helper: on duty; a priority ticket gets a case');
  await api('POST', '/api/helpers/me/duty', env('GW_HELPER'), { on: true });
  await api('POST', '/api/tickets', man, { service: 'civil', lane: 'priority', reason: '测试：陪同办理' });
  const assigned = async () => {
    const r = await fetch(`${base}/api/cases/GA001`, { headers: { Authorization: `Bearer ${man}` } });
    return r.ok && !!(await r.json()).case.helper;
  };
  const until = Date.now() + 20000;
  while (!(await assigned())) {
    check(Date.now() < until, 'the case of GA001 was never assigned');
    await new Promise((r) => setTimeout(r, 100));
  }
  const ga = (await ask({ op: 'token', number: 'GA001' })).token;

  step('resident: 请协办员过来');
  const res = await ctx.newPage();
  watch(res, 'accompanied');
  await res.goto(`${base}/t/${ga}`);
  await waitText(res, '#lane', '绿波通道');
  check(await visible(res, '#lane'), 'the green-wave badge');
  await waitText(res, '#helper-text', '您的协办员：王协办');
  check(await visible(res, '#helper-call'), 'the call button');
  await readable(res, 18, 'helper');
  await shot(res, 'helper');
  await res.click('#helper-call');
  await waitText(res, '#helper-text', '已通知协办员 王协办');
  await res.locator('#helper-call').waitFor({ state: 'hidden' });
  await readable(res, 18, 'helper called');
  await shot(res, 'helper-called');

  step("helper's page: 居民请您过去 · GA001, then answered");
  const hp = await ctx.newPage();
  watch(hp, 'helper');
  await hp.goto(base + '/helper');
  await hp.locator('#login-token').waitFor();
  await hp.fill('#login-token', env('GW_HELPER'));
  await hp.press('#login-token', 'Enter');
  await hp.locator('#calls').waitFor();
  await waitText(hp, '#calls', '居民请您过去 · GA001');
  check(await visible(hp, '#mine .case-item.calling'), 'the case is marked on the list');
  await hp.screenshot({ path: `${shots}/progress-helper-page.png` });
  await hp.click('#calls button');
  await hp.locator('#calls').waitFor({ state: 'hidden' });
  await waitText(hp, '#msg', '已回应 GA001');
  await res.locator('#helper-call').waitFor({ timeout: 20000 });
  await waitText(res, '#helper-text', '您的协办员：王协办');

  // ----- without JavaScript ---------------------------------------------------
  step('without JavaScript: the first paint and the call button work');
  const nojs = await browser.newContext({ ...phone, javaScriptEnabled: false });
  const plain = await nojs.newPage();
  await plain.goto(`${base}/t/${ga}`);
  check((await plain.locator('#number').textContent()).trim() === 'GA001', 'the number without JavaScript');
  check(await visible(plain, '#lane'), 'the badge without JavaScript');
  // The form posts, the daemon answers 303, the page loads again.
  const back = plain.waitForEvent('framenavigated');
  await plain.click('#helper-call');
  await back;
  await plain.waitForLoadState();
  check((await plain.locator('#helper-text').textContent()).includes('已通知协办员 王协办'), 'the call without JavaScript');
  check(!(await visible(plain, '#helper-call')), 'no button once called');
  const first = await (await nojs.newPage()).goto(`${base}/t/${token}`);
  check((await first.text()).includes('您已过号'), 'the no-show page without JavaScript');
  await nojs.close();

  // ----- unknown token --------------------------------------------------------
  step('unknown token: not found, and no promise of a refresh');
  const lost = await ctx.newPage();
  const resp = await lost.goto(`${base}/t/nosuchtokenatallxxxxxxxxxxxxx`);
  check(resp.status() === 404, `404, got ${resp.status()}`);
  await waitText(lost, '#number', '没有找到这张票');
  const lostText = await lost.locator('body').innerText();
  check(!lostText.includes('刷新'), `says nothing of refreshing: ${lostText}`);
  check((await lost.locator('meta[http-equiv="refresh"]').count()) === 0, 'does not refresh');
  await readable(lost, 18, 'missing');
  await shot(lost, 'missing');

  check(pageErrors.length === 0, `no script errors: ${pageErrors.join(' | ')}`);
  console.log('progress: all steps passed');
} catch (e) {
  failed = true;
  console.log(`progress: FAILED: ${e.stack || e}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
