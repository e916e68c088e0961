// What both browser scripts do with a page: numbered screenshots into a folder, a check
// that throws with what failed, a click that waits for where it leads, the page's text,
// and Chromium launched as this machine needs it.

import puppeteer from 'puppeteer-core';

export function expect(ok, what) {
  if (!ok) throw new Error(what);
}

/// Screenshots numbered in the order taken, into `dir`.
export function screenshots(dir) {
  let taken = 0;
  const shot = async (page, name) => {
    taken += 1;
    await page.screenshot({ path: `${dir}/${String(taken).padStart(2, '0')}-${name}.png`, fullPage: true });
  };
  shot.count = () => taken;
  return shot;
}

/// Clicks and waits for the page the click leads to (after any redirects).
export async function go(page, selector) {
  const target = await page.waitForSelector(selector, { timeout: 10_000 });
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), target.click()]);
}

export const text = (page) => page.evaluate(() => document.body.innerText);

/// Headless Chromium from `executablePath` (Debian's; puppeteer-core downloads none).
export function launch(executablePath) {
  return puppeteer.launch({
    executablePath,
    headless: true,
    // Chromium's sandbox needs user namespaces, which containers (and root) often lack;
    // this machine's network is closed, so nothing in the background may reach out.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'],
    defaultViewport: { width: 1100, height: 800 },
  });
}
