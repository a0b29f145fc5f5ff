// Browser test of the collection editor's API rules (highlighting, completion, the server's
// check on blur) and indexes (by column, as raw SQL), each then proven over the API; with axe
// scans of both tabs. Env: see harness.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer, superuserApi, screenshot, launchBrowser, loginIfNeeded, axeViolations } from './harness.mjs';

const VALIDATE = '/api/collections/meta/validate';

let server;
let api;
let browser;
let page;
const pageErrors = [];
const violations = {};

before(async () => {
  server = await startServer();
  ({ api } = await superuserApi(server));
  const r = await api('/api/collections', {
    method: 'POST',
    body: { name: 'ce_posts', type: 'base', fields: [{ name: 'title', type: 'text' }, { name: 'status', type: 'select', values: ['draft', 'published'], maxSelect: 1 }] },
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  for (const body of [{ title: 'Hello', status: 'published' }, { title: 'Secret', status: 'draft' }]) {
    assert.equal((await api('/api/collections/ce_posts/records', { method: 'POST', body })).status, 200);
  }
  browser = await launchBrowser();
  // Reduced motion: no panel half faded in while axe measures contrast.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && !/status of 4\d\d/.test(m.text()) && pageErrors.push(m.text()));
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopServer(server);
});

/** Records the serious and critical axe violations of the page as it is now under `name`. */
async function scan(name) {
  const found = await axeViolations(page);
  if (found.length) {
    violations[name] = found;
    await screenshot(page, `a11y-${name}`);
  }
}

async function openEditor(tab) {
  await page.goto(`${server.url}/_/#/collections/ce_posts`);
  await loginIfNeeded(page);
  if (await page.locator('.panel').count()) await page.keyboard.press('Escape'); // left open by a failed test
  await page.locator('#edit-collection').click();
  await page.locator(`button.tab[data-tab="${tab}"]`).click();
}

const rule = (name) => page.locator(`.rule[data-rule="${name}"]`);
/** The suggestion whose label is exactly `label`. */
const option = (row, label) => row.locator('[role=option]', { has: page.locator('.suggestion-label', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });
const activeLabel = async (input) => page.locator(`[id="${await input.getAttribute('aria-activedescendant')}"] .suggestion-label`).innerText();
const checked = () => page.waitForResponse((r) => r.url().endsWith(VALIDATE));

test('the server has the collection check the editor uses', async () => {
  const r = await fetch(`${server.url}${VALIDATE}`, { method: 'POST' });
  assert.notEqual(r.status, 404, `${VALIDATE} is missing: an oxbase binary without it?`);
});

test('rules: completion by keyboard, highlighting, the server check on blur, then enforced', { timeout: 120_000 }, async () => {
  await openEditor('rules');
  const list = rule('listRule');
  const input = list.locator('textarea');
  await input.waitFor(); // the rule input is loaded with the tab
  await list.locator('input[type=checkbox]').uncheck();
  await page.waitForFunction(() => document.activeElement?.name === 'listRule');

  // A partial field name opens the suggestions; Enter takes the active one.
  await page.keyboard.type('sta');
  const listbox = list.getByRole('listbox');
  await listbox.waitFor();
  assert.equal(await input.getAttribute('role'), 'combobox');
  assert.equal(await input.getAttribute('aria-expanded'), 'true');
  assert.equal(await input.getAttribute('aria-controls'), await listbox.getAttribute('id'));
  assert.equal(await activeLabel(input), 'status');
  await scan('rules-completion');
  await screenshot(page, 'ce-01-rules-completion');
  await page.keyboard.press('Enter');
  await listbox.waitFor({ state: 'detached' });
  assert.equal(await input.inputValue(), 'status');
  assert.equal(await input.getAttribute('aria-expanded'), 'false');

  // Highlighted as typed.
  await page.keyboard.type(' = "published" && nosuch = 1');
  const tokens = await list.locator('pre.rule-highlight .tok').evaluateAll((els) => els.map((e) => [e.className.replace('tok tok-', ''), e.textContent]));
  assert.deepEqual(tokens, [['field', 'status'], ['op', '='], ['string', '"published"'], ['join', '&&'], ['field', 'nosuch'], ['op', '='], ['number', '1']]);
  assert.equal(await list.locator('pre.rule-highlight').getAttribute('aria-hidden'), 'true');

  // Leaving the rule asks the server, which knows no field "nosuch": its message, before any save.
  let answer = checked();
  await page.keyboard.press('Tab');
  assert.equal((await answer).status(), 400);
  const error = list.locator('.field-error');
  await error.waitFor();
  assert.match(await error.innerText(), /nosuch/);
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'ce-02-rule-error');
  assert.equal((await api('/api/collections/ce_posts')).json.listRule, null, 'nothing saved yet');

  // Fixed: the message goes with the edit, and the server agrees on the next blur.
  await input.focus();
  await page.keyboard.press('Control+End');
  for (let i = 0; i < ' && nosuch = 1'.length; i++) await page.keyboard.press('Backspace');
  await error.waitFor({ state: 'detached' });
  answer = checked();
  await page.keyboard.press('Tab');
  assert.equal((await answer).status(), 204);
  assert.equal(await error.count(), 0);

  // A click takes a suggestion too.
  const view = rule('viewRule');
  await view.locator('input[type=checkbox]').uncheck();
  await page.waitForFunction(() => document.activeElement?.name === 'viewRule');
  await page.keyboard.type('@request.auth.i');
  await option(view, '@request.auth.id').click();
  assert.equal(await view.locator('textarea').inputValue(), '@request.auth.id');
  await page.keyboard.type(' != ""');

  // A container ("@request.") goes on with what follows it; Escape closes the list, not the panel;
  // Ctrl+Space opens it again.
  const create = rule('createRule');
  const createInput = create.locator('textarea');
  await create.locator('input[type=checkbox]').uncheck();
  await page.waitForFunction(() => document.activeElement?.name === 'createRule');
  await page.keyboard.type('@req');
  assert.equal(await activeLabel(createInput), '@request.');
  await page.keyboard.press('Enter');
  assert.equal(await createInput.inputValue(), '@request.');
  assert.equal(await activeLabel(createInput), '@request.auth.');
  await page.keyboard.press('ArrowDown');
  assert.equal(await activeLabel(createInput), '@request.body.');
  await page.keyboard.press('Tab');
  assert.equal(await createInput.inputValue(), '@request.body.');
  await page.keyboard.type('tit');
  assert.equal(await activeLabel(createInput), '@request.body.title');
  await page.keyboard.press('Tab');
  await page.keyboard.type(':');
  assert.deepEqual(await create.locator('.suggestion-label').allInnerTexts(), ['@request.body.title:isset', '@request.body.title:changed', '@request.body.title:lower']);
  await page.keyboard.press('ArrowUp'); // wraps to the last
  assert.equal(await activeLabel(createInput), '@request.body.title:lower');
  await page.keyboard.press('Escape');
  await create.getByRole('listbox').waitFor({ state: 'detached' });
  assert.equal(await page.locator('.panel').count(), 1, 'Escape closed only the suggestions');
  await page.keyboard.press('Control+Space');
  await create.getByRole('listbox').waitFor();
  await page.keyboard.press('Enter');
  assert.equal(await createInput.inputValue(), '@request.body.title:isset');
  await create.locator('input[type=checkbox]').check(); // back to superusers only
  await screenshot(page, 'ce-03-rules');

  await page.locator('#collection-save').click();
  await page.locator('.panel').waitFor({ state: 'detached' });
  const saved = (await api('/api/collections/ce_posts')).json;
  assert.equal(saved.listRule, 'status = "published"');
  assert.equal(saved.viewRule, '@request.auth.id != ""');
  assert.equal(saved.createRule, null);

  // The rule holds for a guest: only the published record is listed.
  const guest = await (await fetch(`${server.url}/api/collections/ce_posts/records`)).json();
  assert.deepEqual(guest.items.map((r) => r.title), ['Hello']);
  assert.deepEqual(violations, {}, JSON.stringify(violations, null, 2));
  assert.deepEqual(pageErrors, []);
});

test('indexes: by column with Unique, then as raw SQL; errors at their row; enforced over the API', { timeout: 120_000 }, async () => {
  await openEditor('indexes');
  await page.locator('.index-empty').waitFor();
  await page.locator('#index-new').click();
  const form = page.locator('.index-form');
  // Escape leaves the form, not the editor.
  await form.waitFor();
  await page.keyboard.press('Escape');
  await form.waitFor({ state: 'detached' });
  assert.equal(await page.locator('.panel').count(), 1);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'index-new');

  await page.keyboard.press('Enter');
  await form.locator('input[name="index-column"][value="title"]').check();
  await form.locator('input[name="index-column"][value="status"]').check();
  await form.locator('input[name="index-unique"]').check();
  const name = await form.locator('input[name="index-name"]').inputValue();
  assert.match(name, /^idx_[a-z0-9]{10}$/);
  const statement = `CREATE UNIQUE INDEX \`${name}\` ON \`ce_posts\` (\`title\`, \`status\`)`;
  assert.equal(await form.locator('.index-preview').innerText(), statement);
  assert.deepEqual(await form.locator('.index-pos').allInnerTexts(), ['#1', '#2']);
  await scan('indexes-form');
  await screenshot(page, 'ce-04-index-form');
  await page.locator('#index-apply').click();
  const first = page.locator('.index-row[data-index="0"]');
  assert.equal(await first.locator('.index-name').innerText(), name);
  assert.equal(await first.locator('.badge').innerText(), 'UNIQUE');
  assert.deepEqual(await first.locator('.index-columns .chip').allInnerTexts(), ['title', 'status']);
  await page.locator('#collection-save').click();
  await page.locator('.panel').waitFor({ state: 'detached' });

  let saved = (await api('/api/collections/ce_posts')).json;
  assert.deepEqual(saved.indexes, [statement]);
  const dup = await api('/api/collections/ce_posts/records', { method: 'POST', body: { title: 'Hello', status: 'published' } });
  assert.equal(dup.status, 400, `a duplicate is refused: ${JSON.stringify(dup.json)}`);
  const other = await api('/api/collections/ce_posts/records', { method: 'POST', body: { title: 'Hello', status: 'draft' } });
  assert.equal(other.status, 200, JSON.stringify(other.json));

  // Raw SQL: the same statement, edited into a partial, non-unique index.
  await openEditor('indexes');
  await scan('indexes');
  await page.locator('.index-row[data-index="0"] .index-edit').click();
  assert.equal(await form.locator('[data-mode="columns"]').getAttribute('aria-pressed'), 'true');
  await form.locator('[data-mode="raw"]').click();
  const sql = form.locator('textarea[name="index-sql"]');
  assert.equal(await sql.inputValue(), statement);
  const partial = "CREATE INDEX `idx_ce_title` ON `ce_posts` (`title`) WHERE status != 'draft'";
  await sql.fill(partial);
  await scan('indexes-raw');
  await page.locator('#index-apply').click();
  assert.equal(await first.locator('.index-name').innerText(), 'idx_ce_title');
  assert.equal(await first.locator('.badge').count(), 0);
  assert.equal(await first.locator('.index-where').innerText(), "WHERE status != 'draft'");

  // An expression index: only raw SQL can hold it, and the server's error shows at its row.
  await page.locator('#index-new').click();
  await form.locator('[data-mode="raw"]').click();
  await form.locator('textarea[name="index-sql"]').fill('CREATE INDEX `idx_ce_lower` ON `ce_posts` (lower(title))');
  await page.locator('#index-apply').click();
  const second = page.locator('.index-row[data-index="1"]');
  assert.equal(await second.locator('.index-sql').innerText(), 'CREATE INDEX `idx_ce_lower` ON `ce_posts` (lower(title))');
  await second.locator('.index-edit').click();
  assert.equal(await form.locator('[data-mode="raw"]').getAttribute('aria-pressed'), 'true', 'opens as SQL');
  await form.locator('[data-mode="columns"]').click();
  await form.getByRole('alert').filter({ hasText: 'not a plain index of columns' }).waitFor();
  await form.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('#collection-save').click();
  const rowError = second.locator('.field-error');
  await rowError.waitFor();
  assert.match(await rowError.innerText(), /Invalid CREATE INDEX/i);
  assert.equal(await first.locator('.field-error').count(), 0);
  await screenshot(page, 'ce-05-index-error');
  await second.locator('.index-remove').click();
  await page.locator('#collection-save').click();
  await page.locator('.panel').waitFor({ state: 'detached' });

  saved = (await api('/api/collections/ce_posts')).json;
  assert.deepEqual(saved.indexes, [partial]);
  const again = await api('/api/collections/ce_posts/records', { method: 'POST', body: { title: 'Hello', status: 'published' } });
  assert.equal(again.status, 200, `no longer unique: ${JSON.stringify(again.json)}`);
  assert.deepEqual(violations, {}, JSON.stringify(violations, null, 2));
  assert.deepEqual(pageErrors, []);
});
