// List queries: pagination, totals, sort, filter syntax, fields.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError, ID_RE } from './harness.mjs';

let srv, pb, guest;
const A = {}; // authors by name
const P = {}; // posts by title
before(async () => {
  srv = await startServer();
  pb = await srv.superuserClient();
  guest = srv.newClient();
  const authors = await pb.collections.create({
    name: 'authors', listRule: '', viewRule: '', fields: [{ name: 'name', type: 'text' }],
  });
  const posts = await pb.collections.create({
    name: 'posts', listRule: '', viewRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'views', type: 'number' },
      { name: 'published', type: 'bool' },
      { name: 'tags', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
      { name: 'author', type: 'relation', collectionId: authors.id, maxSelect: 1 },
      { name: 'coauthors', type: 'relation', collectionId: authors.id, maxSelect: 5 },
      { name: 'body', type: 'editor' },
      { name: 'created', type: 'autodate', onCreate: true },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  });
  await pb.collections.create({
    name: 'comments', listRule: '', viewRule: '',
    fields: [{ name: 'text', type: 'text' }, { name: 'post', type: 'relation', collectionId: posts.id, maxSelect: 1 }],
  });
  for (const name of ['Ann', 'Bob', 'Cid', `O'Neil "Q"`]) A[name] = await pb.collection('authors').create({ name });
  const rows = [
    ['Alpha', 10, true, ['a', 'b'], 'Ann'],
    ['Beta', 20, false, ['b'], 'Bob'],
    ['Gamma', 30, true, ['c'], 'Ann'],
    ['delta', 20, true, [], 'Cid'],
    ['Epsilon long title', 5, false, ['a', 'c'], 'Bob'],
  ];
  const coauthors = { Alpha: ['Bob', 'Cid'], Beta: ['Ann'] };
  for (const [title, views, published, tags, author] of rows) {
    P[title] = await pb.collection('posts').create({
      title, views, published, tags, author: A[author].id, body: `<p>Body of <b>${title}</b> post</p>`,
      coauthors: (coauthors[title] || []).map((n) => A[n].id),
    });
  }
  for (const [text, post] of [['great post', 'Alpha'], ['meh', 'Alpha'], ['great stuff', 'Gamma'], ['ok', 'Beta']]) {
    await pb.collection('comments').create({ text, post: P[post].id });
  }
});
after(async () => { await srv?.stop(); });

async function titles(filter, sort = 'title') {
  const r = await guest.collection('posts').getList(1, 50, { filter, sort });
  return r.items.map((x) => x.title);
}

describe('list queries', () => {
  it('getList returns {page, perPage, totalItems, totalPages, items}', async () => {
    const r = await guest.collection('posts').getList(1, 2, { sort: 'views' });
    assert.deepEqual(Object.keys(r).sort(), ['items', 'page', 'perPage', 'totalItems', 'totalPages']);
    assert.equal(r.page, 1);
    assert.equal(r.perPage, 2);
    assert.equal(r.totalItems, 5);
    assert.equal(r.totalPages, 3);
    assert.deepEqual(r.items.map((x) => x.title), ['Epsilon long title', 'Alpha']);
    assert.match(r.items[0].id, ID_RE);
  });

  it('later pages continue the order and the last page is partial', async () => {
    const p2 = await guest.collection('posts').getList(2, 2, { sort: 'views,title' });
    assert.equal(p2.page, 2);
    assert.deepEqual(p2.items.map((x) => x.title), ['Beta', 'delta']);
    const p3 = await guest.collection('posts').getList(3, 2, { sort: 'views,title' });
    assert.deepEqual(p3.items.map((x) => x.title), ['Gamma']);
    const p4 = await guest.collection('posts').getList(4, 2, { sort: 'views,title' });
    assert.deepEqual(p4.items, []);
    assert.equal(p4.totalItems, 5);
    assert.equal(p4.page, 4);
  });

  it('default paging is page 1 with perPage 30', async () => {
    const r = await guest.collection('posts').getList();
    assert.equal(r.page, 1);
    assert.equal(r.perPage, 30);
    assert.equal(r.totalItems, 5);
    assert.equal(r.totalPages, 1);
  });

  it('skipTotal makes totalItems and totalPages -1', async () => {
    const r = await guest.collection('posts').getList(1, 2, { skipTotal: true, sort: 'views' });
    assert.equal(r.totalItems, -1);
    assert.equal(r.totalPages, -1);
    assert.equal(r.items.length, 2);
    assert.equal(r.page, 1);
    assert.equal(r.perPage, 2);
  });

  it('an empty result has totalItems 0 and totalPages 0', async () => {
    const r = await guest.collection('posts').getList(1, 10, { filter: 'views > 1000' });
    assert.deepEqual(r, { items: [], page: 1, perPage: 10, totalItems: 0, totalPages: 0 });
  });

  it('getFullList returns every record across batches', async () => {
    const all = await guest.collection('posts').getFullList({ sort: '-views,title', batch: 2 });
    assert.deepEqual(all.map((x) => x.title), ['Gamma', 'Beta', 'delta', 'Alpha', 'Epsilon long title']);
  });

  it('getFirstListItem returns the first match', async () => {
    const r = await guest.collection('posts').getFirstListItem('views = 20', { sort: '-title' });
    assert.equal(r.title, 'delta');
  });

  it('sort supports multiple keys and -field for descending', async () => {
    assert.deepEqual(await titles('', '-views,title'), ['Gamma', 'Beta', 'delta', 'Alpha', 'Epsilon long title']);
    assert.deepEqual(await titles('', '-views,-title'), ['Gamma', 'delta', 'Beta', 'Alpha', 'Epsilon long title']);
    assert.deepEqual(await titles('', '+views,title'), ['Epsilon long title', 'Alpha', 'Beta', 'delta', 'Gamma']);
  });

  it('sort by created follows insertion order', async () => {
    assert.deepEqual(await titles('', 'created,id').then((t) => t.length), 5);
    const byCreated = await guest.collection('posts').getFullList({ sort: '-created' });
    const times = byCreated.map((x) => x.created);
    assert.deepEqual([...times].sort().reverse(), times);
  });

  it('sort by a relation field works', async () => {
    assert.deepEqual(await titles('', 'author.name,title'), ['Alpha', 'Gamma', 'Beta', 'Epsilon long title', 'delta']);
  });

  it('@random sort returns every record', async () => {
    const r = await guest.collection('posts').getList(1, 50, { sort: '@random' });
    assert.equal(r.totalItems, 5);
    assert.deepEqual(r.items.map((x) => x.title).sort(), Object.keys(P).sort());
  });

  it('an unknown sort field gives 400', async () => {
    await expectError(guest.collection('posts').getList(1, 10, { sort: 'nosuchfield' }), 400);
  });

  it('filter comparison operators = != > >= < <= work on numbers', async () => {
    assert.deepEqual(await titles('views = 20'), ['Beta', 'delta']);
    assert.deepEqual(await titles('views != 20'), ['Alpha', 'Epsilon long title', 'Gamma']);
    assert.deepEqual(await titles('views > 10'), ['Beta', 'Gamma', 'delta']);
    assert.deepEqual(await titles('views >= 20'), ['Beta', 'Gamma', 'delta']);
    assert.deepEqual(await titles('views < 20'), ['Alpha', 'Epsilon long title']);
    assert.deepEqual(await titles('views <= 10'), ['Alpha', 'Epsilon long title']);
  });

  it('filter on bool and text equality', async () => {
    assert.deepEqual(await titles('published = true'), ['Alpha', 'Gamma', 'delta']);
    assert.deepEqual(await titles('published = false'), ['Beta', 'Epsilon long title']);
    assert.deepEqual(await titles("title = 'Beta'"), ['Beta']);
    assert.deepEqual(await titles('title = "Beta"'), ['Beta']);
  });

  it('~ is a case-insensitive contains and !~ its negation', async () => {
    assert.deepEqual(await titles("title ~ 'lph'"), ['Alpha']);
    assert.deepEqual(await titles("title ~ 'ALPHA'"), ['Alpha']);
    assert.deepEqual(await titles("title ~ 'ta'"), ['Beta', 'delta']);
    assert.deepEqual(await titles("title !~ 'a'"), ['Epsilon long title']);
  });

  it('~ honours explicit % wildcards', async () => {
    assert.deepEqual(await titles("title ~ 'G%'"), ['Gamma']);
    assert.deepEqual(await titles("title ~ '%a'"), ['Alpha', 'Beta', 'Gamma', 'delta']);
  });

  it('?= / ?~ match any element of a multi-value field via :each and through multi relations', async () => {
    // On a plain (non-relation) multi-value column, PocketBase compares against the stored JSON array text,
    // so element-wise matching uses the :each modifier.
    assert.deepEqual(await titles("tags:each ?= 'a'"), ['Alpha', 'Epsilon long title']);
    assert.deepEqual(await titles("tags:each ?= 'c'"), ['Epsilon long title', 'Gamma']);
    // ~ on the multi-value column is a LIKE over the JSON text, so it matches contained values
    assert.deepEqual(await titles("tags ?~ 'b'"), ['Alpha', 'Beta']);
    assert.deepEqual(await titles("tags ~ 'b'"), ['Alpha', 'Beta']);
    assert.deepEqual(await titles("tags !~ 'a'"), ['Beta', 'Gamma', 'delta']);
    // multi relation: ?= means "any related record matches"
    assert.deepEqual(await titles("coauthors.name ?= 'Bob'"), ['Alpha']);
    assert.deepEqual(await titles("coauthors.name ?~ 'O'"), ['Alpha']);
    assert.deepEqual(await titles("coauthors.name ?= 'Nobody'"), []);
  });

  it('= without ? on a multi-value field requires every element to match', async () => {
    assert.deepEqual(await titles("tags:each = 'b'"), ['Beta']);
    assert.deepEqual(await titles("coauthors.name = 'Ann'"), ['Beta']);
    // != compiles to a null-safe "IS NOT": records without any related record also match
    assert.deepEqual(await titles("coauthors.name ?!= 'Bob'"), ['Alpha', 'Beta', 'Epsilon long title', 'Gamma', 'delta']);
  });

  it('&& and || combine and parentheses group', async () => {
    assert.deepEqual(await titles('published = true && views > 10'), ['Gamma', 'delta']);
    assert.deepEqual(await titles('views = 5 || views = 30'), ['Epsilon long title', 'Gamma']);
    assert.deepEqual(await titles('(views = 5 || views = 30) && published = true'), ['Gamma']);
    assert.deepEqual(await titles('views = 5 || (views = 30 && published = false)'), ['Epsilon long title']);
  });

  it('pb.filter binds placeholders safely, including quotes', async () => {
    const f = pb.filter('title = {:t} && views >= {:v} && published = {:p}', { t: 'Alpha', v: 10, p: true });
    assert.equal(f, 'title = "Alpha" && views >= 10 && published = true');
    assert.deepEqual(await titles(f), ['Alpha']);
    const tricky = `O'Neil "Q"`;
    const r = await guest.collection('authors').getList(1, 10, { filter: pb.filter('name = {:n}', { n: tricky }) });
    assert.equal(r.totalItems, 1);
    assert.equal(r.items[0].name, tricky);
    const none = await guest.collection('authors').getList(1, 10, { filter: pb.filter('name = {:n}', { n: `x" || name != "` }) });
    assert.equal(none.totalItems, 0, 'placeholder values must not be able to inject filter syntax');
  });

  it('filter through a single relation: author.name', async () => {
    assert.deepEqual(await titles("author.name = 'Ann'"), ['Alpha', 'Gamma']);
    assert.deepEqual(await titles("author.name != 'Ann'"), ['Beta', 'Epsilon long title', 'delta']);
    assert.deepEqual(await titles(`author = '${A.Bob.id}'`), ['Beta', 'Epsilon long title']);
  });

  it('filter through a back-relation: comments_via_post.text ?~', async () => {
    assert.deepEqual(await titles("comments_via_post.text ?~ 'great'"), ['Alpha', 'Gamma']);
    assert.deepEqual(await titles("comments_via_post.text ?= 'ok'"), ['Beta']);
  });

  it(':length counts the elements of a multi-value field', async () => {
    assert.deepEqual(await titles('tags:length = 2'), ['Alpha', 'Epsilon long title']);
    assert.deepEqual(await titles('tags:length = 0'), ['delta']);
    assert.deepEqual(await titles('coauthors:length = 2'), ['Alpha']);
    assert.deepEqual(await titles('coauthors:length >= 1'), ['Alpha', 'Beta']);
  });

  it(':lower compares lower-cased text', async () => {
    assert.deepEqual(await titles("title:lower = 'delta'"), ['delta']);
    assert.deepEqual(await titles("title:lower = 'gamma'"), ['Gamma']);
  });

  it('date macros: created <= @now matches everything and created > @now nothing', async () => {
    assert.equal((await titles('created <= @now')).length, 5);
    assert.deepEqual(await titles('created > @now'), []);
    assert.equal((await titles('created >= @todayStart')).length >= 0, true);
    assert.equal((await titles("created > '2000-01-01 00:00:00.000Z'")).length, 5);
  });

  it('null and empty comparisons: empty relation and empty select', async () => {
    assert.deepEqual(await titles("author != ''"), ['Alpha', 'Beta', 'Epsilon long title', 'Gamma', 'delta']);
    assert.deepEqual(await titles("tags:length = 0 || tags:each ?= 'b'"), ['Alpha', 'Beta', 'delta']);
  });

  it('fields limits the returned keys', async () => {
    const r = await guest.collection('posts').getList(1, 50, { fields: 'id,title', sort: 'title' });
    assert.deepEqual(Object.keys(r.items[0]).sort(), ['id', 'title']);
    assert.equal(r.items[0].title, 'Alpha');
    assert.equal(r.totalItems, 5);
  });

  it('fields works on getOne', async () => {
    const r = await guest.collection('posts').getOne(P.Alpha.id, { fields: 'title,views' });
    assert.deepEqual(r, { title: 'Alpha', views: 10 });
  });

  it('fields with *,expand.author.name keeps all fields and only the name of the expanded author', async () => {
    const r = await guest.collection('posts').getOne(P.Gamma.id, { expand: 'author', fields: '*,expand.author.name' });
    assert.equal(r.title, 'Gamma');
    assert.equal(r.views, 30);
    assert.equal(r.collectionName, 'posts');
    assert.deepEqual(r.expand, { author: { name: 'Ann' } });
  });

  it(':excerpt(10,true) truncates text, strips HTML and appends an ellipsis', async () => {
    const r = await guest.collection('posts').getOne(P['Epsilon long title'].id, { fields: 'title:excerpt(10,true),body:excerpt(12)' });
    assert.equal(r.title, 'Epsilon lo...');
    assert.equal(r.body, 'Body of Epsi');
    const short = await guest.collection('posts').getOne(P.Beta.id, { fields: 'title:excerpt(10,true)' });
    assert.equal(short.title, 'Beta');
  });

  it('an invalid filter gives 400 with the standard error body', async () => {
    for (const filter of ['title ===', "nosuchfield = 'x'", '(views = 1', 'views = @nosuchmacro']) {
      const err = await expectError(guest.collection('posts').getList(1, 10, { filter }), 400);
      assert.equal(err.response.status, 400);
      assert.deepEqual(err.response.data, {});
      assert.equal(typeof err.response.message, 'string');
    }
  });

  it('superusers can list the same data with the same totals', async () => {
    const r = await pb.collection('posts').getList(1, 3, { filter: 'views >= 10', sort: 'title' });
    assert.equal(r.totalItems, 4);
    assert.equal(r.totalPages, 2);
    assert.deepEqual(r.items.map((x) => x.title), ['Alpha', 'Beta', 'Gamma']);
  });
});
