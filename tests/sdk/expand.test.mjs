// Relation expansion: single, multiple, nested, several, back-relations and view-rule filtering.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError } from './harness.mjs';

let srv, pb, guest, team, ann, bob, post, post2, note;
before(async () => {
  srv = await startServer();
  pb = await srv.superuserClient();
  guest = srv.newClient();
  const teams = await pb.collections.create({ name: 'teams', listRule: '', viewRule: '', fields: [{ name: 'name', type: 'text' }] });
  const authors = await pb.collections.create({
    name: 'authors', listRule: '', viewRule: '',
    fields: [{ name: 'name', type: 'text' }, { name: 'team', type: 'relation', collectionId: teams.id, maxSelect: 1 }],
  });
  const notes = await pb.collections.create({
    // viewRule null: only superusers may see these records, also through expand
    name: 'private_notes', listRule: null, viewRule: null, fields: [{ name: 'text', type: 'text' }],
  });
  const posts = await pb.collections.create({
    name: 'posts', listRule: '', viewRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'author', type: 'relation', collectionId: authors.id, maxSelect: 1 },
      { name: 'editors', type: 'relation', collectionId: authors.id, maxSelect: 5 },
      { name: 'note', type: 'relation', collectionId: notes.id, maxSelect: 1 },
    ],
  });
  await pb.collections.create({
    name: 'comments', listRule: '', viewRule: '',
    fields: [{ name: 'text', type: 'text' }, { name: 'post', type: 'relation', collectionId: posts.id, maxSelect: 1 }],
  });
  team = await pb.collection('teams').create({ name: 'Red' });
  ann = await pb.collection('authors').create({ name: 'Ann', team: team.id });
  bob = await pb.collection('authors').create({ name: 'Bob' });
  note = await pb.collection('private_notes').create({ text: 'top secret' });
  post = await pb.collection('posts').create({ title: 'P1', author: ann.id, editors: [bob.id, ann.id], note: note.id });
  post2 = await pb.collection('posts').create({ title: 'P2', author: bob.id });
  await pb.collection('comments').create({ text: 'first', post: post.id });
  await pb.collection('comments').create({ text: 'second', post: post.id });
});
after(async () => { await srv?.stop(); });

describe('expand', () => {
  it('without expand there is no expand key', async () => {
    const r = await guest.collection('posts').getOne(post.id);
    assert.equal('expand' in r, false);
    assert.equal(r.author, ann.id);
  });

  it('a single relation expands to a full record object', async () => {
    const r = await guest.collection('posts').getOne(post.id, { expand: 'author' });
    assert.deepEqual(r.expand.author, {
      collectionId: ann.collectionId, collectionName: 'authors', id: ann.id, name: 'Ann', team: team.id,
    });
    // the relation field itself keeps the id
    assert.equal(r.author, ann.id);
  });

  it('a multiple relation expands to an array in the stored order', async () => {
    const r = await guest.collection('posts').getOne(post.id, { expand: 'editors' });
    assert.ok(Array.isArray(r.expand.editors));
    assert.deepEqual(r.expand.editors.map((x) => x.name), ['Bob', 'Ann']);
  });

  it('a nested relation author.team expands inside the expanded author', async () => {
    const r = await guest.collection('posts').getOne(post.id, { expand: 'author.team' });
    assert.equal(r.expand.author.name, 'Ann');
    assert.deepEqual(r.expand.author.expand, {
      team: { collectionId: team.collectionId, collectionName: 'teams', id: team.id, name: 'Red' },
    });
  });

  it('several relations a,b expand together', async () => {
    const r = await guest.collection('posts').getOne(post.id, { expand: 'author,editors' });
    assert.deepEqual(Object.keys(r.expand).sort(), ['author', 'editors']);
    assert.equal(r.expand.author.name, 'Ann');
    assert.equal(r.expand.editors.length, 2);
  });

  it('an empty relation is left out of expand', async () => {
    const r = await guest.collection('posts').getOne(post2.id, { expand: 'editors,author.team' });
    assert.deepEqual(Object.keys(r.expand), ['author']);
    assert.equal(r.expand.author.name, 'Bob');
    // PocketBase sets an empty expand object on a record whose requested expansions all resolved to nothing
    assert.deepEqual(r.expand.author.expand, {}, 'Bob has no team so nothing to expand');
    const bare = await pb.collection('posts').create({ title: 'bare' });
    const b = await guest.collection('posts').getOne(bare.id, { expand: 'author,editors' });
    assert.deepEqual(b.expand, {});
    await pb.collection('posts').delete(bare.id);
  });

  it('a back-relation comments_via_post expands to an array of comments', async () => {
    const r = await guest.collection('posts').getOne(post.id, { expand: 'comments_via_post' });
    assert.ok(Array.isArray(r.expand.comments_via_post));
    assert.deepEqual(r.expand.comments_via_post.map((c) => c.text).sort(), ['first', 'second']);
    assert.equal(r.expand.comments_via_post[0].collectionName, 'comments');
    const r2 = await guest.collection('posts').getOne(post2.id, { expand: 'comments_via_post' });
    assert.equal('comments_via_post' in (r2.expand || {}), false);
  });

  it('expand works on every item of a list', async () => {
    const list = await guest.collection('posts').getList(1, 10, { expand: 'author.team', sort: 'title' });
    assert.deepEqual(list.items.map((p) => p.expand.author.name), ['Ann', 'Bob']);
    assert.equal(list.items[0].expand.author.expand.team.name, 'Red');
  });

  it('expand works through a comment to its post and the post author', async () => {
    const c = await guest.collection('comments').getFirstListItem("text = 'first'", { expand: 'post.author' });
    assert.equal(c.expand.post.title, 'P1');
    assert.equal(c.expand.post.expand.author.name, 'Ann');
  });

  it('expand respects the related collection view rule: hidden from guests, shown to superusers', async () => {
    const g = await guest.collection('posts').getOne(post.id, { expand: 'note,author' });
    assert.equal(g.note, note.id, 'the relation id itself is still returned');
    assert.equal('note' in g.expand, false, 'a non-viewable relation is silently left out');
    assert.equal(g.expand.author.name, 'Ann');
    const s = await pb.collection('posts').getOne(post.id, { expand: 'note' });
    assert.equal(s.expand.note.text, 'top secret');
  });

  it('an unknown expand path is ignored rather than failing the request', async () => {
    const r = await guest.collection('posts').getOne(post.id, { expand: 'nosuchfield' });
    assert.equal(r.title, 'P1');
    assert.equal(r.expand?.nosuchfield, undefined);
  });

  it('create and update responses honour expand', async () => {
    const created = await pb.collection('posts').create({ title: 'P3', author: ann.id }, { expand: 'author' });
    assert.equal(created.expand.author.name, 'Ann');
    const updated = await pb.collection('posts').update(created.id, { author: bob.id }, { expand: 'author' });
    assert.equal(updated.expand.author.name, 'Bob');
  });

  it('guests cannot read the private (null-rule) collection directly: 403 superusers only', async () => {
    const err = await expectError(guest.collection('private_notes').getOne(note.id), 403);
    assert.deepEqual(err.response, { data: {}, message: 'Only superusers can perform this action.', status: 403 });
  });
});
