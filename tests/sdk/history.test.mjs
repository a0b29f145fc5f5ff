// Record history (oxbase only; docs/history.md) through the SDK's pb.send: a collection with
// `history: true` keeps a version per create, update and delete; the record's viewRule guards
// the list; a superuser restores a version (a deleted record comes back). PocketBase has no
// such option: against it the file is skipped.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError, IS_POCKETBASE } from './harness.mjs';

let srv, su, owner, other;

before(async () => {
  if (IS_POCKETBASE) return;
  srv = await startServer();
  su = await srv.superuserClient();
  for (const email of ['owner@example.com', 'other@example.com']) {
    await su.collection('users').create({ email, password: 'pass12345', passwordConfirm: 'pass12345' });
  }
  owner = srv.newClient();
  await owner.collection('users').authWithPassword('owner@example.com', 'pass12345');
  other = srv.newClient();
  await other.collection('users').authWithPassword('other@example.com', 'pass12345');
  const users = await su.collections.getOne('users');
  await su.collections.create({
    name: 'docs', history: true,
    listRule: 'owner = @request.auth.id', viewRule: 'owner = @request.auth.id',
    createRule: '', updateRule: 'owner = @request.auth.id', deleteRule: 'owner = @request.auth.id',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'note', type: 'text', hidden: true },
      { name: 'owner', type: 'relation', collectionId: users.id, maxSelect: 1 },
    ],
  });
});
after(async () => { await srv?.stop(); });

const historyOf = (pb, id, query = {}) =>
  pb.send(`/api/collections/docs/records/${id}/history`, { query });
const restore = (pb, id, version) =>
  pb.send(`/api/collections/docs/records/${id}/history/${version}/restore`, { method: 'POST' });

describe('record history', { skip: IS_POCKETBASE && 'oxbase only' }, () => {
  it('keeps a version per change, shown under the view rule, and restores one', async () => {
    const collection = await su.collections.getOne('docs');
    assert.equal(collection.history, true);

    const doc = await owner.collection('docs').create({ title: 'v1', owner: owner.authStore.record.id });
    await su.collection('docs').update(doc.id, { note: 'private' });
    await owner.collection('docs').update(doc.id, { title: 'v2' });

    const mine = await historyOf(owner, doc.id);
    assert.equal(mine.totalItems, 3);
    assert.deepEqual(mine.items.map((v) => [v.version, v.action]), [[3, 'update'], [2, 'update'], [1, 'create']]);
    assert.equal(mine.items[0].authId, owner.authStore.record.id);
    assert.equal(mine.items[2].record.title, 'v1');
    for (const v of mine.items) assert.equal('note' in v.record, false);
    const all = await historyOf(su, doc.id, { perPage: 1 });
    assert.equal(all.totalPages, 3);
    assert.equal(all.items[0].record.note, 'private');

    await expectError(historyOf(other, doc.id), 404);
    await expectError(restore(owner, doc.id, 1), 403);

    const restored = await restore(su, doc.id, 1);
    assert.equal(restored.title, 'v1');
    assert.equal((await owner.collection('docs').getOne(doc.id)).title, 'v1');

    await owner.collection('docs').delete(doc.id);
    const gone = await historyOf(owner, doc.id);
    assert.deepEqual(gone.items.map((v) => v.action).slice(0, 2), ['delete', 'update']);
    const back = await restore(su, doc.id, 3);
    assert.equal(back.id, doc.id);
    assert.equal(back.title, 'v2');
    assert.equal((await owner.collection('docs').getOne(doc.id)).title, 'v2');
  });
});
