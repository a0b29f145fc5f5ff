// Browser test of the API preview panel (ui/js/components/api-preview*.js): what it shows for a
// base, an auth and a view collection, and that its examples work: the JS SDK examples of List
// and Create run under node with the SDK the dashboard ships, a curl example runs in a shell.
// Also: lazy loading, Copy (and its fallback), axe, the phone layout and the keyboard.
// Env: see harness.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, startServer, stopServer, superuserApi, screenshot, launchBrowser, loginIfNeeded, axeViolations } from './harness.mjs';

// The SDK the dashboard ships (ui/vendor, the version tests/sdk uses): the examples import it.
const SDK = pathToFileURL(join(REPO, 'ui', 'vendor', 'pocketbase.es.mjs')).href;
const READER = { email: 'reader@example.com', password: 'reader-password-1' };
const RECORD_ACTIONS = ['list', 'view', 'create', 'update', 'delete', 'realtime', 'batch'];

let server;
let api;
let browser;
let context;
let page;
let reader; // {id, token}
let seeded; // a record of api_posts
const pageErrors = [];

before(async () => {
  server = await startServer();
  ({ api } = await superuserApi(server));
  const user = await api('/api/collections/users/records', { method: 'POST', body: { ...READER, passwordConfirm: READER.password } });
  assert.equal(user.status, 200, JSON.stringify(user.json));
  const users = (await api('/api/collections/users')).json;
  const posts = await api('/api/collections', {
    method: 'POST',
    body: {
      name: 'api_posts',
      type: 'base',
      listRule: '',
      viewRule: '@request.auth.id != ""',
      createRule: '',
      updateRule: '@request.auth.id != ""',
      deleteRule: null,
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'views', type: 'number' },
        { name: 'done', type: 'bool' },
        { name: 'author', type: 'relation', collectionId: users.id, maxSelect: 1 },
        { name: 'photo', type: 'file', maxSelect: 1 },
        { name: 'tags', type: 'select', maxSelect: 3, values: ['news', 'tech', 'life'] },
        { name: 'secret', type: 'text', hidden: true },
        { name: 'created', type: 'autodate', onCreate: true },
        { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
      ],
    },
  });
  assert.equal(posts.status, 200, JSON.stringify(posts.json));
  const view = await api('/api/collections', { method: 'POST', body: { name: 'api_titles', type: 'view', listRule: '', viewRule: '', viewQuery: 'SELECT id, title FROM api_posts' } });
  assert.equal(view.status, 200, JSON.stringify(view.json));
  seeded = (await api('/api/collections/api_posts/records', { method: 'POST', body: { title: 'seeded', author: user.json.id } })).json;
  const signIn = await fetch(`${server.url}/api/collections/users/auth-with-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity: READER.email, password: READER.password }),
  });
  reader = { id: user.json.id, token: (await signIn.json()).token };

  browser = await launchBrowser();
  // Reduced motion: no panel half faded in while axe measures contrast.
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopServer(server);
});

// ---- helpers --------------------------------------------------------------------------

async function openPreview(p, collection) {
  await p.goto(`${server.url}/_/#/collections/${collection}`);
  await loginIfNeeded(p);
  await p.locator('.page-title h1', { hasText: collection }).waitFor();
  await p.locator('#api-preview').click();
  await p.locator('.api-preview').waitFor();
}

async function closePreview(p) {
  await p.keyboard.press('Escape');
  await p.locator('.panel').waitFor({ state: 'detached' });
}

async function showAction(p, id) {
  await p.locator(`.api-tab[data-action="${id}"]`).click();
  await p.locator(`.api-action[data-action="${id}"]`).waitFor();
}

const tabIds = (p) => p.locator('.api-tab').evaluateAll((els) => els.map((e) => e.dataset.action));
const example = (p, lang) => p.locator(`.api-code[data-lang="${lang}"] pre`).textContent();
const endpoints = (p) => p.locator('.api-action .api-endpoint').evaluateAll((els) => els.map((e) => `${e.querySelector('.api-method').textContent} ${e.querySelector('.api-path').textContent}`));
const rules = (p) => p.locator('.api-rules dd').allTextContents();
const statuses = (p) => p.locator('.api-response').evaluateAll((els) => els.map((e) => e.dataset.status));
const response = async (p, status) => JSON.parse(await p.locator(`.api-response[data-status="${status}"] pre`).textContent());

/** The rows of a parameter table: {name: [type, required?, description]}. */
function paramRows(p, kind) {
  return p.locator(`.api-params[data-kind="${kind}"] tbody tr`).evaluateAll((rows) =>
    Object.fromEntries(rows.map((r) => [r.dataset.param, [...r.cells].map((c) => c.textContent.trim())])),
  );
}

/** Runs a JS example under node, its `pocketbase` import pointing at the vendored SDK. */
function runNode(source) {
  assert.match(source, /^import PocketBase from 'pocketbase';/);
  const dir = mkdtempSync(join(tmpdir(), 'oxbase-api-preview-'));
  try {
    const file = join(dir, 'example.mjs');
    writeFileSync(file, source.replace(`from 'pocketbase'`, `from '${SDK}'`));
    return execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- tests ----------------------------------------------------------------------------

test('base collection: endpoints, rules, fields and answers; the List and Create examples run', { timeout: 120_000 }, async () => {
  // The module is not loaded until the panel is first opened.
  const loaded = [];
  page.on('request', (r) => /api-preview/.test(r.url()) && loaded.push(r.url()));
  await page.goto(`${server.url}/_/#/collections/api_posts`);
  await loginIfNeeded(page);
  await page.locator('tr.record-row').first().waitFor();
  assert.deepEqual(loaded, []);
  await page.locator('#api-preview').click();
  await page.locator('.api-preview').waitFor();
  assert.ok(loaded.some((u) => u.endsWith('/api-preview.js')), JSON.stringify(loaded));
  assert.equal(await page.locator('.panel-title').textContent(), 'API preview: api_posts');
  assert.deepEqual(await tabIds(page), RECORD_ACTIONS);

  // List: everyone; the query parameters; no token in the curl example.
  assert.deepEqual(await endpoints(page), ['GET /api/collections/api_posts/records']);
  assert.deepEqual(await rules(page), ['Everyone']);
  assert.deepEqual(Object.keys(await paramRows(page, 'query')), ['page', 'perPage', 'sort', 'filter', 'expand', 'fields', 'skipTotal']);
  assert.doesNotMatch(await example(page, 'curl'), /Authorization/);
  assert.deepEqual(await statuses(page), ['200', '400']);
  const listAnswer = await response(page, 200);
  assert.equal(listAnswer.items[0].collectionName, 'api_posts');
  // Copy puts the example on the clipboard; that text runs as it is.
  const listJs = await example(page, 'js');
  assert.match(listJs, new RegExp(`new PocketBase\\('${server.url}'\\)`));
  assert.match(listJs, /pb\.collection\('api_posts'\)\.getList\(1, 50, \{\n  filter: 'title != ""',/);
  await page.locator('.api-code[data-lang="js"] .api-copy').click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), listJs);
  const listRun = JSON.parse(runNode(`${listJs}\nconsole.log(JSON.stringify({ page: resultList.items.map((r) => r.id), all: records.map((r) => r.id) }));`));
  assert.deepEqual(listRun, { page: [seeded.id], all: [seeded.id] });

  // View: the rule's text; the curl example sends the token, and runs.
  await showAction(page, 'view');
  assert.deepEqual(await endpoints(page), ['GET /api/collections/api_posts/records/:id']);
  assert.deepEqual(await rules(page), ['@request.auth.id != ""']);
  assert.deepEqual(await statuses(page), ['200', '404']);
  const viewCurl = await example(page, 'curl');
  assert.match(viewCurl, /-H "Authorization: TOKEN"/);
  const viewed = JSON.parse(execFileSync('bash', ['-c', viewCurl.replaceAll('TOKEN', reader.token).replaceAll('RECORD_ID', seeded.id)], { encoding: 'utf8', timeout: 20_000 }));
  assert.equal(viewed.id, seeded.id);
  assert.equal(viewed.expand?.author?.id, reader.id, 'the example expands the relation');
  assert.match(await example(page, 'js'), /getOne\('RECORD_ID', \{\n  expand: 'author',\n\}\)/);

  // Create: the body fields with their types, required or not; uploads need multipart.
  await showAction(page, 'create');
  assert.deepEqual(await endpoints(page), ['POST /api/collections/api_posts/records']);
  assert.deepEqual(await rules(page), ['Everyone']);
  const body = await paramRows(page, 'body');
  assert.deepEqual(Object.keys(body), ['id', 'title', 'views', 'done', 'author', 'photo', 'tags', 'secret']);
  assert.deepEqual(body.title.slice(0, 2), ['titlerequired', 'String']);
  assert.deepEqual(body.views.slice(0, 2), ['viewsoptional', 'Number']);
  assert.equal(body.done[1], 'Boolean');
  assert.match(body.author[2], /id of a users record/);
  assert.equal(body.photo[1], 'File');
  assert.match(body.photo[2], /multipart\/form-data/);
  assert.equal(body.tags[1], 'Array<String>');
  assert.match(body.tags[2], /Up to 3 of: news, tech, life/);
  // A hidden field is listed, but only superusers may set it: the example leaves it out.
  assert.match(body.secret[2], /only superusers/);
  // The example answer: system keys, each visible field, no hidden one.
  assert.deepEqual(await statuses(page), ['200', '400']);
  const created = await response(page, 200);
  assert.deepEqual(Object.keys(created), ['collectionId', 'collectionName', 'id', 'title', 'views', 'done', 'author', 'photo', 'tags', 'created', 'updated']);
  assert.equal(created.collectionName, 'api_posts');
  assert.match(created.id, /^[a-z0-9]{15}$/);
  assert.deepEqual(await response(page, 400), { status: 400, message: 'Failed to create record.', data: { title: { code: 'validation_required', message: 'Cannot be blank.' } } });
  // The example runs once its one placeholder (a related record) is filled in.
  const createJs = await example(page, 'js');
  assert.match(createJs, /"photo": new File\(/);
  assert.doesNotMatch(createJs, /secret/);
  const record = JSON.parse(runNode(`${createJs.replace('RELATION_RECORD_ID', reader.id)}\nconsole.log(JSON.stringify(record));`));
  assert.equal(record.title, 'example title');
  assert.equal(record.views, 123);
  assert.equal(record.done, true);
  assert.equal(record.author, reader.id);
  assert.deepEqual(record.tags, ['news', 'tech']);
  assert.match(record.photo, /^example\w*\.txt$/);
  assert.equal(record.secret, undefined, 'hidden from a guest');
  assert.match(await example(page, 'curl'), /-F "photo=@example\.txt"/);
  await screenshot(page, 'api-preview-create');

  // Update needs a signed-in user; delete is superusers only.
  await showAction(page, 'update');
  assert.deepEqual(await endpoints(page), ['PATCH /api/collections/api_posts/records/:id']);
  assert.deepEqual(await statuses(page), ['200', '400', '404']);
  assert.match(await example(page, 'js'), /authWithPassword\('YOUR_EMAIL', 'YOUR_PASSWORD'\);[\s\S]*\.update\('RECORD_ID', data\)/);
  await showAction(page, 'delete');
  assert.deepEqual(await endpoints(page), ['DELETE /api/collections/api_posts/records/:id']);
  assert.deepEqual(await rules(page), ['Only superusers']);
  assert.deepEqual(await statuses(page), ['204', '400', '403', '404']);
  assert.deepEqual(await response(page, 403), { status: 403, message: 'Only superusers can perform this action.', data: {} });
  assert.match(await example(page, 'js'), /collection\('_superusers'\)\.authWithPassword[\s\S]*\.delete\('RECORD_ID'\)/);
  assert.match(await example(page, 'curl'), /-X DELETE "[^"]+\/api\/collections\/api_posts\/records\/RECORD_ID" \\\n {2}-H "Authorization: TOKEN"/);

  await showAction(page, 'realtime');
  assert.deepEqual(await rules(page), ['Everyone', '@request.auth.id != ""']);
  assert.match(await example(page, 'js'), /pb\.collection\('api_posts'\)\.subscribe\('\*', \(e\) => \{/);
  await showAction(page, 'batch');
  assert.deepEqual(await endpoints(page), ['POST /api/batch']);
  assert.match(await example(page, 'js'), /const batch = pb\.createBatch\(\);/);
  const batchOn = (await api('/api/settings')).json.batch?.enabled;
  await page.locator('.api-batch-off').waitFor({ state: batchOn ? 'detached' : 'visible' });

  // Without a clipboard the example is selected instead, for Ctrl+C.
  await page.evaluate(() => (navigator.clipboard.writeText = () => Promise.reject(new Error('refused'))));
  await page.locator('.api-code[data-lang="curl"] .api-copy').click();
  await page.waitForFunction(() => getSelection().toString().startsWith('# JSON bodies'));
  assert.equal(await page.evaluate(() => getSelection().toString()), await example(page, 'curl'));
  await closePreview(page);
  assert.deepEqual(pageErrors, []);
});

test('the docs links open the action in the live API docs', { timeout: 90_000 }, async () => {
  await openPreview(page, 'api_posts');
  const list = await page.locator('.api-docs-action').getAttribute('href');
  assert.equal(list, '/api/docs#/collection%3A%20api_posts/list_api_posts');
  // The viewer reads the document as a guest, which lists no superuser-only operation: the
  // delete links to the generic route's instead.
  await showAction(page, 'delete');
  const remove = await page.locator('.api-docs-action').getAttribute('href');
  assert.equal(remove, '/api/docs#/Records/deleteCollectionsCollectionRecordsId');
  await closePreview(page);
  const docs = await context.newPage();
  try {
    // Swagger UI opens the linked operation.
    for (const [href, path] of [[list, '/api/collections/api_posts/records'], [remove, '/api/collections/{collection}/records/{id}']]) {
      await docs.goto(server.url + href);
      await docs.locator('.opblock.is-open .opblock-summary-path', { hasText: path }).first().waitFor({ timeout: 20_000 });
    }
  } finally {
    await docs.close();
  }
});

test('auth collection: the sign-in actions its options enable; the password sign-in example runs', { timeout: 90_000 }, async () => {
  const users = (await api('/api/collections/users')).json;
  assert.equal(users.otp?.enabled, false, 'OTP is off by default');
  await openPreview(page, 'users');
  const expected = [...RECORD_ACTIONS, 'auth-methods', 'auth-with-password', 'auth-refresh', 'verification', 'password-reset', 'email-change'];
  assert.deepEqual(await tabIds(page), expected);
  await showAction(page, 'create');
  const body = await paramRows(page, 'body');
  assert.equal(body.password[0], 'passwordrequired');
  assert.equal(body.passwordConfirm[0], 'passwordConfirmrequired');
  assert.ok(body.email, 'email is a body field');
  assert.equal(body.tokenKey, undefined);
  const rec = await response(page, 200);
  assert.equal(rec.password, undefined);
  assert.equal(rec.tokenKey, undefined);
  assert.equal(rec.email, 'test@example.com');

  await showAction(page, 'auth-with-password');
  assert.deepEqual(await endpoints(page), ['POST /api/collections/users/auth-with-password']);
  const signIn = await example(page, 'js');
  const out = runNode(signIn.replace('YOUR_EMAIL', READER.email).replace('YOUR_PASSWORD', READER.password));
  assert.deepEqual(out.trim().split('\n'), ['true', reader.id]);
  assert.ok((await response(page, 200)).token);
  await showAction(page, 'email-change');
  assert.deepEqual(await endpoints(page), ['POST /api/collections/users/request-email-change', 'POST /api/collections/users/confirm-email-change']);
  assert.match(await example(page, 'curl'), /request-email-change" \\\n {2}-H "Authorization: TOKEN"/);
  await screenshot(page, 'api-preview-auth');
  await closePreview(page);

  // Turning OTP on adds its action.
  const r = await api('/api/collections/users', { method: 'PATCH', body: { otp: { ...users.otp, enabled: true } } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  await page.reload();
  await openPreview(page, 'users');
  await showAction(page, 'auth-with-otp');
  assert.deepEqual(await endpoints(page), ['POST /api/collections/users/request-otp', 'POST /api/collections/users/auth-with-otp']);
  await closePreview(page);
});

test('view collection: list, view and realtime only', { timeout: 60_000 }, async () => {
  await openPreview(page, 'api_titles');
  assert.deepEqual(await tabIds(page), ['list', 'view', 'realtime']);
  await showAction(page, 'view');
  assert.deepEqual(Object.keys(await response(page, 200)), ['collectionId', 'collectionName', 'id', 'title']);
  await closePreview(page);
});

test('keyboard: Enter opens, the arrows move between actions, Escape closes and focus returns', { timeout: 60_000 }, async () => {
  await page.goto(`${server.url}/_/#/collections/api_posts`);
  await page.locator('tr.record-row').first().waitFor();
  await page.locator('#api-preview').focus();
  await page.keyboard.press('Enter');
  await page.locator('.api-preview').waitFor();
  const focused = () => page.evaluate(() => document.activeElement?.dataset.action || document.activeElement?.id || '');
  const selected = () => page.locator('.api-tab[aria-selected="true"]').getAttribute('data-action');
  await page.waitForFunction(() => document.activeElement?.dataset.action === 'list');
  for (const [key, want] of [['ArrowDown', 'view'], ['ArrowDown', 'create'], ['End', 'batch'], ['ArrowDown', 'list'], ['ArrowUp', 'batch'], ['Home', 'list'], ['ArrowRight', 'view']]) {
    await page.keyboard.press(key);
    assert.equal(await selected(), want, key);
    assert.equal(await focused(), want, key);
  }
  assert.equal(await page.locator('.api-title').textContent(), 'View');
  // Tab leaves the list for the panel's content (one stop for the whole list).
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.closest('.api-action') !== null), true);
  await page.keyboard.press('Escape');
  await page.locator('.panel').waitFor({ state: 'detached' });
  assert.equal(await focused(), 'api-preview');
});

test('axe-core: no serious or critical violations in the panel', { timeout: 90_000 }, async () => {
  const found = {};
  for (const [collection, action] of [['api_posts', 'create'], ['api_posts', 'delete'], ['users', 'auth-with-password'], ['api_posts', 'batch']]) {
    await openPreview(page, collection);
    await showAction(page, action);
    await page.evaluate(() => document.querySelectorAll('.api-response').forEach((d) => (d.open = true)));
    const v = await axeViolations(page);
    if (v.length) {
      found[`${collection}/${action}`] = v;
      await screenshot(page, `a11y-api-preview-${collection}-${action}`);
    }
    await closePreview(page);
  }
  assert.deepEqual(found, {}, JSON.stringify(found, null, 2));
});

test('phone (390 × 844): nothing overflows sideways; the code blocks scroll instead', { timeout: 90_000 }, async () => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, reducedMotion: 'reduce' });
  phone.setDefaultTimeout(10_000);
  const p = await phone.newPage();
  try {
    await openPreview(p, 'users');
    const box = await p.locator('#api-preview').boundingBox();
    assert.ok(box, 'the button is shown');
    for (const id of [...RECORD_ACTIONS, 'auth-with-password', 'email-change']) {
      await p.locator(`.api-tab[data-action="${id}"]`).scrollIntoViewIfNeeded();
      await showAction(p, id);
      const sizes = await p.evaluate(() => {
        const body = document.querySelector('.panel-body');
        const panel = document.querySelector('.panel').getBoundingClientRect();
        return { page: document.documentElement.scrollWidth, body: body.scrollWidth, bodyWidth: body.clientWidth, panelRight: panel.right, width: innerWidth };
      });
      assert.ok(sizes.page <= sizes.width && sizes.body <= sizes.bodyWidth && sizes.panelRight <= sizes.width, `${id}: ${JSON.stringify(sizes)}`);
    }
    await showAction(p, 'create');
    // A long line scrolls inside its block.
    const pre = await p.locator('.api-code[data-lang="curl"] pre').evaluate((el) => ({ scroll: el.scrollWidth, width: el.clientWidth, overflow: getComputedStyle(el).overflowX }));
    assert.ok(pre.scroll > pre.width && pre.overflow === 'auto', JSON.stringify(pre));
    await screenshot(p, 'api-preview-phone');
  } finally {
    await phone.close();
  }
});
