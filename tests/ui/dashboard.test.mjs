// Browser test of the admin dashboard served at /_/: drives Debian's Chromium through
// playwright-core against a fresh oxbase server.
//
// Env:
//   OXBASE_BIN      path to the oxbase binary (default: <repo>/target/debug/oxbase)
//   CHROMIUM_BIN    path to Chromium (default: /usr/bin/chromium)
//   SCREENSHOT_DIR  where screenshots go (default: tests/ui/screenshots)
//   UI_KEEP_DATA=1  keeps the temp data dir
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const BIN = process.env.OXBASE_BIN || join(REPO, 'target', 'debug', 'oxbase');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR || join(HERE, 'screenshots');
const EMAIL = 'admin@example.com';
const PASSWORD = '1234567890abc';
const STARTUP_TIMEOUT_MS = 15_000;

let server; // {child, url, root, logs}
let browser;
let page;
let token;
const pageErrors = [];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startServer() {
  if (!existsSync(BIN)) throw new Error(`oxbase binary not found at ${BIN} (cargo build --bin oxbase, or set OXBASE_BIN)`);
  const root = mkdtempSync(join(tmpdir(), 'oxbase-ui-'));
  const dir = join(root, 'data');
  execFileSync(BIN, ['superuser', 'upsert', EMAIL, PASSWORD, '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    // Port 0: the banner names the port the server got, so no port is guessed.
    let url = null;
    const child = spawn(BIN, ['serve', '--http', '127.0.0.1:0', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const logs = [];
    child.stdout.on('data', (d) => logs.push(String(d)));
    child.stderr.on('data', (d) => logs.push(String(d)));
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      url ??= /Server started at (http:\/\/[0-9.]+:\d+)/.exec(logs.join(''))?.[1] ?? null;
      if (!url) {
        await sleep(20);
        continue;
      }
      try {
        const r = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1000) });
        if (r.ok) return { child, url, root, logs };
        lastErr = new Error(`health status ${r.status}`);
      } catch (e) {
        lastErr = e;
      }
      await sleep(100);
    }
    child.kill('SIGKILL');
    lastErr = new Error(`server not healthy (attempt ${attempt + 1}): ${lastErr?.message}\n${logs.join('')}`);
  }
  throw lastErr;
}

/** Direct API call (to check what the dashboard did). */
async function api(path, { method = 'GET', body } = {}) {
  const r = await fetch(server.url + path, {
    method,
    headers: { Authorization: token, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

async function shot(name) {
  mkdirSync(SHOTS, { recursive: true });
  const file = join(SHOTS, `${name}.png`);
  // Toasts are transient; keep them out of the pictures.
  await page.evaluate(() => document.querySelector('.toasts')?.replaceChildren()).catch(() => {});
  await page.screenshot({ path: file, animations: 'disabled' });
  return file;
}

const rowTexts = () => page.locator('tr.record-row td[data-field="title"]').allInnerTexts();

before(async () => {
  server = await startServer();
  const auth = await fetch(`${server.url}/api/collections/_superusers/auth-with-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity: EMAIL, password: PASSWORD }),
  });
  token = (await auth.json()).token;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 30_000,
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && !/status of 4\d\d/.test(m.text()) && pageErrors.push(m.text()));
});

after(async () => {
  await browser?.close().catch(() => {});
  if (server) {
    server.child.kill('SIGTERM');
    await sleep(200);
    server.child.kill('SIGKILL');
    if (!process.env.UI_KEEP_DATA) rmSync(server.root, { recursive: true, force: true });
  }
});

test('dashboard: login, collection, record CRUD, filter, sort, settings, logout', { timeout: 180_000 }, async (t0) => {
  // The steps build on each other: once one fails, the rest are skipped.
  let failed = false;
  const t = {
    test: (name, fn) =>
      t0.test(name, { skip: failed && 'an earlier step failed' }, async () => {
        try {
          await fn();
        } catch (e) {
          failed = true;
          await shot(`failure-${name.replace(/\W+/g, '-')}`).catch(() => {});
          throw e;
        }
      }),
  };
  await t.test('login screen and wrong password', async () => {
    await page.goto(`${server.url}/_/`);
    await page.locator('#login-email').fill(EMAIL);
    await page.locator('#login-password').fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid email or password.' }).waitFor();
    await shot('01-login');
  });

  await t.test('log in as superuser, session survives a reload', async () => {
    await page.locator('#login-password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('nav.sidebar').waitFor();
    // users is a non-system collection: listed; _superusers is grouped under System.
    await page.locator('.sidebar-list > a.collection-link[data-collection="users"]').waitFor();
    assert.equal(await page.locator('.sidebar-system a[data-collection="_superusers"]').count(), 1);
    const stored = await page.evaluate(() => localStorage.getItem('__pb_superuser_auth__'));
    assert.ok(stored && JSON.parse(stored).token, 'token stored in localStorage');
    await page.reload();
    await page.locator('nav.sidebar').waitFor();
    assert.equal(await page.locator('#login-email').count(), 0, 'still logged in after reload');
  });

  await t.test('create a collection with two fields', async () => {
    await page.getByRole('button', { name: '+ New collection' }).first().click();
    await page.locator('#collection-name').fill('ui_posts');
    // Fields: id, created, updated come by default; new fields go before created/updated.
    await page.locator('#new-field-type').selectOption('text');
    await page.locator('#add-field').click();
    const title = page.locator('.field-card').nth(1);
    await title.locator('input.field-name').fill('title');
    await title.locator('label.check', { hasText: 'Required' }).locator('input').check();
    await page.locator('#new-field-type').selectOption('number');
    await page.locator('#add-field').click();
    await page.locator('.field-card').nth(2).locator('input.field-name').fill('views');
    // API rules: list and view open to everyone.
    await page.locator('button.tab[data-tab="rules"]').click();
    await page.locator('.rule[data-rule="listRule"] input[type=checkbox]').uncheck();
    await page.locator('.rule[data-rule="viewRule"] input[type=checkbox]').uncheck();
    await page.locator('.rule[data-rule="viewRule"] textarea').fill('title != ""');
    await shot('02-collection-editor-rules');
    await page.locator('button.tab[data-tab="fields"]').click();
    await shot('03-collection-editor-fields');
    await page.locator('#collection-save').click();
    await page.waitForURL(/#\/collections\/ui_posts$/);
    await page.locator('.page-title h1', { hasText: 'ui_posts' }).waitFor();
    await page.locator('td.empty-row', { hasText: 'No records yet.' }).waitFor();

    const { status, json } = await api('/api/collections/ui_posts');
    assert.equal(status, 200);
    const byName = Object.fromEntries(json.fields.map((f) => [f.name, f]));
    assert.equal(byName.title?.type, 'text');
    assert.equal(byName.title?.required, true);
    assert.equal(byName.views?.type, 'number');
    assert.equal(json.listRule, '');
    assert.equal(json.viewRule, 'title != ""');
    assert.equal(json.createRule, null);
  });

  await t.test('collection validation errors are shown in the editor', async () => {
    await page.getByRole('button', { name: '+ New collection' }).first().click();
    await page.locator('#collection-name').fill('ui_posts'); // duplicate name
    await page.locator('#collection-save').click();
    await page.locator('[data-error-for="name"]:not([hidden])').waitFor();
    await page.locator('.panel .form-error:not([hidden])').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('.panel').waitFor({ state: 'detached' });
  });

  await t.test('record form shows field errors from the API', async () => {
    await page.locator('#new-record').click();
    await page.locator('#record-form [name="views"]').fill('3');
    await page.locator('#record-save').click();
    const err = page.locator('#record-form [data-error-for="title"]');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.innerText(), /blank|required/i);
    await shot('04-record-form-error');
  });

  await t.test('create records through the form and see them in the table', async () => {
    await page.locator('#record-form [name="title"]').fill('Hello oxbase');
    await page.locator('#record-form [name="views"]').fill('42');
    await page.locator('#record-save').click();
    await page.locator('.panel').waitFor({ state: 'detached' });
    await page.locator('td[data-field="title"]', { hasText: 'Hello oxbase' }).waitFor();

    await page.locator('#new-record').click();
    await page.locator('#record-form [name="title"]').fill('Second post');
    await page.locator('#record-form [name="views"]').fill('7');
    await page.locator('#record-save').click();
    await page.locator('.panel').waitFor({ state: 'detached' });
    await page.locator('td[data-field="title"]', { hasText: 'Second post' }).waitFor();
    assert.equal(await page.locator('tr.record-row').count(), 2);

    const { json } = await api('/api/collections/ui_posts/records?sort=views');
    assert.deepEqual(json.items.map((r) => [r.title, r.views]), [['Second post', 7], ['Hello oxbase', 42]]);
    await shot('05-records-table');
  });

  await t.test('sort by clicking a column header', async () => {
    await page.locator('th button[data-sort="views"]').click();
    await page.locator('th[aria-sort="ascending"] button[data-sort="views"]').waitFor();
    await page.waitForFunction(() => document.querySelector('tr.record-row td[data-field="title"]')?.innerText === 'Second post');
    assert.deepEqual(await rowTexts(), ['Second post', 'Hello oxbase']);
    await page.locator('th button[data-sort="views"]').click();
    await page.locator('th[aria-sort="descending"] button[data-sort="views"]').waitFor();
    await page.waitForFunction(() => document.querySelector('tr.record-row td[data-field="title"]')?.innerText === 'Hello oxbase');
    assert.deepEqual(await rowTexts(), ['Hello oxbase', 'Second post']);
  });

  await t.test('filter records; invalid filters show the API error inline', async () => {
    await page.locator('#records-filter').fill('title ~ "Hello"');
    await page.locator('#records-filter').press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('tr.record-row').length === 1);
    assert.deepEqual(await rowTexts(), ['Hello oxbase']);

    await page.locator('#records-filter').fill('views > 10 && nosuchfield = 1');
    await page.locator('#records-filter').press('Enter');
    const err = page.locator('.filter-error');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.innerText(), /filter/i);
    await shot('06-filter-error');

    // A plain search term searches the text fields.
    await page.locator('#records-filter').fill('second');
    await page.locator('#records-filter').press('Enter');
    await err.waitFor({ state: 'hidden' });
    await page.waitForFunction(() => document.querySelectorAll('tr.record-row').length === 1);
    assert.deepEqual(await rowTexts(), ['Second post']);

    await page.locator('#filter-clear').click();
    await page.waitForFunction(() => document.querySelectorAll('tr.record-row').length === 2);
  });

  await t.test('edit a record', async () => {
    await page.locator('tr.record-row', { hasText: 'Hello oxbase' }).click();
    const title = page.locator('#record-form [name="title"]');
    assert.equal(await title.inputValue(), 'Hello oxbase');
    assert.equal(await page.locator('#record-form [name="views"]').inputValue(), '42');
    await shot('07-record-edit');
    await title.fill('Hello edited');
    await page.locator('#record-form [name="views"]').fill('43');
    await page.locator('#record-save').click();
    await page.locator('.panel').waitFor({ state: 'detached' });
    await page.locator('td[data-field="title"]', { hasText: 'Hello edited' }).waitFor();
    const { json } = await api(`/api/collections/ui_posts/records?filter=${encodeURIComponent('title="Hello edited"')}`);
    assert.equal(json.totalItems, 1);
    assert.equal(json.items[0].views, 43);
  });

  await t.test('delete a record with confirmation', async () => {
    await page.locator('tr.record-row', { hasText: 'Hello edited' }).click();
    await page.locator('#record-delete').click();
    // Cancelling keeps it.
    await page.locator('.modal').getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.modal').waitFor({ state: 'detached' });
    await page.locator('#record-delete').click();
    await shot('08-delete-confirm');
    await page.locator('.modal').getByRole('button', { name: 'Delete' }).click();
    await page.locator('.panel').waitFor({ state: 'detached' });
    await page.waitForFunction(() => document.querySelectorAll('tr.record-row').length === 1);
    assert.deepEqual(await rowTexts(), ['Second post']);
    const { json } = await api('/api/collections/ui_posts/records');
    assert.equal(json.totalItems, 1);
  });

  await t.test('settings: app name and URL', async () => {
    await page.locator('#nav-settings').click();
    const name = page.locator('.settings-form [name="appName"]');
    await name.waitFor();
    await name.fill('UI Test App');
    await page.locator('.settings-form [name="appURL"]').fill('http://127.0.0.1:9999');
    await page.locator('#settings-save').click();
    await page.locator('.toast', { hasText: 'Settings saved.' }).waitFor();
    await shot('09-settings');
    const { json } = await api('/api/settings');
    assert.equal(json.meta.appName, 'UI Test App');
    assert.equal(json.meta.appURL, 'http://127.0.0.1:9999');
  });

  await t.test('truncate and delete the collection', async () => {
    await page.locator('a.collection-link[data-collection="ui_posts"]').click();
    await page.locator('#edit-collection').click();
    await page.locator('#collection-truncate').click();
    await page.locator('.modal').getByRole('button', { name: 'Truncate' }).click();
    await page.locator('td.empty-row').waitFor();
    assert.equal((await api('/api/collections/ui_posts/records')).json.totalItems, 0);

    await page.locator('#edit-collection').click();
    await page.locator('#collection-delete').click();
    await page.locator('.modal').getByRole('button', { name: 'Delete collection' }).click();
    await page.locator('a.collection-link[data-collection="ui_posts"]').waitFor({ state: 'detached' });
    assert.equal((await api('/api/collections/ui_posts')).status, 404);
  });

  await t.test('log out', async () => {
    await page.locator('#logout').click();
    await page.locator('#login-email').waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('__pb_superuser_auth__')), null);
  });

  await t.test('no JavaScript errors in the page', async () => {
    assert.deepEqual(pageErrors, []);
  });
});

test('dashboard: form inputs for bool, date, select, json, email, url and auth passwords', { timeout: 120_000 }, async () => {
  const created = await api('/api/collections', {
    method: 'POST',
    body: {
      name: 'ui_kitchen',
      type: 'base',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'done', type: 'bool' },
        { name: 'due', type: 'date' },
        { name: 'status', type: 'select', values: ['draft', 'published'], maxSelect: 1 },
        { name: 'tags', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
        { name: 'meta', type: 'json' },
        { name: 'body', type: 'editor' },
        { name: 'site', type: 'url' },
        { name: 'contact', type: 'email' },
      ],
    },
  });
  assert.equal(created.status, 200, JSON.stringify(created.json));

  await page.goto(`${server.url}/_/#/collections/ui_kitchen`);
  if (await page.locator('#login-email').isVisible().catch(() => false)) {
    await page.locator('#login-email').fill(EMAIL);
    await page.locator('#login-password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
  }
  await page.locator('.page-title h1', { hasText: 'ui_kitchen' }).waitFor();
  await page.locator('#new-record').click();
  const form = page.locator('#record-form');
  await form.locator('[name="title"]').fill('Kitchen sink');
  await form.locator('[name="done"]').check();
  await form.locator('[name="due"]').fill('2025-03-04T05:06:07');
  await form.locator('[name="status"]').selectOption('published');
  await form.locator('[data-field="tags"] label.choice', { hasText: 'b' }).locator('input').check();
  await form.locator('[data-field="tags"] label.choice', { hasText: 'c' }).locator('input').check();
  await form.locator('[name="body"]').fill('<p>Hello</p>');
  await form.locator('[name="site"]').fill('not a url');
  await form.locator('[name="contact"]').fill('x@example.com');
  // Invalid JSON is caught before sending.
  await form.locator('[name="meta"]').fill('{oops');
  await page.locator('#record-save').click();
  await form.locator('[data-error-for="meta"]', { hasText: 'Invalid JSON.' }).waitFor();
  await form.locator('[name="meta"]').fill('{"a": [1, 2]}');
  // The API's field error is shown next to the url input.
  await page.locator('#record-save').click();
  await form.locator('[data-error-for="site"]:not([hidden])').waitFor();
  await shot('10-kitchen-form-error');
  await form.locator('[name="site"]').fill('https://example.com');
  await page.locator('#record-save').click();
  await page.locator('.panel').waitFor({ state: 'detached' });
  await page.locator('td[data-field="title"]', { hasText: 'Kitchen sink' }).waitFor();
  await shot('11-kitchen-table');

  const { json } = await api('/api/collections/ui_kitchen/records');
  assert.equal(json.totalItems, 1);
  const r = json.items[0];
  assert.equal(r.done, true);
  assert.equal(r.due, '2025-03-04 05:06:07.000Z');
  assert.equal(r.status, 'published');
  assert.deepEqual(r.tags, ['b', 'c']);
  assert.deepEqual(r.meta, { a: [1, 2] });
  assert.equal(r.body, '<p>Hello</p>');
  assert.equal(r.site, 'https://example.com');
  assert.equal(r.contact, 'x@example.com');

  // The edit form shows the stored values.
  await page.locator('tr.record-row').first().click();
  assert.equal(await form.locator('[name="due"]').inputValue(), '2025-03-04T05:06:07');
  assert.equal(await form.locator('[name="done"]').isChecked(), true);
  assert.equal(await form.locator('[name="status"]').inputValue(), 'published');
  await page.keyboard.press('Escape');
  await page.locator('.panel').waitFor({ state: 'detached' });

  // Auth collection: password and confirmation.
  await page.locator('a.collection-link[data-collection="users"]').click();
  await page.locator('#new-record').click();
  await form.locator('[name="email"]').fill('someone@example.com');
  await form.locator('[name="password"]').fill('longpassword1');
  await form.locator('[name="passwordConfirm"]').fill('different123');
  await page.locator('#record-save').click();
  await form.locator('[data-error-for="passwordConfirm"]:not([hidden])').waitFor();
  await form.locator('[name="passwordConfirm"]').fill('longpassword1');
  await page.locator('#record-save').click();
  await page.locator('.panel').waitFor({ state: 'detached' });
  await page.locator('td[data-field="email"]', { hasText: 'someone@example.com' }).waitFor();
  const login = await fetch(`${server.url}/api/collections/users/auth-with-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity: 'someone@example.com', password: 'longpassword1' }),
  });
  assert.equal(login.status, 200, 'the user created in the dashboard can log in');
  assert.deepEqual(pageErrors, []);
});
