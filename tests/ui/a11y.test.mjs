// Accessibility scan of each main screen of the dashboard with axe-core (npm, injected into
// the page): no serious or critical violations. Env: see harness.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer, superuserApi, screenshot, launchBrowser, loginIfNeeded, axeViolations } from './harness.mjs';


let server;
let api;
let browser;
let page;

before(async () => {
  server = await startServer();
  ({ api } = await superuserApi(server));
  const r = await api('/api/collections', {
    method: 'POST',
    body: { name: 'a11y_posts', type: 'base', listRule: '', fields: [{ name: 'title', type: 'text', required: true }, { name: 'done', type: 'bool' }, { name: 'photo', type: 'file' }] },
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  await api('/api/collections/a11y_posts/records', { method: 'POST', body: { title: 'Hello' } });
  browser = await launchBrowser();
  // Reduced motion: no panel half faded in while axe measures contrast.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopServer(server);
});

/** The serious and critical violations on the page as it is now (a screenshot when any). */
async function scan(name, p = page) {
  const violations = await axeViolations(p);
  if (violations.length) await screenshot(p, `a11y-${name}`);
  return violations;
}

/** Scans of `p` collected by name (`prefix` prepended to the screenshots' names). */
function scanner(p = page, prefix = '') {
  const found = {};
  const check = async (name) => {
    const v = await scan(`${prefix}${name}`, p);
    if (v.length) found[name] = v;
  };
  return { found, check };
}

/** Each settings `section` on `p`, its groups open, scanned. */
async function checkSettings(p, check, sections) {
  for (const section of sections) {
    await p.goto(`${server.url}/_/#/settings/${section}`);
    await p.locator(`.settings-body[data-section="${section}"] .card`).first().waitFor();
    await p.evaluate(() => document.querySelectorAll('.settings-body details').forEach((d) => (d.open = true)));
    await check(`settings-${section}`);
  }
}

test('axe-core: no serious or critical violations on the main screens', { timeout: 180_000 }, async () => {
  const { found, check } = scanner();
  await page.goto(`${server.url}/_/`);
  await page.locator('#login-email').waitFor();
  await check('login');
  await page.locator('#login-forgot').click();
  await page.locator('#reset-email').waitFor();
  await check('reset-request');
  await page.locator('#reset-back').click();
  // A reset link's page (a token naming a collection; it is only checked when sent).
  const claims = Buffer.from(JSON.stringify({ collectionId: 'pbc_3142635823' })).toString('base64url');
  await page.goto(`${server.url}/_/#/auth/confirm-password-reset/x.${claims}.y`);
  await page.locator('#reset-password').waitFor();
  await check('reset-confirm');
  await page.goto(`${server.url}/_/`);
  await page.locator('#login-email').waitFor();
  await loginIfNeeded(page);

  await page.goto(`${server.url}/_/#/collections/a11y_posts`);
  await page.locator('tr.record-row').first().waitFor();
  await check('records');
  await page.locator('tr.record-row').first().click();
  await page.locator('#record-form').waitFor();
  await check('record-panel');
  await page.keyboard.press('Escape');
  await page.locator('.panel').waitFor({ state: 'detached' });

  await page.locator('#edit-collection').click();
  for (const tab of ['fields', 'rules', 'indexes']) {
    await page.locator(`button.tab[data-tab="${tab}"]`).click();
    await check(`collection-editor-${tab}`);
  }
  await page.keyboard.press('Escape');
  await page.locator('.panel').waitFor({ state: 'detached' });
  await page.goto(`${server.url}/_/#/collections/users`);
  await page.locator('#edit-collection').click();
  await page.locator('button.tab[data-tab="options"]').click();
  await page.locator('.auth-options').waitFor();
  await page.evaluate(() => document.querySelectorAll('.auth-options details').forEach((d) => (d.open = true)));
  await check('auth-options');
  await page.keyboard.press('Escape');
  await page.locator('.panel').waitFor({ state: 'detached' });

  await checkSettings(page, check, ['application', 'mail', 'storage', 'backups', 'crons', 'webhooks', 'sql', 'export-collections', 'import-collections']);
  await page.goto(`${server.url}/_/#/logs`);
  await page.locator('#logs-chart canvas').waitFor();
  await page.locator('.log-row').first().waitFor();
  await check('logs');
  await page.goto(`${server.url}/_/#/metrics`);
  await page.getByText('Metrics are off.').waitFor();
  await check('metrics');
  assert.deepEqual(found, {}, JSON.stringify(found, null, 2));
});

test('axe-core: the records screen with a selection, the column chooser, the bulk confirmation, and the JSON, geoPoint and rich-text editors', { timeout: 120_000 }, async () => {
  const r = await api('/api/collections', {
    method: 'POST',
    body: { name: 'a11y_editors', type: 'base', fields: [{ name: 'title', type: 'text' }, { name: 'data', type: 'json' }, { name: 'place', type: 'geoPoint' }, { name: 'body', type: 'editor' }] },
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  await api('/api/collections/a11y_editors/records', { method: 'POST', body: { title: 'One', data: { a: 1 }, place: { lon: 1, lat: 2 }, body: '<p>Hi <b>there</b></p>' } });
  const { found, check } = scanner();
  await page.goto(`${server.url}/_/#/collections/a11y_editors`);
  await loginIfNeeded(page);
  await page.locator('tr.record-row').first().waitFor();
  await page.locator('tr.record-row input.select-row').first().check();
  await page.locator('#columns-toggle').click();
  await check('records-selection-columns');
  await page.locator('#columns-toggle').click();
  await page.locator('#bulk-delete').click();
  await page.locator('.modal').waitFor();
  await check('bulk-delete-confirm');
  await page.keyboard.press('Escape');
  await page.locator('.modal').waitFor({ state: 'detached' });
  await page.locator('tr.record-row td[data-field="title"]').first().click();
  await page.locator('.panel [data-rte="body"]').waitFor();
  await page.locator('.panel [name="data"]').fill('{oops');
  await page.locator('.panel [name="place.lat"]').fill('100');
  await check('record-panel-editors');
  await page.keyboard.press('Escape');
  await page.locator('.panel').waitFor({ state: 'detached' });
  assert.deepEqual(found, {}, JSON.stringify(found, null, 2));
});

test('axe-core: no serious or critical violations in the phone layout (390 × 844), its menu open and closed', { timeout: 120_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, reducedMotion: 'reduce' });
  context.setDefaultTimeout(10_000);
  const p = await context.newPage();
  const { found, check } = scanner(p, 'phone-');
  try {
    await p.goto(`${server.url}/_/`);
    await p.locator('#login-email').waitFor();
    await check('login');
    await loginIfNeeded(p);
    await p.goto(`${server.url}/_/#/collections/a11y_posts`);
    await p.locator('tr.record-row').first().waitFor();
    await check('records');
    // The sidebar is a drawer on a phone: scanned open.
    await p.locator('#sidebar-toggle').click();
    await p.waitForFunction(() => document.querySelector('nav.sidebar').getBoundingClientRect().left >= 0);
    await check('menu');
    await p.locator('nav.sidebar a.collection-link[data-collection="a11y_posts"]').click();
    await p.waitForFunction(() => getComputedStyle(document.querySelector('nav.sidebar')).visibility === 'hidden');
    await p.locator('tr.record-row').first().click();
    await p.locator('#record-form').waitFor();
    await check('record-panel');
    await p.keyboard.press('Escape');
    await p.locator('.panel').waitFor({ state: 'detached' });
    await checkSettings(p, check, ['application', 'backups', 'sql']);
    await p.goto(`${server.url}/_/#/logs`);
    await p.locator('#logs-chart canvas').waitFor();
    await check('logs');
  } finally {
    await context.close();
  }
  assert.deepEqual(found, {}, JSON.stringify(found, null, 2));
});
