// What the page scripts (run.mjs, progress.mjs) share: the environment,
// the `@@ {json}` requests to the Rust harness that owns the daemon, the
// API, waiting for text, and chromium. A page keeps numbers with their
// words by no-break spaces; texts are compared with plain spaces.

import { mkdirSync } from 'node:fs';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

export const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
export const base = env('GW_BASE');
export const shots = env('GW_SHOTS');
mkdirSync(shots, { recursive: true });

const replies = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

// Asks the Rust harness for what only it can do; its answer, or throws.
export async function ask(req) {
  console.log('@@ ' + JSON.stringify(req));
  const { value, done } = await replies.next();
  if (done) throw new Error('the harness closed stdin');
  const r = JSON.parse(value);
  if (r.error) throw new Error(`harness: ${r.error}`);
  return r;
}

export function step(name) {
  console.log(`step: ${name}`);
}

export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

export async function api(method, path, token, body) {
  const r = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(data)}`);
  return data;
}

// Waits until the element's text contains `text` (or, with `not`, stops
// containing it).
export async function waitText(page, sel, text, { timeout = 15000, not = false } = {}) {
  try {
    await page.waitForFunction(
      ([s, t, n]) => {
        const e = document.querySelector(s);
        const has = !!e && e.textContent.replace(/\u00a0/g, ' ').includes(t);
        return n ? !has : has;
      },
      [sel, text, not],
      { timeout },
    );
  } catch (e) {
    const now = await page.locator(sel).first().textContent().catch(() => '(no element)');
    throw new Error(`${sel} ${not ? 'still has' : 'never had'} "${text}"; it reads "${now}"`);
  }
}

export async function text(page, sel) {
  return (await page.locator(sel).first().textContent()).replace(/\u00a0/g, ' ').trim();
}

// Logs a page in with a token; on the console, whose window-and-PIN form
// comes first, through its 使用令牌登录.
export async function login(page, token) {
  await page.locator('#login-token:visible, #login-pin-code:visible').first().waitFor();
  if (await page.locator('#login-use-token').isVisible()) {
    await page.click('#login-use-token');
  }
  await page.locator('#login-token').waitFor();
  await page.fill('#login-token', token);
  await page.press('#login-token', 'Enter');
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.GW_CHROMIUM || '/usr/bin/chromium',
    // Root in CI: chromium's sandbox needs a user namespace it may not get.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}
