// The first run of IATI Account, as a newcomer has it: `cargo up --dev` serves the console
// and its development Identity Service; in headless Chromium (Debian's, driven by
// puppeteer-core) Ada Admin signs in there, sees the sample organisation and Jo Applicant's
// request to join, approves it, and signs out at the provider, which tells the console
// (back-channel logout) and sends the browser back. A screenshot of each page goes to
// $SHOTS. tests/tests/first_run.rs starts `up --dev` and runs this; any failure is thrown
// with the step that failed. Prints one JSON line of facts at the end.
//
// Environment: SITE (the console's origin), ORG (the sample organisation's short name),
// SHOTS, CHROMIUM (the executable).

import { expect, go, launch, screenshots, text } from './pages.mjs';

const { SITE, ORG, SHOTS, CHROMIUM } = process.env;
const ADA = '00000000-0000-4000-8000-000000000002';

const shot = screenshots(SHOTS);

const browser = await launch(CHROMIUM);
try {
  const page = await browser.newPage();
  await page.goto(`${SITE}/account`);
  expect((await text(page)).includes('Sign in'), 'signed out, the console asks to sign in');
  await shot(page, 'signed-out');
  await go(page, 'main a.button');
  expect(page.url().startsWith(`${SITE}/dev-identity/authorize`), `at the development provider: ${page.url()}`);
  const offered = await text(page);
  for (const name of ['Development Superadmin', 'Ada Admin', 'Eddie Editor', 'Jo Applicant']) {
    expect(offered.includes(name), `${name} is offered: ${offered}`);
  }
  await shot(page, 'choose-who');
  await go(page, `button[value="${ADA}"]`);
  expect(page.url().startsWith(`${SITE}/account`), `back at the console: ${page.url()}`);
  expect((await text(page)).includes('Signed in as Ada Admin'), 'signed in as Ada Admin');
  const home = await text(page);
  expect(home.includes(ORG), `the sample organisation ${ORG} is listed: ${home}`);
  await shot(page, 'home');

  const orgLink = await page.$$eval('main a[href^="/account/orgs/"]', (links) => links.map((a) => a.getAttribute('href')));
  expect(orgLink.length > 0, 'a link to the organisation');
  await go(page, `main a[href="${orgLink[0]}"]`);
  const before = await text(page);
  expect(before.includes('Requests to join') && before.includes('Jo Applicant'), `Jo's request is shown: ${before}`);
  await shot(page, 'organisation');
  await go(page, 'form[action*="/people/00000000-0000-4000-8000-000000000004"] button');
  const after = await text(page);
  expect(after.includes('The role was changed'), `approved: ${after}`);
  expect(after.includes('No one is waiting'), `no request left: ${after}`);
  await shot(page, 'approved');

  // Sign out: the console ends its session and sends the browser to the provider, which
  // asks, ends its own session, tells the console, and sends the browser back.
  await go(page, 'form.signout button');
  expect(page.url().startsWith(`${SITE}/dev-identity/end-session`), `at the provider's sign-out: ${page.url()}`);
  expect((await text(page)).includes('Ada Admin'), 'the provider says who signs out');
  await shot(page, 'provider-sign-out');
  await go(page, 'button[name=confirm]');
  expect(page.url() === `${SITE}/account`, `back at the console: ${page.url()}`);
  expect((await text(page)).includes('Sign in'), 'signed out');
  await shot(page, 'signed-out-again');
  process.stdout.write(`${JSON.stringify({ done: true, shots: shot.count() })}\n`);
} finally {
  await browser.close();
}
