// Browser test of the dashboard's settings, logs and import/export screens against a fresh
// oxbase server (env: see harness.mjs): each setting saved through the form and read back over
// the API, a test email received by a local SMTP server, a backup created, downloaded,
// uploaded, scheduled, run by its cron and restored, a dead letter replayed, the logs chart
// drawn from real traffic, and an import previewed before it is applied.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sleep, startServer, stopServer, superuserApi, screenshot, launchBrowser, loginIfNeeded } from './harness.mjs';
import { startSmtp } from './smtp.mjs';
import { startS3 } from './s3.mjs';

let server;
let api;
let browser;
let page;
let smtp;
let s3;
const pageErrors = [];
const shot = (name) => screenshot(page, name);

before(async () => {
  server = await startServer();
  ({ api } = await superuserApi(server));
  smtp = await startSmtp();
  s3 = await startS3();
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && !/status of [45]\d\d/.test(m.text()) && pageErrors.push(m.text()));
  await page.goto(`${server.url}/_/#/settings`);
  await loginIfNeeded(page);
});

after(async () => {
  await browser?.close().catch(() => {});
  await smtp?.stop();
  await s3?.stop();
  await stopServer(server);
});

/** Polls `fn` (at most `ms`) until it returns something truthy. */
async function until(fn, ms = 10_000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const settings = async () => (await api('/api/settings')).json;
const open = async (section) => {
  await page.goto(`${server.url}/_/#/settings/${section}`);
  await page.locator(`.settings-body[data-section="${section}"]`).waitFor();
};
/** Saves the form on screen; resolves once the server stored it (and the form took it back). */
const saved = async () => {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/settings') && r.request().method() === 'PATCH'),
    page.locator('#settings-save').click(),
  ]);
  assert.equal(response.status(), 200, await response.text());
  await page.locator('#settings-save:not([disabled])').waitFor();
};

test('settings / application: name, URL, hide controls, batch, rate limits, proxy, superuser IPs, logs', { timeout: 60_000 }, async () => {
  await open('application');
  // A validation error from the server, next to its input.
  await page.locator('#set-meta-appURL').fill('not a url');
  await page.locator('#settings-save').click();
  await page.locator('[data-error-for="meta.appURL"]:not([hidden])').waitFor();
  await page.locator('#set-meta-appURL').fill('https://app.example.com');
  await page.locator('#set-meta-appName').fill('UI Settings App');
  await page.locator('#set-meta-hideControls').check();
  await page.locator('summary', { hasText: 'Batch API' }).click();
  await page.locator('#set-batch-enabled').check();
  await page.locator('#set-batch-maxRequests').fill('25');
  await page.locator('summary', { hasText: 'Rate limits' }).click();
  await page.locator('#set-rateLimits-enabled').check();
  await page.locator('#rate-rule-add').click();
  const rule = page.locator('.rate-rules tr[data-rule="4"]');
  await rule.getByLabel('Label').fill('/api/ui-test');
  await rule.getByLabel('Max requests').fill('7');
  await rule.getByLabel('Audience').selectOption('@guest');
  await page.locator('summary', { hasText: 'Trusted proxy' }).click();
  await page.locator('#set-trustedProxy-headers').fill('X-Forwarded-For, X-Real-IP');
  await page.locator('summary', { hasText: 'Superuser IPs' }).click();
  await page.locator('#set-superuserIPs').fill('::1');
  // The server tells the page its IP as the server sees it: a chip adds it.
  await page.locator('.add-chip', { hasText: '127.0.0.1 (you)' }).click();
  await page.locator('button.swatch[aria-label="Accent #096d5c"]').click();
  await page.locator('summary', { hasText: 'Logs' }).click();
  await page.locator('#set-logs-maxDays').fill('9');
  await shot('60-settings-application');
  await saved();
  const s = await settings();
  assert.equal(s.meta.appName, 'UI Settings App');
  assert.equal(s.meta.appURL, 'https://app.example.com');
  assert.equal(s.meta.hideControls, true);
  assert.equal(s.batch.enabled, true);
  assert.equal(s.batch.maxRequests, 25);
  assert.equal(s.rateLimits.enabled, true);
  assert.deepEqual(s.rateLimits.rules[4], { label: '/api/ui-test', audience: '@guest', duration: 10, maxRequests: 7 });
  assert.deepEqual(s.trustedProxy.headers, ['X-Forwarded-For', 'X-Real-IP']);
  assert.deepEqual(s.superuserIPs, ['::1', '127.0.0.1']);
  assert.equal(s.meta.accentColor, '#096d5c');
  assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--primary').trim()), '#096d5c');
  assert.equal(s.logs.maxDays, 9);
  // The dashboard follows hideControls: no collection create or edit controls.
  await page.locator('a.collection-link[data-collection="users"]').click();
  await page.locator('#new-record').waitFor();
  assert.equal(await page.locator('#edit-collection').count(), 0);
  assert.equal(await page.locator('.new-collection').count(), 0);
  // Rate limiting, superuser IPs and hidden controls off again (the rest of the test makes
  // many requests and edits collections).
  await open('application');
  await page.locator('#set-meta-hideControls').uncheck();
  await page.locator('button.swatch[aria-label="Accent #1055c9"]').click();
  await page.locator('summary', { hasText: 'Rate limits' }).click();
  await page.locator('#set-rateLimits-enabled').uncheck();
  await page.locator('summary', { hasText: 'Superuser IPs' }).click();
  await page.locator('#superuser-ips-clear').click();
  await saved();
  assert.equal((await settings()).rateLimits.enabled, false);
  await page.locator('a.collection-link[data-collection="users"]').click();
  await page.locator('#edit-collection').waitFor();
  await page.locator('.new-collection').waitFor();
});

test('settings / mail: SMTP saved, and a test email received by a local SMTP server', { timeout: 60_000 }, async () => {
  await open('mail');
  await page.locator('#set-meta-senderName').fill('UI Sender');
  await page.locator('#set-meta-senderAddress').fill('sender@example.com');
  await page.locator('#set-smtp-enabled').check();
  await page.locator('#set-smtp-host').fill('127.0.0.1');
  await page.locator('#set-smtp-port').fill(String(smtp.port));
  await page.locator('#set-smtp-password').fill('smtp-secret');
  await shot('61-settings-mail');
  await saved();
  const s = await settings();
  assert.equal(s.smtp.enabled, true);
  assert.equal(s.smtp.host, '127.0.0.1');
  assert.equal(s.smtp.port, smtp.port);
  assert.equal(s.smtp.password, undefined, 'the password is never sent back');
  await page.locator('#mail-test').click();
  await page.locator('#test-email-to').fill('inbox@example.com');
  await page.locator('#test-email-template').selectOption('password-reset');
  await shot('62-settings-mail-test');
  await page.locator('#test-email-send').click();
  await page.locator('.toast', { hasText: 'The test email was sent.' }).waitFor();
  const mail = await smtp.waitFor('inbox@example.com');
  assert.equal(mail.from, 'sender@example.com');
  assert.match(mail.data, /TEST_TOKEN|reset/i);
  // A bad address is the dialog's field error.
  await page.locator('#mail-test').click();
  await page.locator('#test-email-to').fill('nope');
  await page.locator('#test-email-send').click();
  await page.locator('#test-email-form [data-error-for="email"]:not([hidden])').waitFor();
  await page.keyboard.press('Escape');
  await page.locator('#test-email-form').waitFor({ state: 'detached' });
});

test('settings / file storage: S3 options validated, saved, and the S3 test reports its result', { timeout: 90_000 }, async () => {
  await open('storage');
  await page.locator('#set-s3-enabled').check();
  await page.locator('#settings-save').click();
  await page.locator('[data-error-for="s3.bucket"]:not([hidden])').waitFor();
  await page.locator('#set-s3-endpoint').fill(s3.url);
  await page.locator('#set-s3-bucket').fill('ui-bucket');
  await page.locator('#set-s3-region').fill('us-east-1');
  await page.locator('#set-s3-accessKey').fill('AKIAUI');
  await page.locator('#set-s3-secret').fill('s3-secret');
  await page.locator('#set-s3-forcePathStyle').check();
  await saved();
  const s = await settings();
  assert.equal(s.s3.enabled, true);
  assert.equal(s.s3.bucket, 'ui-bucket');
  assert.equal(s.s3.forcePathStyle, true);
  assert.equal(s.s3.secret, undefined);
  // The test writes, reads and deletes a probe file in the bucket.
  await page.locator('[data-filesystem="storage"] .s3-test').click();
  await page.locator('[data-filesystem="storage"] .test-result.ok', { hasText: 'S3 connection succeeded.' }).waitFor({ timeout: 30_000 });
  await shot('63-settings-storage');
  assert.equal(s3.objects.size, 0, 'the probe file was deleted');
  // A bucket that refuses: the failure is shown.
  await page.locator('#set-s3-bucket').fill('denied');
  await saved();
  await page.locator('[data-filesystem="storage"] .s3-test').click();
  await page.locator('[data-filesystem="storage"] .test-result.fail', { hasText: 'Failed to test the S3 filesystem' }).waitFor({ timeout: 30_000 });
  // Back to local storage, or uploads would go nowhere.
  await page.locator('#set-s3-enabled').uncheck();
  await saved();
  assert.equal((await settings()).s3.enabled, false);
});

test('settings / SQL console: read-only unless writes are allowed', { timeout: 60_000 }, async () => {
  await open('sql');
  await page.locator('#sql-query').fill('SELECT count(*) AS n FROM _superusers');
  await page.locator('#sql-run').click();
  await page.locator('.sql-table td', { hasText: '1' }).waitFor();
  assert.equal(await page.locator('.sql-table th').innerText(), 'n');
  await shot('64-settings-sql');
  await page.locator('#sql-query').fill("UPDATE _params SET value = value WHERE id = 'none'");
  await page.locator('#sql-run').click();
  await page.locator('#sql-form .form-error:not([hidden])').waitFor();
  await page.locator('#sql-write').check();
  await page.locator('#sql-run').click();
  await page.locator('.sql-result').waitFor();
  assert.equal(await page.locator('#sql-write').isChecked(), false, 'writes are allowed for one run only');
});

test('settings / backups and crons: create, download, schedule, run the cron, upload, delete', { timeout: 120_000 }, async () => {
  await open('backups');
  await page.locator('.backups-table td.empty-row').waitFor();
  await page.locator('#backup-create').click();
  await page.locator('#backup-name').fill('ui_first');
  await page.locator('#backup-create-submit').click();
  const row = page.locator('.backup-row[data-key="ui_first.zip"]');
  await row.waitFor({ timeout: 60_000 });
  // Downloaded through a file token.
  const [download] = await Promise.all([page.waitForEvent('download'), row.locator('.backup-download').click()]);
  assert.equal(download.suggestedFilename(), 'ui_first.zip');
  const zip = readFileSync(await download.path());
  assert.ok(zip.length > 1000, `a backup of ${zip.length} bytes`);
  assert.equal(zip.subarray(0, 2).toString(), 'PK');
  // The schedule.
  await page.locator('.presets button', { hasText: 'Every day at 00:00' }).click();
  await page.locator('#set-backups-cronMaxKeep').fill('2');
  await saved();
  const s = await settings();
  assert.equal(s.backups.cron, '0 0 * * *');
  assert.equal(s.backups.cronMaxKeep, 2);
  await shot('65-settings-backups');

  // The scheduled job is listed with the server's own; "Run now" makes a backup.
  await open('crons');
  const cron = page.locator('.cron-row[data-cron="__pbAutoBackup__"]');
  await cron.waitFor();
  assert.equal(await cron.locator('td').nth(1).innerText(), '0 0 * * *');
  assert.ok(await page.locator('.cron-row[data-cron="__pbLogsCleanup__"]').count());
  await shot('66-settings-crons');
  await cron.locator('.cron-run').click();
  await page.locator('.toast', { hasText: 'Started __pbAutoBackup__.' }).waitFor();
  const auto = await until(async () => (await api('/api/backups')).json.find((b) => b.key.startsWith('@auto_pb_backup_')), 60_000, 'the cron backup');

  // Upload the downloaded backup under another name; delete it again.
  await open('backups');
  await page.locator(`.backup-row[data-key="${auto.key}"]`).waitFor();
  await page.locator('input[name="backup-file"]').setInputFiles({ name: 'uploaded.zip', mimeType: 'application/zip', buffer: zip });
  const uploaded = page.locator('.backup-row[data-key="uploaded.zip"]');
  await uploaded.waitFor();
  await uploaded.locator('.backup-delete').click();
  await page.locator('.modal').getByRole('button', { name: 'Delete' }).click();
  await uploaded.waitFor({ state: 'detached' });
  assert.deepEqual((await api('/api/backups')).json.map((b) => b.key).sort(), [auto.key, 'ui_first.zip'].sort());
});

test('settings / webhooks: endpoints saved; a dead letter listed, viewed and replayed', { timeout: 90_000 }, async () => {
  const c = await api('/api/collections', { method: 'POST', body: { name: 'ui_hooked', type: 'base', fields: [{ name: 'title', type: 'text' }] } });
  assert.equal(c.status, 200, JSON.stringify(c.json));
  await open('webhooks');
  await page.locator('[data-list="webhooks.endpoints"] .entry-add').click();
  await page.locator('#set-webhooks-endpoints-0-collection').selectOption('ui_hooked');
  await page.locator('[name="webhooks.endpoints.0.actions.create"]').check();
  // An endpoint needs a URL: the server's error under the input.
  await page.locator('#settings-save').click();
  await page.locator('[data-error-for="webhooks.endpoints.0.url"]:not([hidden])').waitFor();
  await page.locator('#set-webhooks-endpoints-0-url').fill('http://127.0.0.1:9/hook');
  await page.locator('#set-webhooks-maxAttempts').fill('1');
  await page.locator('#set-webhooks-backoffMs').fill('10');
  // Endpoints need a signing secret.
  await page.locator('#settings-save').click();
  await page.locator('[data-error-for="webhooks.secret"]:not([hidden])').waitFor();
  await page.locator('#set-webhooks-secret').fill('ui-test-secret');
  await saved();
  const s = await settings();
  assert.equal(s.webhooks.maxAttempts, 1);
  assert.deepEqual(s.webhooks.endpoints[0], { url: 'http://127.0.0.1:9/hook', collection: 'ui_hooked', actions: ['create'], systemEvents: [] });
  // Shown as an auth record views it: its collection, then its id (required).
  await page.locator('#set-webhooks-endpoints-0-viewAs-collection').selectOption('users');
  await page.locator('#settings-save').click();
  await page.locator('[data-error-for="webhooks.endpoints.0.viewAs.id"]:not([hidden])').waitFor();
  await page.locator('#set-webhooks-endpoints-0-viewAs-id').fill('uiviewer0000001');
  await saved();
  assert.deepEqual((await settings()).webhooks.endpoints[0].viewAs, { collection: 'users', id: 'uiviewer0000001' });
  // Back to a superuser's view: no viewAs saved.
  await page.locator('#set-webhooks-endpoints-0-viewAs-collection').selectOption('');
  assert.equal(await page.locator('#set-webhooks-endpoints-0-viewAs-id').count(), 0);
  await saved();
  assert.equal((await settings()).webhooks.endpoints[0].viewAs, undefined);
  // Nothing listens on port 9: the one attempt fails and the delivery is dead-lettered.
  assert.equal((await api('/api/collections/ui_hooked/records', { method: 'POST', body: { title: 'ping' } })).status, 200);
  await until(async () => (await api('/api/webhooks/dead-letters')).json.items.length > 0, 30_000, 'a dead letter');
  const box = page.locator('.dead-letters[data-kind="webhooks"]');
  await box.locator('.dead-refresh').click();
  const dead = box.locator('.dead-row').first();
  await dead.waitFor();
  assert.match(await dead.innerText(), /127\.0\.0\.1:9/);
  await dead.locator('.dead-view').click();
  await page.locator('.panel .json-view', { hasText: 'ping' }).waitFor();
  await shot('67-settings-dead-letter');
  await page.keyboard.press('Escape');
  await dead.locator('.dead-replay').click();
  await page.locator('.toast', { hasText: 'Queued again.' }).waitFor();
  // Endpoints removed; a broker target added (its password is masked when read back).
  await page.locator('[data-list="webhooks.endpoints"] .entry-remove').click();
  await page.locator('[data-list="brokers.targets"] .entry-add').click();
  await page.locator('#set-brokers-targets-0-name').fill('stream');
  await page.locator('#set-brokers-targets-0-type').selectOption('redis');
  await page.locator('#set-brokers-targets-0-url').fill('redis://:pw@127.0.0.1:9/0');
  await page.locator('#set-brokers-targets-0-maxLen').fill('1000');
  await page.locator('[name="brokers.targets.0.actions.update"]').check();
  await page.locator('#set-brokers-maxAttempts').fill('1');
  await page.locator('#set-brokers-backoffMs').fill('10');
  await shot('68-settings-brokers');
  await saved();
  const after = await settings();
  assert.deepEqual(after.webhooks.endpoints, []);
  const target = after.brokers.targets[0];
  assert.equal(target.name, 'stream');
  assert.equal(target.type, 'redis');
  assert.equal(target.maxLen, 1000);
  assert.deepEqual(target.actions, ['update']);
  assert.ok(!target.url.includes(':pw@'), `masked: ${target.url}`);
  // Nothing listens there either: an update is dead-lettered for the target, and replayed.
  const rec = (await api('/api/collections/ui_hooked/records')).json.items[0];
  assert.equal((await api(`/api/collections/ui_hooked/records/${rec.id}`, { method: 'PATCH', body: { title: 'pong' } })).status, 200);
  await until(async () => (await api('/api/brokers/dead-letters')).json.items.length > 0, 30_000, 'a broker dead letter');
  const brokerBox = page.locator('.dead-letters[data-kind="brokers"]');
  await brokerBox.locator('.dead-refresh').click();
  const brokerDead = brokerBox.locator('.dead-row').first();
  await brokerDead.waitFor();
  assert.match(await brokerDead.innerText(), /stream/);
  await brokerDead.locator('.dead-replay').click();
  await page.locator('.toast', { hasText: 'Queued again.' }).last().waitFor();
  await page.locator('[data-list="brokers.targets"] .entry-remove').click();
  await saved();
  assert.deepEqual((await settings()).brokers.targets, []);
});

test('logs: the requests-per-hour chart has data; filter, level badges, the detail panel and the settings panel', { timeout: 60_000 }, async () => {
  // Traffic: a few requests, one of them a 404.
  for (let i = 0; i < 5; i++) await fetch(`${server.url}/api/health`);
  await fetch(`${server.url}/api/collections/nope/records`);
  // The log writer batches: wait until the 404 is stored.
  await until(async () => (await api(`/api/logs?filter=${encodeURIComponent('data.status = 404')}`)).json.totalItems > 0, 15_000, 'the logs');
  await page.locator('#nav-logs').click();
  await page.waitForURL(/#\/logs/);
  await page.locator('#logs-chart canvas').waitFor();
  // The chart is drawn from the stats: the traffic above is in its last hour.
  await page.waitForFunction(() => Number(document.querySelector('#logs-chart')?.dataset.total) >= 6);
  const points = Number(await page.locator('#logs-chart').getAttribute('data-points'));
  assert.ok(points >= 24, `a point per hour of the last day: ${points}`);
  await page.locator('.log-row .level').first().waitFor();
  await shot('70-logs');
  await page.locator('#logs-filter').fill('data.status = 404');
  await page.locator('#logs-filter').press('Enter');
  await page.waitForURL(/filter=/);
  await page.waitForFunction(() => [...document.querySelectorAll('.log-row')].length > 0 && [...document.querySelectorAll('.log-row')].every((r) => r.innerText.includes('404')));
  assert.ok(Number(await page.locator('#logs-chart').getAttribute('data-total')) >= 1);
  await page.locator('.log-row', { hasText: '/api/collections/nope/records' }).first().click();
  await page.locator('.panel .log-detail', { hasText: 'data.status' }).waitFor();
  await shot('71-log-detail');
  await page.keyboard.press('Escape');
  // A plain term searches the message, URL and method.
  await page.locator('#logs-filter').fill('nope/records');
  await page.locator('#logs-filter').press('Enter');
  // The rows of the 404 filter match too: wait for the page to show the new route (it sets the
  // input from the URL), or the next fill could be overwritten.
  await page.locator('form.filter-bar[data-filter="nope/records"]').waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('.log-row')].length > 0 && [...document.querySelectorAll('.log-row')].every((r) => r.innerText.includes('/api/collections/nope/records')));
  // Dragging across the chart's first hours (before the traffic) narrows the list to them.
  await page.locator('#logs-filter').fill('');
  await page.locator('#logs-filter').press('Enter');
  await page.locator('.log-row').first().waitFor();
  // The chart is drawn again for the new stats: wait for it to settle.
  await page.waitForFunction(() => Number(document.querySelector('#logs-chart')?.dataset.total) >= 6);
  await page.locator('#logs-chart .u-over').waitFor();
  const over = await until(() => page.locator('#logs-chart .u-over').boundingBox(), 5_000, 'the chart');
  await page.mouse.move(over.x + 4, over.y + over.height / 2);
  await page.mouse.down();
  await page.mouse.move(over.x + over.width * 0.3, over.y + over.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.locator('#logs-zoom').waitFor();
  await page.locator('td.empty-row', { hasText: 'No logs found.' }).waitFor();
  await page.locator('#logs-zoom-reset').click();
  await page.locator('.log-row').first().waitFor();
  await page.locator('#logs-filter').fill('nosuchcolumn = 1');
  await page.locator('#logs-filter').press('Enter');
  await page.locator('.filter-error').waitFor();
  // What the logs keep, set from the logs page: a panel over the `logs` section alone.
  const before = (await settings()).logs;
  await page.locator('#logs-settings').click();
  const panel = page.locator('.panel #logs-settings-form');
  await panel.locator('#set-logs-maxDays').fill('9');
  await panel.locator('#set-logs-logIP').uncheck();
  await saved();
  assert.deepEqual((await settings()).logs, { ...before, maxDays: 9, logIP: false });
  await panel.locator('#set-logs-maxDays').fill(String(before.maxDays));
  await panel.locator('#set-logs-logIP').setChecked(before.logIP);
  await saved();
  assert.deepEqual((await settings()).logs, before);
  await page.keyboard.press('Escape');
  await page.locator('.panel').waitFor({ state: 'detached' });
});

test('collections: export as JSON; import with a diff preview first', { timeout: 60_000 }, async () => {
  await open('export-collections');
  await page.locator('.export-choice input[data-collection="ui_hooked"]').waitFor();
  const exported = JSON.parse(await page.locator('#export-json').inputValue());
  assert.ok(exported.some((c) => c.name === 'users'));
  await page.locator('.export-choice input[data-collection="users"]').uncheck();
  assert.ok(!JSON.parse(await page.locator('#export-json').inputValue()).some((c) => c.name === 'users'));
  await shot('72-export');
  const hooked = exported.find((c) => c.name === 'ui_hooked');
  hooked.fields.push({ name: 'extra', type: 'number' });
  hooked.fields.find((f) => f.name === 'title').max = 80;
  hooked.listRule = '';
  const next = [hooked, { name: 'ui_imported', type: 'base', fields: [{ name: 'label', type: 'text' }] }];
  await open('import-collections');
  await page.locator('#import-json').fill(JSON.stringify(next));
  await page.locator('.diff-item.diff-add[data-collection="ui_imported"]').waitFor();
  const changed = page.locator('.diff-item.diff-change[data-collection="ui_hooked"]');
  await changed.waitFor();
  assert.match(await changed.innerText(), /fields added: extra/);
  assert.match(await changed.innerText(), /listRule: null → ""/);
  assert.match(await changed.innerText(), /fields changed: title \(max: 0 → 80\)/);
  assert.equal(await page.locator('.diff-item.diff-remove').count(), 0, 'merging deletes nothing');
  await page.locator('#import-merge').uncheck();
  await page.locator('.diff-item.diff-remove[data-collection="ui_hooked"]').waitFor({ state: 'detached' });
  assert.ok(await page.locator('.diff-item.diff-remove').count() > 0, 'without merging, the missing collections are deleted');
  await page.locator('#import-merge').check();
  await shot('73-import-diff');
  await page.locator('#import-submit').click();
  await page.locator('.toast', { hasText: 'Collections imported.' }).waitFor();
  const after = (await api('/api/collections/ui_hooked')).json;
  assert.ok(after.fields.some((f) => f.name === 'extra'));
  assert.equal(after.fields.find((f) => f.name === 'title').max, 80);
  assert.equal(after.listRule, '');
  assert.equal((await api('/api/collections/ui_imported')).status, 200);
  assert.ok(await page.locator('a.collection-link[data-collection="ui_imported"]').count());
});

test('collections: the auth options tab saves methods, providers, tokens and templates; a template test send', { timeout: 60_000 }, async () => {
  await page.goto(`${server.url}/_/#/collections/users`);
  await page.locator('#edit-collection').click();
  await page.locator('button.tab[data-tab="options"]').click();
  const opt = (path) => page.locator(`.auth-options [data-path="${path}"]`);
  const group = (name) => page.locator(`.settings-group[data-group="${name}"] > summary`).click();
  await group('otp');
  await opt('otp.enabled').check();
  await opt('otp.length').fill('0');
  await page.locator('#collection-save').click();
  // The server's error, under its input, and the tab marked.
  await page.locator('[data-error-for="otp.length"]:not([hidden])').waitFor();
  assert.equal(await page.locator('button.tab[data-tab="options"] .tab-error-dot').count(), 1);
  await opt('otp.length').fill('6');
  await group('mfa');
  await opt('mfa.enabled').check();
  await group('oauth2');
  await page.locator('#oauth2-add-provider').selectOption('github');
  await page.locator('#oauth2-add').click();
  await opt('oauth2.providers.0.clientId').fill('gh-client');
  await opt('oauth2.providers.0.clientSecret').fill('gh-secret');
  await group('templates');
  await opt('verificationTemplate.subject').fill('UI verify {APP_NAME}');
  await group('tokens');
  await opt('authToken.duration').fill('3600');
  await shot('74-auth-options');
  await page.locator('#collection-save').click();
  await page.locator('.panel').waitFor({ state: 'detached' });
  const users = (await api('/api/collections/users')).json;
  assert.equal(users.otp.enabled, true);
  assert.equal(users.otp.length, 6);
  assert.equal(users.mfa.enabled, true);
  assert.equal(users.authToken.duration, 3600);
  assert.equal(users.verificationTemplate.subject, 'UI verify {APP_NAME}');
  assert.equal(users.oauth2.providers[0].name, 'github');
  assert.equal(users.oauth2.providers[0].clientId, 'gh-client');
  assert.equal(users.oauth2.providers[0].clientSecret, undefined, 'the secret is never sent back');

  // Each template has a test send: the saved one goes out.
  await page.locator('#edit-collection').click();
  await page.locator('button.tab[data-tab="options"]').click();
  await group('templates');
  await page.locator('.mail-template[data-template="verification"] .template-test').click();
  assert.equal(await page.locator('#test-email-collection').inputValue(), 'users');
  assert.equal(await page.locator('#test-email-template').inputValue(), 'verification');
  await page.locator('#test-email-to').fill('template@example.com');
  await page.locator('#test-email-send').click();
  const mail = await smtp.waitFor('template@example.com');
  assert.match(mail.data, /UI verify/);
  await page.locator('#test-email-form').waitFor({ state: 'detached' });
  await page.keyboard.press('Escape');
  await page.locator('.panel').waitFor({ state: 'detached' });
});

test('metrics: off without --metrics; with it, requests, latency and the other charts fill from /metrics', { timeout: 90_000 }, async () => {
  await page.goto(`${server.url}/_/#/metrics`);
  await page.getByText('Metrics are off.').waitFor();
  assert.equal(await page.locator('#nav-metrics.active').count(), 1);
  const metered = await startServer({ args: ['--metrics'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15_000);
  const p = await context.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  try {
    await p.goto(`${metered.url}/_/#/metrics`);
    await loginIfNeeded(p);
    // Traffic between scrapes: answers of two classes.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      await Promise.all([fetch(`${metered.url}/api/health`), fetch(`${metered.url}/api/collections/nope/records`)]);
      const total = Number((await p.locator('#metrics-requests').getAttribute('data-total', { timeout: 100 }).catch(() => 0)) || 0);
      if (total > 0) break;
      await sleep(200);
    }
    await p.waitForFunction(() => Number(document.querySelector('#metrics-requests')?.dataset.total) > 0);
    const label = await p.locator('#metrics-requests').getAttribute('aria-label');
    assert.match(label, /2xx/);
    assert.match(label, /4xx/);
    for (const id of ['metrics-latency', 'metrics-errors', 'metrics-realtime', 'metrics-writer', 'metrics-outbox']) await p.locator(`#${id} canvas`).waitFor();
    // A few points: a line.
    await fetch(`${metered.url}/api/health`);
    await p.waitForFunction(() => Number(document.querySelector('#metrics-requests')?.dataset.points) >= 3);
    await screenshot(p, '75-metrics');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await stopServer(metered);
  }
});

test('settings / backups: restore brings the data back as it was', { timeout: 120_000 }, async () => {
  // ui_first.zip was made before ui_hooked existed.
  assert.equal((await api('/api/collections/ui_hooked')).status, 200);
  await open('backups');
  await page.locator('.backup-row[data-key="ui_first.zip"] .backup-restore').click();
  // The backup's name must be typed first.
  assert.equal(await page.locator('#backup-restore-submit').isDisabled(), true);
  await page.locator('#backup-restore-name').fill('ui_first.zip');
  await shot('69-backup-restore');
  await page.locator('#backup-restore-submit').click();
  // The page reloads once the server is back.
  await page.waitForEvent('load', { timeout: 90_000 });
  await loginIfNeeded(page);
  await until(async () => (await api('/api/collections/ui_hooked').catch(() => ({ status: 0 }))).status === 404, 60_000, 'the restored schema');
  assert.deepEqual(pageErrors, []);
});

/** A raw mail's text with its quoted-printable and base64 parts decoded. */
function decodedMail(raw) {
  const qp = raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  const b64 = [...raw.matchAll(/Content-Transfer-Encoding: base64\r?\n(?:[^\n]+\n)*\r?\n([A-Za-z0-9+/=\r\n]+)/gi)].map((m) => Buffer.from(m[1], 'base64').toString());
  return [qp, ...b64].join('\n');
}

/** Mail through the local SMTP server, and a superuser of the test's own. */
async function mailAndSuperuser(email, password) {
  const set = await api('/api/settings', { method: 'PATCH', body: { smtp: { enabled: true, host: '127.0.0.1', port: smtp.port } } });
  assert.equal(set.status, 200, JSON.stringify(set.json));
  const made = await api('/api/collections/_superusers/records', { method: 'POST', body: { email, password, passwordConfirm: password } });
  assert.equal(made.status, 200, JSON.stringify(made.json));
}

/** A browser session of its own on the login screen; `errors` collects its page errors. */
async function loginScreen() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(10_000);
  const p = await context.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  await p.goto(`${server.url}/_/`);
  await p.locator('#login-email').waitFor();
  return { context, p, errors };
}

test('login: "Forgot password?" mails a reset link, whose page sets the new password', { timeout: 60_000 }, async () => {
  const email = 'forgetful@example.com';
  await mailAndSuperuser(email, 'old-password-123');
  const { context, p, errors } = await loginScreen();
  try {
    await p.locator('#login-forgot').click();
    await p.locator('#reset-email').fill(email);
    await p.getByRole('button', { name: 'Send the reset link' }).click();
    await p.locator('#reset-request .form-ok').waitFor();
    const text = decodedMail((await smtp.waitFor(email)).data);
    const token = /\/_\/#\/auth\/confirm-password-reset\/([A-Za-z0-9._-]+)/.exec(text)?.[1];
    assert.ok(token, text);
    // The link's page (on this server: the mail's link has the app URL of the settings).
    await p.goto(`${server.url}/_/#/auth/confirm-password-reset/${token}`);
    await p.locator('#reset-password').fill('new-password-456');
    await p.locator('#reset-password-confirm').fill('not-the-same-999');
    await p.getByRole('button', { name: 'Set the password' }).click();
    await p.locator('#reset-confirm .form-error:not([hidden])').waitFor();
    await p.locator('#reset-password-confirm').fill('new-password-456');
    await p.getByRole('button', { name: 'Set the password' }).click();
    await p.locator('#reset-confirm .form-ok').waitFor();
    // The new password logs in through the login screen; the old one no longer does.
    await p.locator('#reset-login').click();
    await p.locator('#login-email').fill(email);
    await p.locator('#login-password').fill('new-password-456');
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.locator('nav.sidebar').waitFor();
    const old = await fetch(`${server.url}/api/collections/_superusers/auth-with-password`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ identity: email, password: 'old-password-123' }),
    });
    assert.equal(old.status, 400);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

/** The one-time password of a mail. */
const otpCode = (raw) => /one-time password is:\s*(?:<strong>|\*\*)?\s*(\d+)/.exec(decodedMail(raw))?.[1];

test('login: with MFA on, the password and then a mailed one-time code; with OTP on, a code alone', { timeout: 90_000 }, async () => {
  const options = async (body) => {
    const r = await api('/api/collections/_superusers', { method: 'PATCH', body });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  };
  await mailAndSuperuser('twofactor@example.com', 'two-factor-123');
  await mailAndSuperuser('codeonly@example.com', 'two-factor-123');
  await options({ otp: { enabled: true }, mfa: { enabled: true } });
  try {
    // The password first: right, so a code is mailed as the second factor.
    let { context, p, errors } = await loginScreen();
    await p.locator('#login-email').fill('twofactor@example.com');
    await p.locator('#login-password').fill('two-factor-123');
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.locator('#login-code .login-title', { hasText: 'One more step' }).waitFor();
    const code = otpCode((await smtp.waitFor('twofactor@example.com')).data);
    assert.ok(code, 'a code in the mail');
    await p.locator('#login-otp-code').fill('00000000');
    await p.locator('#login-code').getByRole('button', { name: 'Log in' }).click();
    await p.locator('#login-code .form-error:not([hidden])').waitFor();
    await p.locator('#login-otp-code').fill(code);
    await p.locator('#login-code').getByRole('button', { name: 'Log in' }).click();
    await p.locator('nav.sidebar').waitFor();
    assert.deepEqual(errors, []);
    await context.close();

    // OTP alone (MFA off): the code is the whole login.
    await options({ mfa: { enabled: false } });
    ({ context, p, errors } = await loginScreen());
    await p.locator('#login-email').fill('codeonly@example.com');
    await p.locator('#login-otp').click();
    await p.locator('#login-code .login-title', { hasText: 'One-time code' }).waitFor();
    await p.locator('#login-otp-code').fill(otpCode((await smtp.waitFor('codeonly@example.com')).data));
    await p.locator('#login-code').getByRole('button', { name: 'Log in' }).click();
    await p.locator('nav.sidebar').waitFor();
    assert.deepEqual(errors, []);
    await context.close();

    // OTP off: no code button.
    await options({ otp: { enabled: false } });
    ({ context, p, errors } = await loginScreen());
    await p.locator('#login-forgot').waitFor();
    assert.equal(await p.locator('#login-otp').count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await options({ otp: { enabled: false }, mfa: { enabled: false } });
  }
});
