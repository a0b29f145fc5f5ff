// Backups through pb.backups: create, getFullList, getDownloadURL with a file token, upload,
// delete, and restore (the server restarts in place on the restored data). The same calls
// pass against PocketBase itself, except the restore, which restarts PocketBase's process.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError, IS_POCKETBASE } from './harness.mjs';

let srv, pb;
before(async () => { srv = await startServer(); pb = await srv.superuserClient(); });
after(async () => { await srv?.stop(); });

async function eventually(what, check, ms = 30_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if (await check()) return;
    } catch {
      // The server is restarting.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}: not seen within ${ms} ms`);
}

describe('backups', () => {
  it('create, list, download with a file token, upload and delete', async () => {
    assert.equal(await pb.backups.create('sdk_one.zip'), true);
    await expectError(pb.backups.create('Bad Name.zip'), 400);
    const list = await pb.backups.getFullList();
    const one = list.find((b) => b.key === 'sdk_one.zip');
    assert.ok(one, JSON.stringify(list));
    assert.deepEqual(Object.keys(one).sort(), ['key', 'modified', 'size']);
    assert.ok(one.size > 0);

    const token = await pb.files.getToken();
    const res = await fetch(pb.backups.getDownloadURL(token, 'sdk_one.zip'));
    assert.equal(res.status, 200);
    const zip = new Uint8Array(await res.arrayBuffer());
    assert.equal(zip.length, one.size);
    assert.deepEqual([...zip.slice(0, 2)], [0x50, 0x4b], 'a zip');
    const denied = await fetch(pb.backups.getDownloadURL('', 'sdk_one.zip'));
    assert.equal(denied.status, 403);

    const file = new File([zip], 'sdk_uploaded.zip', { type: 'application/zip' });
    assert.equal(await pb.backups.upload({ file }), true);
    await expectError(pb.backups.upload({ file }), 400);
    const keys = (await pb.backups.getFullList()).map((b) => b.key);
    assert.ok(keys.includes('sdk_uploaded.zip'), keys.join());

    assert.equal(await pb.backups.delete('sdk_uploaded.zip'), true);
    await expectError(pb.backups.delete('sdk_uploaded.zip'), 400);
    await expectError(pb.backups.restore('missing.zip'), 400);
  });

  it('guests cannot list, create or delete backups', async () => {
    const guest = srv.newClient();
    await expectError(guest.backups.getFullList(), 401);
    await expectError(guest.backups.create(''), 401);
    await expectError(guest.backups.delete('sdk_one.zip'), 401);
  });

  it('restore brings back the data and the server keeps serving', { skip: IS_POCKETBASE }, async () => {
    await pb.collections.create({ name: 'sdk_notes', type: 'base', fields: [{ name: 't', type: 'text' }] });
    const kept = await pb.collection('sdk_notes').create({ t: 'kept' });
    assert.equal(await pb.backups.create('sdk_restore.zip'), true);
    await pb.collection('sdk_notes').create({ t: 'after' });

    assert.equal(await pb.backups.restore('sdk_restore.zip'), true);
    await eventually('the restored records', async () => {
      const items = await pb.collection('sdk_notes').getFullList();
      return items.length === 1 && items[0].id === kept.id;
    });
    const health = await pb.health.check();
    assert.equal(health.data.canBackup, true);
  });
});
