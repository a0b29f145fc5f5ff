// API rules: null (superuser only), "" (public) and expressions using @request.auth, @request.body, @collection.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError } from './harness.mjs';

let srv, su, guest, u1, u2, user1, user2;
const SUPERUSERS_ONLY = { data: {}, message: 'Only superusers can perform this action.', status: 403 };
const NOT_FOUND = { data: {}, message: "The requested resource wasn't found.", status: 404 };

before(async () => {
  srv = await startServer();
  su = await srv.superuserClient();
  guest = srv.newClient();
  user1 = await su.collection('users').create({ email: 'u1@example.com', password: 'pass12345', passwordConfirm: 'pass12345', name: 'One' });
  user2 = await su.collection('users').create({ email: 'u2@example.com', password: 'pass12345', passwordConfirm: 'pass12345', name: 'Two' });
  u1 = srv.newClient();
  await u1.collection('users').authWithPassword('u1@example.com', 'pass12345');
  u2 = srv.newClient();
  await u2.collection('users').authWithPassword('u2@example.com', 'pass12345');

  await su.collections.create({ name: 'locked', fields: [{ name: 'title', type: 'text' }] });
  await su.collections.create({
    name: 'open', listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
    fields: [{ name: 'title', type: 'text' }],
  });
  const usersId = (await su.collections.getOne('users')).id;
  await su.collections.create({
    name: 'owned',
    listRule: 'owner = @request.auth.id',
    viewRule: 'owner = @request.auth.id',
    createRule: "@request.auth.id != '' && @request.body.owner = @request.auth.id",
    updateRule: "owner = @request.auth.id && @request.body.title != 'forbidden'",
    deleteRule: 'owner = @request.auth.id',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'owner', type: 'relation', collectionId: usersId, maxSelect: 1 },
    ],
  });
  await su.collections.create({
    name: 'members',
    fields: [{ name: 'user', type: 'relation', collectionId: usersId, maxSelect: 1 }, { name: 'role', type: 'text' }],
  });
  await su.collections.create({
    name: 'club',
    listRule: "@request.auth.id != '' && @collection.members.user ?= @request.auth.id",
    viewRule: "@collection.members.user ?= @request.auth.id && @collection.members.role ?= 'admin'",
    fields: [{ name: 'title', type: 'text' }],
  });
  await su.collections.create({
    name: 'authonly',
    listRule: "@request.auth.id != ''",
    viewRule: "@request.auth.id != ''",
    createRule: "@request.auth.id != ''",
    fields: [{ name: 'title', type: 'text' }],
  });
});
after(async () => { await srv?.stop(); });

describe('rules', () => {
  it('the normal user is an auth record but not a superuser', () => {
    assert.equal(u1.authStore.isValid, true);
    assert.equal(u1.authStore.isSuperuser, false);
    assert.equal(u1.authStore.record.id, user1.id);
    assert.equal(u1.authStore.record.collectionName, 'users');
  });

  describe('null rules (superusers only)', () => {
    let rec;
    before(async () => { rec = await su.collection('locked').create({ title: 'locked one' }); });

    it('guests get 403 "Only superusers can perform this action." for list, view, create, update and delete', async () => {
      for (const call of [
        () => guest.collection('locked').getList(1, 10),
        () => guest.collection('locked').getOne(rec.id),
        () => guest.collection('locked').create({ title: 'x' }),
        () => guest.collection('locked').update(rec.id, { title: 'x' }),
        () => guest.collection('locked').delete(rec.id),
      ]) {
        const err = await expectError(call(), 403);
        assert.deepEqual(err.response, SUPERUSERS_ONLY);
      }
    });

    it('normal users get the same 403 for every action', async () => {
      for (const call of [
        () => u1.collection('locked').getList(1, 10),
        () => u1.collection('locked').getOne(rec.id),
        () => u1.collection('locked').create({ title: 'x' }),
        () => u1.collection('locked').update(rec.id, { title: 'x' }),
        () => u1.collection('locked').delete(rec.id),
      ]) {
        const err = await expectError(call(), 403);
        assert.deepEqual(err.response, SUPERUSERS_ONLY);
      }
    });

    it('a null rule on a missing record still answers 403, not 404', async () => {
      const err = await expectError(guest.collection('locked').getOne('aaaaaaaaaaaaaaa'), 403);
      assert.deepEqual(err.response, SUPERUSERS_ONLY);
    });

    it('superusers can do everything and nothing was changed by the rejected calls', async () => {
      const list = await su.collection('locked').getList(1, 10);
      assert.equal(list.totalItems, 1);
      assert.equal(list.items[0].title, 'locked one');
      const u = await su.collection('locked').update(rec.id, { title: 'changed' });
      assert.equal(u.title, 'changed');
      const c = await su.collection('locked').create({ title: 'two' });
      assert.equal(await su.collection('locked').delete(c.id), true);
    });
  });

  describe('empty rules (public)', () => {
    it('guests can create, list, view, update and delete', async () => {
      const c = await guest.collection('open').create({ title: 'guest made' });
      assert.equal(c.title, 'guest made');
      assert.equal((await guest.collection('open').getList(1, 10)).totalItems, 1);
      assert.equal((await guest.collection('open').getOne(c.id)).title, 'guest made');
      assert.equal((await guest.collection('open').update(c.id, { title: 'edited' })).title, 'edited');
      assert.equal(await guest.collection('open').delete(c.id), true);
      assert.equal((await guest.collection('open').getList(1, 10)).totalItems, 0);
    });

    it('a public view of a missing record gives 404', async () => {
      const err = await expectError(guest.collection('open').getOne('aaaaaaaaaaaaaaa'), 404);
      assert.deepEqual(err.response, NOT_FOUND);
    });
  });

  describe('@request.auth.id and @request.body rules', () => {
    let r1, r2;
    before(async () => {
      r1 = await u1.collection('owned').create({ title: 'mine1', owner: user1.id });
      r2 = await u2.collection('owned').create({ title: 'mine2', owner: user2.id });
      await u1.collection('owned').create({ title: 'mine1b', owner: user1.id });
    });

    it('a user can create a record whose owner is themself', () => {
      assert.equal(r1.owner, user1.id);
      assert.equal(r2.owner, user2.id);
    });

    it('an unmet createRule gives 400 "Failed to create record."', async () => {
      const e1 = await expectError(u1.collection('owned').create({ title: 'spoof', owner: user2.id }), 400);
      assert.equal(e1.response.status, 400);
      assert.equal(e1.response.message, 'Failed to create record.');
      assert.deepEqual(e1.response.data, {});
      const e2 = await expectError(guest.collection('owned').create({ title: 'anon', owner: user1.id }), 400);
      assert.equal(e2.response.message, 'Failed to create record.');
      assert.equal((await su.collection('owned').getList(1, 50)).totalItems, 3);
    });

    it('a listRule filters the list instead of rejecting it', async () => {
      const l1 = await u1.collection('owned').getList(1, 50, { sort: 'title' });
      assert.deepEqual(l1.items.map((x) => x.title), ['mine1', 'mine1b']);
      assert.equal(l1.totalItems, 2);
      const l2 = await u2.collection('owned').getList(1, 50);
      assert.deepEqual(l2.items.map((x) => x.title), ['mine2']);
      const lg = await guest.collection('owned').getList(1, 50);
      assert.deepEqual(lg, { items: [], page: 1, perPage: 50, totalItems: 0, totalPages: 0 });
      const ls = await su.collection('owned').getList(1, 50);
      assert.equal(ls.totalItems, 3, 'superusers bypass rules');
    });

    it('a user filter is combined with the listRule', async () => {
      const l = await u1.collection('owned').getList(1, 50, { filter: "title = 'mine2'" });
      assert.equal(l.totalItems, 0);
    });

    it('an unmet viewRule gives 404, not 403', async () => {
      const e = await expectError(u2.collection('owned').getOne(r1.id), 404);
      assert.deepEqual(e.response, NOT_FOUND);
      const g = await expectError(guest.collection('owned').getOne(r1.id), 404);
      assert.deepEqual(g.response, NOT_FOUND);
      assert.equal((await u1.collection('owned').getOne(r1.id)).title, 'mine1');
    });

    it('an unmet updateRule gives 404 and leaves the record unchanged', async () => {
      await expectError(u2.collection('owned').update(r1.id, { title: 'hijack' }), 404);
      await expectError(guest.collection('owned').update(r1.id, { title: 'hijack' }), 404);
      assert.equal((await su.collection('owned').getOne(r1.id)).title, 'mine1');
    });

    it('@request.body in an updateRule checks the submitted value', async () => {
      await expectError(u1.collection('owned').update(r1.id, { title: 'forbidden' }), 404);
      const ok = await u1.collection('owned').update(r1.id, { title: 'renamed' });
      assert.equal(ok.title, 'renamed');
    });

    it('an unmet deleteRule gives 404 and the owner can delete', async () => {
      await expectError(u2.collection('owned').delete(r1.id), 404);
      await expectError(guest.collection('owned').delete(r1.id), 404);
      assert.equal(await u1.collection('owned').delete(r1.id), true);
      await expectError(su.collection('owned').getOne(r1.id), 404);
    });

    it('superusers bypass every rule', async () => {
      const c = await su.collection('owned').create({ title: 'by su', owner: user2.id });
      const u = await su.collection('owned').update(c.id, { title: 'forbidden' });
      assert.equal(u.title, 'forbidden');
      assert.equal(await su.collection('owned').delete(c.id), true);
    });
  });

  describe("@request.auth.id != '' rules", () => {
    it('guests get an empty list (200), not an error', async () => {
      await su.collection('authonly').create({ title: 'members only' });
      const l = await guest.collection('authonly').getList(1, 10);
      assert.equal(l.totalItems, 0);
      assert.deepEqual(l.items, []);
    });

    it('authenticated users see the records', async () => {
      const l = await u1.collection('authonly').getList(1, 10);
      assert.equal(l.totalItems, 1);
    });

    it('guests get 400 on create, users can create', async () => {
      await expectError(guest.collection('authonly').create({ title: 'anon' }), 400);
      const c = await u2.collection('authonly').create({ title: 'by u2' });
      assert.equal(c.title, 'by u2');
    });

    it('guests get 404 on view of an existing record', async () => {
      const [rec] = (await su.collection('authonly').getList(1, 1)).items;
      await expectError(guest.collection('authonly').getOne(rec.id), 404);
      assert.equal((await u1.collection('authonly').getOne(rec.id)).id, rec.id);
    });

    it('rules without an updateRule/deleteRule (null) give 403 to users', async () => {
      const [rec] = (await su.collection('authonly').getList(1, 1)).items;
      const e = await expectError(u1.collection('authonly').update(rec.id, { title: 'x' }), 403);
      assert.deepEqual(e.response, SUPERUSERS_ONLY);
      await expectError(u1.collection('authonly').delete(rec.id), 403);
    });
  });

  describe('@collection rules', () => {
    let secret;
    before(async () => {
      secret = await su.collection('club').create({ title: 'club news' });
      await su.collection('members').create({ user: user1.id, role: 'admin' });
      await su.collection('members').create({ user: user2.id, role: 'member' });
    });

    it('a user listed in another collection passes an @collection listRule', async () => {
      assert.equal((await u1.collection('club').getList(1, 10)).totalItems, 1);
      assert.equal((await u2.collection('club').getList(1, 10)).totalItems, 1);
      assert.equal((await guest.collection('club').getList(1, 10)).totalItems, 0);
    });

    it('several conditions on the same @collection alias must hold for the same joined row', async () => {
      // u1 has a members row with role admin -> allowed.
      assert.equal((await u1.collection('club').getOne(secret.id)).title, 'club news');
      // u2 has a members row, and some other row has role admin, but not the same row -> denied (404).
      // (PocketBase joins @collection.members once per rule, so both conditions apply to one row.)
      const e = await expectError(u2.collection('club').getOne(secret.id), 404);
      assert.deepEqual(e.response, NOT_FOUND);
      await expectError(guest.collection('club').getOne(secret.id), 404);
    });

    it('removing the membership revokes access', async () => {
      const m = await su.collection('members').getFirstListItem(su.filter('user = {:u}', { u: user2.id }));
      await su.collection('members').delete(m.id);
      assert.equal((await u2.collection('club').getList(1, 10)).totalItems, 0);
      await expectError(u2.collection('club').getOne(secret.id), 404);
    });
  });

  describe('auth collection rules', () => {
    it('the default users collection lets a user view only themself', async () => {
      const me = await u1.collection('users').getOne(user1.id);
      assert.equal(me.email, 'u1@example.com', 'the owner sees their own email');
      await expectError(u1.collection('users').getOne(user2.id), 404);
      const list = await u1.collection('users').getList(1, 10);
      assert.deepEqual(list.items.map((x) => x.id), [user1.id]);
      const gl = await guest.collection('users').getList(1, 10);
      assert.equal(gl.totalItems, 0);
    });

    it('the default users collection allows public sign-up (createRule "")', async () => {
      const r = await guest.collection('users').create({ email: 'new@example.com', password: 'pass12345', passwordConfirm: 'pass12345' });
      assert.equal(r.verified, false);
      assert.equal(r.emailVisibility, false);
      // the guest is not the owner and emailVisibility is false, so even the create response omits email
      assert.equal('email' in r, false);
      const s = await su.collection('users').getOne(r.id);
      assert.equal(s.email, 'new@example.com');
    });

    it('email is hidden from other users unless emailVisibility is true, but superusers always see it', async () => {
      await su.collection('users').update(user2.id, { emailVisibility: false });
      const s = await su.collection('users').getOne(user2.id);
      assert.equal(s.email, 'u2@example.com');
      await su.collections.update('users', { viewRule: '', listRule: '' });
      const hidden = await u1.collection('users').getOne(user2.id);
      assert.equal('email' in hidden, false);
      await su.collection('users').update(user2.id, { emailVisibility: true });
      const shown = await u1.collection('users').getOne(user2.id);
      assert.equal(shown.email, 'u2@example.com');
    });
  });
});
