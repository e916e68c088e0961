// IATI Account in a real browser: headless Chromium (Debian's package, driven by
// puppeteer-core, which downloads no browser) through the console and the test OpenID
// Provider's own login, consent and sign-out pages. A screenshot at each page goes to
// $SHOTS. tests/tests/browser.rs starts the host and the provider, runs this, and plays the
// API gateway at each checkpoint: this script prints one JSON line
// `{"checkpoint": name, ...facts}` and waits for `go` on stdin; any failure is thrown and
// ends the run with the step that failed.
//
// Environment: SITE (the console's origin), ISSUER, SHOTS, CHROMIUM (the executable).

import { expect, go, launch, screenshots, text } from './pages.mjs';
import readline from 'node:readline';

const { SITE, ISSUER, SHOTS, CHROMIUM } = process.env;
const ALICE = '00000000-0000-4000-8000-0000000a11ce';
const DAVE = '00000000-0000-4000-8000-00000000da7e';
const ORG_NAME = "<script>alert('owned')</script> Journey Org";

const lines = readline.createInterface({ input: process.stdin });
const input = lines[Symbol.asyncIterator]();
async function checkpoint(name, facts = {}) {
  process.stdout.write(`${JSON.stringify({ checkpoint: name, ...facts })}\n`);
  const { value } = await input.next();
  if (value !== 'go') throw new Error(`the test stopped the journey at ${name}: ${value}`);
}

const shot = screenshots(SHOTS);

async function fill(page, fields) {
  for (const [name, value] of Object.entries(fields)) {
    const el = await page.$(`[name="${name}"]`);
    expect(el, `no field ${name} on ${page.url()}`);
    if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await page.select(`[name="${name}"]`, value);
    else await el.type(value);
  }
}

/// From the console's sign-in page through the provider's login and consent pages.
async function signIn(page, login) {
  await page.goto(`${SITE}/account`);
  expect((await text(page)).includes('Sign in'), 'signed out, the console asks to sign in');
  await shot(page, `${login}-signed-out`);
  await go(page, 'main a.button');
  expect(page.url().startsWith(ISSUER), `at the provider: ${page.url()}`);
  await fill(page, { login, password: 'any password' });
  await shot(page, `${login}-provider-login`);
  await go(page, 'button[type=submit]');
  if (page.url().startsWith(ISSUER)) {
    await shot(page, `${login}-provider-consent`);
    await go(page, 'button[type=submit]');
  }
  expect(page.url().startsWith(`${SITE}/account`), `back at the console: ${page.url()}`);
  expect((await text(page)).includes('Signed in as'), 'signed in');
}

const browser = await launch(CHROMIUM);
try {
  const alice = await browser.newPage();
  const dialogs = [];
  alice.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  await signIn(alice, 'alice');
  await shot(alice, 'alice-my-organisations');

  // An organisation whose name is markup: shown as text, never run.
  await go(alice, 'a[href="/account/orgs/new"]');
  await fill(alice, { short_name: 'journey-org', human_readable_name: ORG_NAME, contact_email: 'alice@example.org' });
  await shot(alice, 'alice-new-organisation');
  await go(alice, 'main form button[type=submit]');
  const orgUrl = alice.url().split('?')[0];
  const oid = orgUrl.split('/').pop();
  expect((await alice.$eval('h1', (h) => h.textContent)) === ORG_NAME, 'the name is shown as written');
  expect(dialogs.length === 0, `a script ran: ${dialogs}`);
  await shot(alice, 'alice-organisation-created');

  await go(alice, 'a[href$="/datasets/new"]');
  await fill(alice, {
    short_name: 'journey-activities',
    human_readable_name: 'Journey activities',
    url: 'https://data.example.org/journey.xml',
    source_type: 'primary_source',
  });
  await shot(alice, 'alice-new-dataset');
  await go(alice, 'main form button[type=submit]');
  expect((await text(alice)).includes('The dataset was added'), 'the dataset was added');
  await shot(alice, 'alice-dataset-added');

  // A second person, in their own browser profile, finds the organisation and asks to join.
  const second = await browser.createBrowserContext();
  const dave = await second.newPage();
  await signIn(dave, 'dave');
  await go(dave, 'a[href="/account/find"]');
  await fill(dave, { q: 'Journey' });
  await go(dave, 'main form[role=search] button[type=submit]');
  await shot(dave, 'dave-finds-the-organisation');
  await go(dave, `form[action="/account/orgs/${oid}/join"] button`);
  expect((await text(dave)).includes('Your request to join was sent'), 'the request was sent');
  await shot(dave, 'dave-asked-to-join');

  // The admin approves the request, then makes them an editor.
  await alice.goto(orgUrl);
  await shot(alice, 'alice-join-request');
  await go(alice, `form[action="/account/orgs/${oid}/people/${DAVE}"] button`);
  expect((await text(alice)).includes('The role was changed'), 'approved');
  await alice.select(`#role-${DAVE}`, 'editor');
  await go(alice, `form[action="/account/orgs/${oid}/people/${DAVE}"]:has(select) button[type=submit]`);
  expect((await alice.$eval(`#role-${DAVE}`, (s) => s.value)) === 'editor', 'dave is an editor');
  await shot(alice, 'alice-changed-the-role');

  // A key bound to this sign-in; its secret is on this page only.
  await go(alice, 'a[href="/account/api-keys"]');
  await fill(alice, { name: 'journey gateway' });
  await go(alice, 'main form[action="/account/api-keys"] button[type=submit]');
  const key = await alice.$eval('.secret', (p) => p.textContent.trim());
  await shot(alice, 'alice-api-key-created');

  const cookies = await alice.cookies(SITE);
  const session = cookies.find((c) => c.name === '__Host-ryd-session');
  expect(session, `the browser kept the session cookie on ${SITE}: ${JSON.stringify(cookies)}`);
  expect(session.httpOnly && session.secure && session.sameSite === 'Lax' && session.path === '/', `cookie attributes: ${JSON.stringify(session)}`);
  await checkpoint('signed-in', { cookie: `${session.name}=${session.value}`, key, user: ALICE });

  // Alice signs out at the Identity Service itself: it calls the console's back-channel
  // endpoint, and the console's session (and the key bound to it) ends.
  await alice.goto(`${ISSUER}/session/end`);
  await shot(alice, 'alice-provider-sign-out');
  await go(alice, 'button[name=logout][value=yes]');
  await shot(alice, 'alice-signed-out-at-provider');
  await checkpoint('signed-out-at-provider');
  await alice.goto(`${SITE}/account`);
  expect((await text(alice)).includes('Sign in'), 'the console asks to sign in again');
  await shot(alice, 'alice-console-asks-to-sign-in');

  // Dave signs out from the console: the provider confirms and sends him back.
  await dave.goto(`${SITE}/account`);
  await go(dave, 'form.signout button');
  expect(dave.url().startsWith(ISSUER), `at the provider's sign-out: ${dave.url()}`);
  await shot(dave, 'dave-provider-sign-out');
  await go(dave, 'button[name=logout][value=yes]');
  expect(dave.url() === `${SITE}/account`, `back at the console: ${dave.url()}`);
  expect((await text(dave)).includes('Sign in'), 'signed out');
  await shot(dave, 'dave-signed-out');
  await checkpoint('done', { shots: shot.count() });
} finally {
  await browser.close();
  lines.close();
}
