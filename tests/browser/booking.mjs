// The booking page (预约登记) as the hotline uses it, at 1280×800: book
// tomorrow's 09:00 for a resident (the code shown large, the number
// masked, the ID field emptied), the slot's places go down, the booking is
// found by its code, moved to 10:00 and cancelled (after a confirmation),
// and the day's list says so. Started by tests/appointments.rs. Exit 0
// only when every step passed; the last line is then `booking: all steps
// passed`. Screenshots: GW_SHOTS/booking-*.png.
//
// Environment: GW_BASE, GW_HOTLINE (the hotline's token), GW_ID (a valid
// ID number), GW_DAY (tomorrow, YYYY-MM-DD), GW_SHOTS, GW_CHROMIUM.

import { base, check, env, launch, login, shots, step, text, waitText } from './harness.mjs';

const day = env('GW_DAY');
const id = env('GW_ID');
const browser = await launch();
let failed = false;
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
  ctx.setDefaultTimeout(15000);
  const p = await ctx.newPage();
  p.on('dialog', (d) => d.accept());

  step('the hotline logs in and sees the slots of today');
  await p.goto(base + '/booking');
  await login(p, env('GW_HOTLINE'));
  await waitText(p, '#who', '预约热线');
  check((await p.locator('#book-service option').count()) >= 1, 'a service to book');

  step('tomorrow 09:00 is booked; the code is shown, the number masked and cleared');
  await p.fill('#book-day', day);
  await p.dispatchEvent('#book-day', 'change');
  await p.locator('label[for="book-slot-0900"]').waitFor();
  await waitText(p, 'label[for="book-slot-0900"]', '剩 2');
  await p.click('label[for="book-slot-0900"]');
  await p.fill('#book-id', id);
  await p.click('#book-ok');
  await p.locator('#booked:visible').waitFor();
  const code = await text(p, '#booked-code');
  check(/^[0-9]{6}$/.test(code), `a six-digit code: ${code}`);
  await waitText(p, '#booked-what', '09:00–09:30');
  await waitText(p, '#booked-tell', '8:30–9:15 到大厅刷身份证取号');
  await waitText(p, '#booked-id', '**********');
  check(!(await text(p, '#booked-id')).includes(id), 'the number is masked');
  check((await p.inputValue('#book-id')) === '', 'the ID field is emptied');
  await waitText(p, 'label[for="book-slot-0900"]', '剩 1');
  await p.screenshot({ path: `${shots}/booking.png`, fullPage: true });

  step('a second booking of the same resident that day is refused, naming the code');
  await p.click('label[for="book-slot-1000"]');
  await p.fill('#book-id', id);
  await p.click('#book-ok');
  await waitText(p, '#book-msg', code);

  step('found by its code, moved to 10:00');
  await p.fill('#find-key', code);
  await p.click('#find-ok');
  await waitText(p, `#found [data-code="${code}"]`, '已预约');
  await p.click(`#found [data-code="${code}"] button.move`);
  await p.locator('#dlg-move[open]').waitFor();
  await p.locator('label[for="move-slot-1000"]').waitFor();
  await p.click('label[for="move-slot-1000"]');
  await p.screenshot({ path: `${shots}/booking-move.png` });
  await p.click('#move-ok');
  await waitText(p, '#find-msg', '10:00');
  await waitText(p, `#found [data-code="${code}"]`, '10:00–10:30');

  step('cancelled after a confirmation; the day lists it as cancelled');
  await p.click(`#found [data-code="${code}"] button.cancel`);
  await waitText(p, '#find-msg', '已取消');
  await waitText(p, `#found [data-code="${code}"]`, '已取消');
  await p.fill('#list-day', day);
  await p.dispatchEvent('#list-day', 'change');
  await waitText(p, `#list tr[data-code="${code}"]`, '已取消');
  await waitText(p, `#list tr[data-code="${code}"]`, '预约热线');
  // The places picked for booking are today's again: 09:00 and 10:00
  // both free after the move and the cancellation.
  await waitText(p, 'label[for="book-slot-0900"]', '剩 2');
  await waitText(p, 'label[for="book-slot-1000"]', '剩 2');
  await p.screenshot({ path: `${shots}/booking-list.png`, fullPage: true });
} catch (e) {
  failed = true;
  console.log(`FAILED: ${e.message}`);
} finally {
  await browser.close();
}
if (!failed) console.log('booking: all steps passed');
process.exit(failed ? 1 : 0);
