// A helper's phone (390×844) when a resident comes back: the case shows
// the earlier visit (待补材料, what was missing, the notes) and the
// follow-up list shows the waiting case. Started by tests/cases.rs after it
// made the two visits. Exit 0 only when every step passed; the last line
// is then `followup: all steps passed`. Screenshots: GW_SHOTS/helper-*.png.
//
// Environment: GW_BASE, GW_HELPER (h1's token), GW_FIRST, GW_SECOND (the
// two visits' numbers), GW_SHOTS, GW_CHROMIUM.

import { base, check, env, launch, login, shots, step, waitText } from './harness.mjs';

const first = env('GW_FIRST');
const second = env('GW_SECOND');
const browser = await launch();
let failed = false;
try {
  const ctx = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
  });
  ctx.setDefaultTimeout(15000);
  const hp = await ctx.newPage();
  step('the follow-up list names the waiting case and what is missing');
  await hp.goto(base + '/helper');
  await login(hp, env('GW_HELPER'));
  await waitText(hp, '#follow-ups', `${first}`);
  await waitText(hp, '#follow-ups', '待补材料：缺少户口簿');
  await hp.screenshot({ path: `${shots}/helper-follow-ups.png`, fullPage: true });

  step('the returning resident\'s case shows the earlier visit');
  await hp.locator(`#mine [data-number="${second}"] button`).click();
  await waitText(hp, '#c-earlier-facts', first);
  await waitText(hp, '#c-earlier-facts', '缺少材料：户口簿');
  await waitText(hp, '#c-earlier-notes', '缺少户口簿，已告知下次带来');
  const box = await hp.locator('#c-earlier').boundingBox();
  check(box && box.y < 844, `the earlier visit is on the first screen: ${JSON.stringify(box)}`);
  await hp.screenshot({ path: `${shots}/helper-earlier-visit.png` });
} catch (e) {
  failed = true;
  console.log(`FAILED: ${e.message}`);
} finally {
  await browser.close();
}
if (!failed) console.log('followup: all steps passed');
process.exit(failed ? 1 : 0);
