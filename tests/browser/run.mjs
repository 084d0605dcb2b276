// Drives greenwave's pages in Debian's chromium against a live daemon.
// Started by tests/browser.rs, which owns the daemon: this script asks it
// for what only it can do (a key on the kiosk's keypad, stopping and
// starting the daemon) by printing `@@ {json}` and reading one JSON line
// back on stdin. Every other line is a log. Exit 0 only when every step
// passed; the last line is then `browser: all steps passed`.
//
// Environment: GW_BASE (http://127.0.0.1:PORT), GW_WINDOW1, GW_MANAGER,
// GW_HELPER (tokens), GW_LISTED (an ID number on the roster), GW_STRANGER
// (a valid ID number not on it), GW_SHOTS (screenshot directory),
// GW_CHROMIUM (default /usr/bin/chromium).

import { readFileSync } from 'node:fs';
import { api, ask, base, check, env, launch, login, shots, step, text, waitText } from './harness.mjs';

const browser = await launch();
let failed = false;
try {
  const desk = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
  });
  for (const c of [desk, phone]) c.setDefaultTimeout(15000);
  const pageErrors = [];
  const watch = (p, name) => {
    p.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() === 'error' && !/ERR_CONNECTION_REFUSED|Failed to load resource|EventSource/.test(m.text())) {
        pageErrors.push(`${name} console: ${m.text()}`);
      }
    });
  };

  // ----- the console refuses a wrong token, and a helper's ---------------
  step('console: a wrong token is refused');
  const con = await desk.newPage();
  watch(con, 'console');
  await con.goto(base + '/console');
  await login(con, 'this-is-not-a-valid-token');
  await waitText(con, '#login-msg', '令牌无效');
  check(await con.locator('#app').isHidden(), 'the console stays hidden after a wrong token');
  await login(con, env('GW_HELPER'));
  await waitText(con, '#login-msg', '请使用窗口令牌');
  check(await con.locator('#app').isHidden(), 'a helper token does not open the console');

  step('console: log in as window 1');
  await login(con, env('GW_WINDOW1'));
  await waitText(con, '#who', '1 号窗口');
  await con.locator('#waiting-empty').waitFor();
  check(await con.locator('#offline').isHidden(), 'no lost-connection banner once connected');

  // ----- the helper goes on duty (so the priority case comes to them) -----
  step('helper: log in and go on duty');
  const hp = await phone.newPage();
  watch(hp, 'helper');
  await hp.goto(base + '/helper');
  await login(hp, env('GW_HELPER'));
  await waitText(hp, '#who', '王协办');
  await waitText(hp, '#duty-state', '未上岗');
  await hp.click('#duty');
  await waitText(hp, '#duty-state', '在岗');

  // ----- tickets appear in the live list ----------------------------------
  step('kiosk keypad: a ticket appears in the console list');
  const kiosk = await ask({ op: 'key', key: '1' });
  const status = await (await fetch(`${base}/api/status/${kiosk.token}`)).json();
  const normal = status.number;
  check(normal === 'A001', `the keypad ticket is A001, got ${normal}`);
  await con.locator(`#waiting tr[data-number="${normal}"]`).waitFor();

  step('API: a priority ticket appears first, marked 绿波');
  const man = env('GW_MANAGER');
  const prio = (await api('POST', '/api/tickets', man, { service: 'civil', lane: 'priority', reason: '测试：管理员签发' })).number;
  await con.locator(`#waiting tr[data-number="${prio}"]`).waitFor();
  check((await text(con, '#waiting tr:first-child td:first-child')) === prio, 'the priority ticket is first');
  check((await text(con, `#waiting tr[data-number="${prio}"]`)).includes('绿波'), 'the priority ticket is marked 绿波');
  const other = (await api('POST', '/api/tickets', man, { service: 'medical' })).number;
  await api('POST', '/api/tickets', man, { service: 'civil' });
  await waitText(con, '#waiting-count', '3 人');
  check((await con.locator(`#waiting tr[data-number="${other}"]`).count()) === 0, 'another service\'s ticket is not in window 1\'s list');

  step('progress page: waiting');
  const prog = await phone.newPage();
  watch(prog, 'progress');
  await prog.goto(`${base}/t/${kiosk.token}`);
  await waitText(prog, '#number', normal);
  await waitText(prog, '#message', '前面还有 1 人');
  const progText = await prog.locator('body').innerText();
  check(!/身份证|姓名/.test(progText), 'no personal data on the progress page');
  const lost = await phone.newPage();
  const resp = await lost.goto(`${base}/t/nosuchtokenatallxxxxxxxxxxxxx`);
  check(resp.status() === 404, `an unknown token gives 404, got ${resp.status()}`);
  await waitText(lost, '#number', '没有找到');
  await lost.close();

  // ----- calling with the keyboard ------------------------------------------
  step('console: F1 calls the priority ticket, F3 starts, F4 finishes');
  await con.keyboard.press('F1');
  await waitText(con, '#current-number', prio);
  await waitText(con, '#current-state', '已呼叫');
  await waitText(con, '#current-facts', '协办员：王协办');
  await waitText(con, '#current-facts', '已等候');
  const primary = async (id) => (await con.getAttribute(id, 'class') || '').split(' ').includes('primary');
  check(await primary('#btn-start'), 'after a call, 开始办理 is the highlighted action');
  check(!(await primary('#btn-finish')), 'after a call, 办结 is not highlighted');
  await con.keyboard.press('F3');
  await waitText(con, '#current-state', '办理中');
  await waitText(con, '#current-elapsed', '办理用时');
  check(await primary('#btn-finish'), 'while serving, 办结 is the highlighted action');
  check(!(await primary('#btn-start')), 'while serving, 开始办理 is not highlighted');
  await con.screenshot({ path: `${shots}/console.png` });
  await con.keyboard.press('F4');
  await con.locator('#current-empty').waitFor();
  await waitText(con, '#msg', '已办结');

  step('console: F1 calls the keypad ticket; its progress page says where to go');
  await con.keyboard.press('F1');
  await waitText(con, '#current-number', normal);
  await waitText(prog, '#message', '请到 1 号窗口', { timeout: 20000 });
  check((await prog.locator('body').getAttribute('data-status')) === 'called', 'the page shows it is called');
  await prog.screenshot({ path: `${shots}/progress.png` });

  step('console: F6 transfers it to 医保业务');
  await con.keyboard.press('F6');
  await con.locator('#dlg-transfer').waitFor();
  await con.selectOption('#transfer-service', 'medical');
  await con.fill('#transfer-note', '需要医保窗口办理');
  await con.press('#transfer-note', 'Tab');
  await con.keyboard.press('Tab');
  check(await con.evaluate(() => document.activeElement.id === 'transfer-ok'), 'Tab reaches the confirm button');
  await con.keyboard.press('Enter');
  await waitText(con, '#msg', '已转办');
  await con.locator('#current-empty').waitFor();
  check((await con.locator(`#waiting tr[data-number="${normal}"]`).count()) === 0, 'the transferred ticket left window 1\'s list');
  await waitText(prog, '#message', '前面还有', { timeout: 20000 });

  step('console: F8 pauses and resumes');
  await con.keyboard.press('F8');
  await con.locator('#paused-note').waitFor();
  check(await con.locator('#btn-call').isDisabled(), 'no calling while paused');
  await con.keyboard.press('F8');
  await con.locator('#paused-note').waitFor({ state: 'hidden' });

  step('console: F7 manual identification shows the roster answer, never the number');
  const listed = env('GW_LISTED');
  await con.keyboard.press('F7');
  await con.locator('#dlg-manual').waitFor();
  await con.fill('#manual-id', listed);
  await con.press('#manual-id', 'Enter');
  await waitText(con, '#manual-answer', '符合绿波条件');
  await waitText(con, '#manual-answer', '低保');
  await waitText(con, '#manual-answer', '**********');
  const manualNumber = await text(con, '#manual-number');
  check(manualNumber.startsWith('GA'), `a priority number, got ${manualNumber}`);
  check(!(await con.content()).includes(listed), 'the ID number is not kept in the page');
  await con.fill('#manual-id', env('GW_STRANGER'));
  await con.press('#manual-id', 'Enter');
  await waitText(con, '#manual-answer', '未发绿波号');
  await con.keyboard.press('Escape');
  await con.locator('#dlg-manual').waitFor({ state: 'hidden' });
  await con.locator(`#waiting tr[data-number="${manualNumber}"]`).waitFor();

  // ----- the helper's case ----------------------------------------------
  step('helper: the priority case, note, policy, rating, close');
  await hp.reload();
  await hp.locator(`#mine [data-number="${prio}"] button`).click({ timeout: 20000 });
  await waitText(hp, '#c-number', prio);
  await waitText(hp, '#c-state', '已办结');
  // One task per screen: each task's button is on the first screen, above
  // the bar of tasks at the bottom, without scrolling.
  // (The long policy list keeps its button in the bar itself.)
  const reachable = async (sel) => {
    const [b, bar] = [await hp.locator(sel).boundingBox(), await hp.locator('nav.tasks').boundingBox()];
    const inBar = await hp.locator(`nav.tasks ${sel}`).count() === 1;
    check(b && bar && b.y >= 0 && (inBar || b.y + b.height <= bar.y) && bar.y + bar.height <= 844 && b.y + b.height <= 844,
      `${sel} is on the first screen, not under the task bar: ${JSON.stringify([b, bar])}`);
  };
  await hp.click('#tab-note');
  await reachable('#f-note button[type=submit]');
  await hp.fill('#c-note', '已陪同办理，材料齐全');
  await hp.click('#f-note button[type=submit]');
  await waitText(hp, '#c-msg', '已保存记录');
  await waitText(hp, '#c-timeline', '已陪同办理');
  await hp.click('#tab-policies');
  await reachable('#policies-submit');
  const box = hp.locator('#c-policies input[type=checkbox]').first();
  const policyId = await box.getAttribute('value');
  await box.check();
  await hp.click('#policies-submit');
  await waitText(hp, '#c-timeline', '政策解读');
  await waitText(hp, '#tab-policies', '政策1');
  check(await hp.locator(`#p-${policyId}`).isDisabled(), 'an explained policy is ticked for good');
  await hp.screenshot({ path: `${shots}/helper-policies.png` });
  await hp.click('#tab-rating');
  await reachable('[data-rating="不满意"]');
  await hp.fill('#c-comment', '服务很周到');
  await hp.click('[data-rating="满意"]');
  await waitText(hp, '#rating-state', '已评价：满意');
  await waitText(hp, '#tab-rating', '评价✓');
  await hp.click('#tab-overview');
  await hp.screenshot({ path: `${shots}/helper.png` });
  await hp.screenshot({ path: `${shots}/helper-full.png`, fullPage: true });
  await hp.click('#tab-close');
  await reachable('#close-case');
  await hp.screenshot({ path: `${shots}/helper-close.png` });
  await hp.click('#close-case');
  await waitText(hp, '#c-msg', '已结案');
  await waitText(hp, '#c-timeline', '结案');

  // ----- the manager's overview -------------------------------------------
  step('manager: queues, windows, helpers, figures');
  const mp = await desk.newPage();
  watch(mp, 'manager');
  await mp.goto(base + '/manager');
  await login(mp, man);
  await waitText(mp, '#fig-issued', '5');
  await waitText(mp, '#fig-done', '1');
  // From GET /api/stats: the case rated 满意, the manual identification.
  await waitText(mp, '#fig-staff-ratings', '1 / 100%');
  await waitText(mp, '#fig-ratings', '0 / —');
  await waitText(mp, '#fig-cards', '/ 1');
  await waitText(mp, '#fig-cases', '2（1）');
  await waitText(mp, '#helpers', '王协办');
  await waitText(mp, '#helpers', '在岗');
  await waitText(mp, '#cases', prio);
  await waitText(mp, '#services tr[data-service="civil"][data-lane="priority"] .count', '1');
  await waitText(mp, '#windows tr[data-window="1"]', '空闲');
  await con.keyboard.press('F1');
  await waitText(con, '#current-number', manualNumber);
  await waitText(mp, '#windows tr[data-window="1"]', '已呼叫');
  await waitText(mp, '#cases', '已呼叫');
  // The kiosk machines: k1 reports (reader working, printer not), k2 never did.
  await ask({ op: 'heartbeat' });
  await waitText(mp, '#kiosks tr[data-kiosk="k1"]', '在线');
  await waitText(mp, '#kiosks tr[data-kiosk="k1"]', '打印机故障');
  await waitText(mp, '#kiosks tr[data-kiosk="k2"]', '从未连接');
  await mp.screenshot({ path: `${shots}/manager.png` });
  await mp.screenshot({ path: `${shots}/manager-full.png`, fullPage: true });

  // ----- the connection is lost and comes back ------------------------------
  step('console: the lost-connection banner shows, and goes once the daemon is back');
  await ask({ op: 'stop' });
  await con.locator('#offline').waitFor();
  await ask({ op: 'start' });
  await con.locator('#offline').waitFor({ state: 'hidden', timeout: 30000 });
  const after = await ask({ op: 'key', key: '1' });
  const afterNumber = (await (await fetch(`${base}/api/status/${after.token}`)).json()).number;
  await con.locator(`#waiting tr[data-number="${afterNumber}"]`).waitFor();

  step('console: F9 reprints, F2 recalls, F5 marks a no-show (and does not reload the page)');
  await con.evaluate(() => {
    window.stillHere = true;
  });
  await con.keyboard.press('F9');
  await con.locator('#dlg-reprint').waitFor();
  check((await con.inputValue('#reprint-number')) === manualNumber, 'the reprint dialog offers the current ticket');
  await con.press('#reprint-number', 'Enter');
  await waitText(con, '#reprint-msg', `已补打 ${manualNumber}`);
  await con.keyboard.press('Escape');
  await con.locator('#dlg-reprint').waitFor({ state: 'hidden' });
  await con.keyboard.press('F2');
  await waitText(con, '#msg', '已重呼');
  await con.keyboard.press('F5');
  await waitText(con, '#msg', '已标记未到');
  await con.locator('#current-empty').waitFor();
  check(await con.evaluate(() => window.stillHere === true), 'F5 did not reload the console');

  step('console: F10 puts the no-show back in line, calls it by number, enters the rating');
  await con.keyboard.press('F10');
  await con.locator('#dlg-number').waitFor();
  await con.fill('#number-input', manualNumber);
  await con.click('#number-rejoin');
  await waitText(con, '#number-msg', `${manualNumber} 已重新排队`);
  await con.click('#number-call');
  await waitText(con, '#number-msg', `已呼叫 ${manualNumber}`);
  await con.keyboard.press('Escape');
  await con.locator('#dlg-number').waitFor({ state: 'hidden' });
  await waitText(con, '#current-number', manualNumber);
  await waitText(con, '#current-state', '已呼叫');
  await con.keyboard.press('F3');
  await waitText(con, '#current-state', '办理中');
  await con.keyboard.press('F4');
  await con.locator('#current-empty').waitFor();
  await con.keyboard.press('F10');
  await con.fill('#number-input', manualNumber);
  await con.selectOption('#number-rating', '基本满意');
  await con.fill('#number-comment', '材料不全，下次补交');
  await con.click('#number-rate');
  await waitText(con, '#number-msg', `已录入 ${manualNumber} 的评价：基本满意`);
  await con.screenshot({ path: `${shots}/console-number.png` });
  const dup = (await api('POST', '/api/tickets', man, { service: 'civil' })).number;
  await con.fill('#number-input', dup);
  await con.selectOption('#number-cancel-reason', '重复取号');
  await con.click('#number-withdraw');
  await waitText(con, '#number-msg', `${dup} 已取消（原因：重复取号）`);
  await con.keyboard.press('Escape');
  const rated3 = await api('GET', `/api/tickets/${manualNumber}/timeline`, man);
  check(rated3.rating && rated3.rating.source === 'staff' && rated3.rating.by === 'window:1', `a staff rating by window 1: ${JSON.stringify(rated3.rating)}`);

  // ----- the resident rates at the window's evaluator -------------------
  step('evaluator: the resident rates at window 1; the manager sees the alert and handles it');
  const tab = await desk.newPage();
  watch(tab, 'evaluator');
  await tab.setViewportSize({ width: 1024, height: 600 });
  await tab.goto(base + '/rate/1');
  await login(tab, env('GW_EVALUATOR'));
  await waitText(tab, '#rate-window', '1 号窗口');
  await tab.locator('#rate-idle').waitFor();
  await con.keyboard.press('F1');
  await waitText(con, '#msg', '已呼叫');
  await con.locator('#current-empty').waitFor({ state: 'hidden' });
  await con.keyboard.press('F3');
  await waitText(con, '#current-state', '办理中');
  const rated = await text(con, '#current-number');
  await waitText(tab, '#rate-ticket', `${rated} · 民政救助`);
  check((await tab.locator('#rate-levels button.level').count()) === 5, 'five levels offered');
  await tab.screenshot({ path: `${shots}/evaluator.png` });
  await tab.click('[data-level="不满意"]');
  await waitText(tab, '#rate-given', `${rated} · 不满意`);
  await tab.screenshot({ path: `${shots}/evaluator-thanks.png` });
  await con.keyboard.press('F4');
  await waitText(con, '#msg', '已办结');
  await waitText(mp, '#alerts', rated);
  await waitText(mp, '#alerts', '窗口评价器');
  await waitText(mp, '#fig-ratings', '1 / 0%');
  await mp.evaluate(() => window.scrollTo(0, 0));
  await mp.screenshot({ path: `${shots}/manager-alert.png` });
  await mp.fill('#alerts form.handle input', '已电话回访');
  await mp.click('#alerts form.handle button');
  await waitText(mp, '#alerts', '已处理');
  // Back to idle once the thanks are over (the rated ticket is not offered again).
  await tab.locator('#rate-idle').waitFor({ timeout: 10000 });

  // ----- the resident rates on the phone ---------------------------------
  step('progress page: once finished, the resident rates on the phone, once');
  const last = await ask({ op: 'key', key: '1' });
  const lastNumber = (await (await fetch(`${base}/api/status/${last.token}`)).json()).number;
  const pp = await phone.newPage();
  watch(pp, 'progress-rate');
  await pp.goto(`${base}/t/${last.token}`);
  await waitText(pp, '#number', lastNumber);
  check(await pp.locator('#rate').isHidden(), 'no rating before the ticket is finished');
  await api('POST', '/api/windows/1/call', man, { number: lastNumber });
  await api('POST', '/api/windows/1/start', man);
  await api('POST', '/api/windows/1/finish', man);
  await pp.reload();
  await pp.locator('#rate-form').waitFor();
  check((await pp.locator('#rate button.rate-level').count()) === 5, 'five levels on the phone');
  await pp.click('[data-level="满意"]');
  await pp.fill('#rate-comment', '窗口很耐心');
  await pp.locator('#rate').scrollIntoViewIfNeeded();
  await pp.screenshot({ path: `${shots}/progress-rate.png` });
  await pp.click('#rate-send');
  await waitText(pp, '#rate-done', '您的评价：满意');
  check(await pp.locator('#rate-form').isHidden(), 'the form goes once rated');
  await pp.screenshot({ path: `${shots}/progress-rated.png` });
  await waitText(mp, '#fig-ratings', '2 / 50%', { timeout: 20000 });

  // ----- the manager acts: pauses a window, reprints a failed ticket -----
  step('manager: pauses and resumes window 2, reprints a ticket whose print failed');
  await mp.click('#windows tr[data-window="2"] button.pause');
  await waitText(mp, '#windows tr[data-window="2"]', '暂停');
  await waitText(mp, '#windows tr[data-window="2"] button.pause', '恢复叫号');
  check((await api('GET', '/api/queue', man)).windows.find((w) => w.number === 2).paused, 'window 2 is paused in the queue');
  await mp.click('#windows tr[data-window="2"] button.pause');
  await waitText(mp, '#windows tr[data-window="2"] button.pause', '暂停叫号');
  // An open case goes to another helper (李协办, off duty).
  const openCase = await mp.locator('#cases select.reassign').first().getAttribute('data-number');
  await mp.selectOption(`#cases select.reassign[data-number="${openCase}"]`, 'h2');
  await waitText(mp, '#msg', `${openCase} 已改由 李协办`);
  const moved = await api('GET', `/api/cases/${openCase}`, man);
  check(moved.case.helper === 'h2', `the case went to h2: ${JSON.stringify(moved.case)}`);
  const failed = await ask({ op: 'key_out_of_paper', key: '1' });
  await mp.locator(`#reprints tr[data-number="${failed.number}"] button.reprint`).click({ timeout: 20000 });
  await waitText(mp, '#msg', `已补打 ${failed.number}`);

  step('manager: cancels a ticket for a reason of their own, after a confirmation naming it; the list shows who and why');
  const withdrawn = (await api('POST', '/api/tickets', man, { service: 'civil' })).number;
  await mp.fill('#cancel-number', withdrawn.toLowerCase());
  await mp.selectOption('#cancel-reason', '');
  await mp.fill('#cancel-other', '居民改日再来');
  await mp.click('#cancel-ask');
  await waitText(mp, '#cancel-question', `确认取消 ${withdrawn}（民政救助，等候中）？原因：居民改日再来`);
  check((await api('GET', `/api/tickets/${withdrawn}`, man)).ticket.state === 'waiting', 'nothing is cancelled before the confirmation');
  await mp.click('#cancel-yes');
  await waitText(mp, '#cancel-msg', `${withdrawn} 已取消（原因：居民改日再来）`);
  await waitText(mp, `#cancellations tr[data-number="${withdrawn}"]`, '管理员');
  await waitText(mp, `#cancellations tr[data-number="${dup}"]`, '1 号窗口');
  await waitText(mp, `#cancellations tr[data-number="${dup}"]`, '重复取号');
  check((await api('GET', `/api/tickets/${withdrawn}`, man)).ticket.state === 'cancelled', `${withdrawn} is cancelled`);
  await mp.locator('#cancel-card').screenshot({ path: `${shots}/manager-cancel.png` });

  step("manager: a period's figures, the day's charts drawn by the server, the export");
  await mp.click('#period button[type=submit]');
  await waitText(mp, '#period-rows tr.total', '合计');
  await mp.locator('#chart-hourly svg polyline').first().waitFor({ state: 'attached' });
  const lines = await mp.locator('#chart-hourly svg polyline').count();
  check(lines === 4, `waiting and served, per lane: ${lines} lines`);
  const legend = await mp.locator('#chart-hourly svg').textContent();
  check(legend.includes('等候 · 绿波') && legend.includes('办结 · 普通'), `the legend: ${legend}`);
  const waits = await mp.locator('#chart-waits svg').textContent();
  check(waits.includes('民政救助') && waits.includes('均 '), `waits per service, by name: ${waits}`);
  await mp.selectOption('#period-by', 'lane');
  await waitText(mp, '#period-rows', '绿波通道');
  const [book] = await Promise.all([mp.waitForEvent('download'), mp.click('#export-xlsx')]);
  const bytes = readFileSync(await book.path());
  check(bytes[0] === 0x50 && bytes[1] === 0x4b && book.suggestedFilename().endsWith('.xlsx'), `a workbook: ${book.suggestedFilename()}`);
  const [sheet] = await Promise.all([mp.waitForEvent('download'), mp.click('#export-csv')]);
  const csvText = readFileSync(await sheet.path(), 'utf8');
  check(csvText.startsWith('\ufeff分组,取号,绿波'), `a CSV for Excel: ${csvText.slice(0, 40)}`);
  await mp.locator('#period-card').screenshot({ path: `${shots}/manager-period.png` });

  // ----- the console shows where a transferred ticket came from, and why --
  step('console: a ticket transferred to window 1 shows where from and the note');
  await api('POST', '/api/windows/2/call', man, { number: normal });
  await api('POST', '/api/windows/2/transfer', man, { service: 'civil', window: 1, note: '请核对低保材料' });
  await api('POST', '/api/windows/1/call', man, { number: normal });
  await waitText(con, '#current-number', normal);
  await waitText(con, '#current-facts', '由 2 号窗口转来：请核对低保材料');
  await con.screenshot({ path: `${shots}/console-transferred.png` });

  step('console: F7 moves a waiting normal ticket to the green wave, and binds a priority card');
  const plain = (await api('POST', '/api/tickets', man, { service: 'civil' })).number;
  await con.keyboard.press('F7');
  await con.locator('#dlg-manual').waitFor();
  await con.selectOption('#manual-mode', 'upgrade');
  await con.fill('#manual-ticket', plain);
  await con.fill('#manual-id', listed);
  await con.press('#manual-id', 'Enter');
  await waitText(con, '#manual-answer', '已转入绿波通道');
  await waitText(con, '#manual-number', plain);
  check((await api('GET', `/api/tickets/${plain}`, man)).ticket.lane === 'priority', `${plain} is in the priority lane`);
  await con.selectOption('#manual-mode', 'card');
  await con.fill('#manual-uid', '04a1b2c3');
  await con.fill('#manual-id', listed);
  await con.press('#manual-id', 'Enter');
  await waitText(con, '#manual-bound', '已绑定绿波卡 04A1B2C3');
  await con.screenshot({ path: `${shots}/console-card.png` });
  check(!(await con.content()).includes(listed), 'the ID number is not kept in the page');
  await con.keyboard.press('Escape');

  // ----- a window's PIN: the manager sets it, a clerk logs in with it ----
  step('manager: sets window 1\'s login PIN (a trivial one is refused)');
  await mp.locator('#pin-window option[value="1"]').waitFor({ state: 'attached' });
  await mp.selectOption('#pin-window', '1');
  await mp.fill('#pin-code', '1234');
  await mp.press('#pin-code', 'Enter');
  await waitText(mp, '#pins-msg', '过于简单');
  await mp.fill('#pin-code', '2580');
  await mp.press('#pin-code', 'Enter');
  await waitText(mp, '#pins-msg', '1 号窗口的登录密码已设置');
  await waitText(mp, '#pins tr[data-window="1"]', '已设置');
  check(!(await mp.content()).includes('2580'), 'the PIN is not shown on the manager page');

  step('console: a clerk chooses window 1 and types its PIN');
  const counter = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
  counter.setDefaultTimeout(15000);
  const pc = await counter.newPage();
  watch(pc, 'console-pin');
  await pc.goto(base + '/console');
  await pc.locator('#login-pin-code').waitFor();
  check(await pc.locator('#login').isHidden(), 'the token form waits behind 使用令牌登录');
  await pc.locator('#login-window option[value="3"]').waitFor({ state: 'attached' });
  await pc.selectOption('#login-window', '1');
  await pc.fill('#login-pin-code', '0000');
  await pc.press('#login-pin-code', 'Enter');
  await waitText(pc, '#login-pin-msg', '密码错误，还可再试 4 次');
  await pc.fill('#login-pin-code', '2580');
  await pc.screenshot({ path: `${shots}/console-pin.png` });
  await pc.press('#login-pin-code', 'Enter');
  await waitText(pc, '#who', '1 号窗口');
  check(await pc.locator('#app').isVisible(), 'the PIN opened the console');
  const session = await pc.evaluate(() => localStorage.getItem('greenwave.console.token'));
  check(session && session.length === 64 && session !== env('GW_WINDOW1'), 'the console holds a session, not the token');
  check((await api('GET', '/api/me', session)).window === 1, 'the session is window 1\'s');

  step('console: 退出登录 ends the PIN session');
  await pc.click('#logout');
  await pc.locator('#login-pin-code').waitFor();
  const gone = await fetch(base + '/api/me', { headers: { Authorization: `Bearer ${session}` } });
  check(gone.status === 401, `the session is revoked: ${gone.status}`);
  await counter.close();

  check(pageErrors.length === 0, `no script errors: ${pageErrors.join(' | ')}`);
  console.log('browser: all steps passed');
} catch (e) {
  failed = true;
  console.log(`browser: FAILED: ${e.stack || e}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
