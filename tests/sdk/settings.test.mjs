// Application settings through pb.settings.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError } from './harness.mjs';

let srv, pb;
before(async () => { srv = await startServer(); pb = await srv.superuserClient(); });
after(async () => { await srv?.stop(); });

describe('settings', () => {
  it('getAll returns the settings object with the PocketBase top-level sections', async () => {
    const s = await pb.settings.getAll();
    for (const key of ['meta', 'smtp', 's3', 'backups', 'batch', 'rateLimits', 'trustedProxy', 'logs']) {
      assert.ok(key in s, `missing settings section ${key}`);
    }
    assert.equal(typeof s.meta.appName, 'string');
    assert.equal(typeof s.meta.appURL, 'string');
    assert.equal(typeof s.meta.senderName, 'string');
    assert.equal(typeof s.meta.senderAddress, 'string');
    assert.equal(typeof s.meta.hideControls, 'boolean');
  });

  it('fresh settings have the PocketBase defaults for meta', async () => {
    const fresh = await (await srv.superuserClient()).settings.getAll();
    assert.equal(fresh.meta.appName, 'Acme');
    assert.equal(fresh.meta.appURL, 'http://localhost:8090');
    assert.equal(fresh.meta.senderName, 'Support');
    assert.equal(fresh.meta.senderAddress, 'support@example.com');
    assert.equal(fresh.meta.hideControls, false);
  });

  it('secrets are never returned: smtp and s3 have no password/secret fields', async () => {
    const s = await pb.settings.getAll();
    assert.equal('password' in s.smtp, false);
    assert.equal('secret' in s.s3, false);
    assert.equal('secret' in s.backups.s3, false);
    assert.equal(s.smtp.enabled, false);
    assert.equal(s.s3.enabled, false);
  });

  it('update with meta.appName returns the updated settings and the change persists', async () => {
    const before = await pb.settings.getAll();
    const updated = await pb.settings.update({ meta: { appName: 'x' } });
    assert.equal(updated.meta.appName, 'x');
    // a partial meta update keeps the other meta values
    assert.equal(updated.meta.appURL, before.meta.appURL);
    assert.equal(updated.meta.senderAddress, before.meta.senderAddress);
    const again = await pb.settings.getAll();
    assert.equal(again.meta.appName, 'x');
    // a different client (new connection) sees the same persisted value
    const other = await srv.superuserClient();
    assert.equal((await other.settings.getAll()).meta.appName, 'x');
  });

  it('update of one section leaves other sections unchanged', async () => {
    const before = await pb.settings.getAll();
    await pb.settings.update({ meta: { appName: 'Second Name', senderName: 'Bot' } });
    const after = await pb.settings.getAll();
    assert.equal(after.meta.appName, 'Second Name');
    assert.equal(after.meta.senderName, 'Bot');
    assert.deepEqual(after.smtp, before.smtp);
    assert.deepEqual(after.logs, before.logs);
    assert.deepEqual(after.batch, before.batch);
  });

  it('an empty appName is rejected with 400 and a nested validation_required error', async () => {
    const err = await expectError(pb.settings.update({ meta: { appName: '' } }), 400);
    assert.deepEqual(err.response.data, {
      meta: { appName: { code: 'validation_required', message: 'Cannot be blank.' } },
    });
    assert.equal(err.response.status, 400);
    assert.equal(typeof err.response.message, 'string');
    // and nothing was changed
    assert.equal((await pb.settings.getAll()).meta.appName, 'Second Name');
  });

  it('an invalid appURL is rejected with 400 and validation_is_url', async () => {
    const err = await expectError(pb.settings.update({ meta: { appURL: 'not a url' } }), 400);
    assert.equal(err.response.data.meta.appURL.code, 'validation_is_url');
  });

  it('guests get 401 and regular users get 403 for settings', async () => {
    const guest = srv.newClient();
    const g = await expectError(guest.settings.getAll(), 401);
    assert.deepEqual(g.response, { data: {}, message: 'The request requires valid record authorization token.', status: 401 });
    await expectError(guest.settings.update({ meta: { appName: 'hack' } }), 401);

    await pb.collection('users').create({ email: 'reader@example.com', password: 'pass12345', passwordConfirm: 'pass12345' });
    const user = srv.newClient();
    await user.collection('users').authWithPassword('reader@example.com', 'pass12345');
    const u = await expectError(user.settings.getAll(), 403);
    assert.deepEqual(u.response, { data: {}, message: 'The authorized record is not allowed to perform this action.', status: 403 });
    await expectError(user.settings.update({ meta: { appName: 'hack' } }), 403);
    assert.notEqual((await pb.settings.getAll()).meta.appName, 'hack');
  });
});
