// Unit tests of the rule editor's language module (ui/js/components/rule-language.js): the
// tokenizer behind the highlighting, the word at the caret and the completion source. Plain
// node, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize, wordAt, ruleCompleter, DATE_MACROS } from '../../ui/js/components/rule-language.js';

const kinds = (src) => tokenize(src).filter((t) => t.type !== 'space').map((t) => `${t.type}:${t.text}`);
const labels = (items) => items.map((i) => i.label);

test('tokenize: every character belongs to one token, in order', () => {
  for (const src of ['', 'a = 1', '  status = "x" && (title ~ \'y\' || n >= -2.5)  ', 'a // c\n// d\nb', '"open string', '&|!! ~~ 😀 é', 'f(a,b)', 'x:each:lower ?!= @request.body.x:isset']) {
    const tokens = tokenize(src);
    assert.equal(tokens.map((t) => t.text).join(''), src, src);
    tokens.forEach((t, i) => {
      assert.equal(src.slice(t.start, t.end), t.text);
      if (i) assert.equal(t.start, tokens[i - 1].end);
    });
  }
});

test('tokenize: fields, macros, operators, joins, literals, numbers, strings, comments', () => {
  assert.deepEqual(kinds('status = "published" && @request.auth.id != \'\' || count >= -3.5 // why\n(verified = true)'), [
    'field:status', 'op:=', 'string:"published"', 'join:&&', 'macro:@request.auth.id', 'op:!=', "string:''", 'join:||',
    'field:count', 'op:>=', 'number:-3.5', 'comment:// why', 'paren:(', 'field:verified', 'op:=', 'literal:true', 'paren:)',
  ]);
  assert.deepEqual(kinds('a ?= 1 && b ?!~ "x" && c !~ d && e ?<= @now'), ['field:a', 'op:?=', 'number:1', 'join:&&', 'field:b', 'op:?!~', 'string:"x"', 'join:&&', 'field:c', 'op:!~', 'field:d', 'join:&&', 'field:e', 'op:?<=', 'macro:@now']);
  assert.deepEqual(kinds('NULL False'), ['literal:NULL', 'literal:False']);
  assert.deepEqual(kinds('"a \\" b" x'), ['string:"a \\" b"', 'field:x']);
});

test('tokenize: modifiers are their own token; an unknown one stays part of the name', () => {
  assert.deepEqual(kinds('title:lower = tags:length'), ['field:title', 'mod::lower', 'op:=', 'field:tags', 'mod::length']);
  assert.deepEqual(kinds('@request.body.title:isset && @request.body.x:changed'), ['macro:@request.body.title', 'mod::isset', 'join:&&', 'macro:@request.body.x', 'mod::changed']);
  assert.deepEqual(kinds('tags:each:lower'), ['field:tags', 'mod::each:lower']);
  assert.deepEqual(kinds('title:upper'), ['field:title:upper']);
});

test('tokenize: what the server rejects is an error token; functions are named', () => {
  assert.deepEqual(kinds('a => b & c ||| d - e'), ['field:a', 'error:=>', 'field:b', 'error:&', 'field:c', 'error:|||', 'field:d', 'error:-', 'field:e']);
  assert.deepEqual(kinds('geoDistance(lon, lat, 1, 2) < 5'), ['func:geoDistance', 'paren:(', 'field:lon', 'comma:,', 'field:lat', 'comma:,', 'number:1', 'comma:,', 'number:2', 'paren:)', 'op:<', 'number:5']);
  assert.deepEqual(kinds('x = 😀'), ['field:x', 'op:=', 'error:😀']);
});

test('wordAt: the identifier at the caret, nothing inside strings, comments and numbers', () => {
  assert.deepEqual(wordAt('title', 5), { from: 0, to: 5, word: 'title' });
  assert.deepEqual(wordAt('(aut', 4), { from: 1, to: 4, word: 'aut' });
  assert.deepEqual(wordAt('author.na me', 9), { from: 0, to: 9, word: 'author.na' });
  assert.deepEqual(wordAt('auth = 1', 2), { from: 0, to: 4, word: 'au' }, 'the whole identifier is replaced');
  assert.deepEqual(wordAt('a && @request.au', 16), { from: 5, to: 16, word: '@request.au' });
  assert.deepEqual(wordAt('x = ', 4), { from: 4, to: 4, word: '' });
  assert.deepEqual(wordAt('"a" b', 5), { from: 4, to: 5, word: 'b' });
  assert.equal(wordAt('a = "ti', 7), null);
  assert.equal(wordAt('x // co', 7), null);
  assert.equal(wordAt('x = 12', 6), null);
});

// users (auth) ← authors.owner; authors ← posts.author
const users = {
  id: '_pb_users_auth_', name: 'users', type: 'auth',
  fields: [
    { name: 'id', type: 'text', system: true }, { name: 'password', type: 'password', hidden: true }, { name: 'tokenKey', type: 'text', hidden: true },
    { name: 'email', type: 'email' }, { name: 'emailVisibility', type: 'bool' }, { name: 'verified', type: 'bool' }, { name: 'name', type: 'text' },
    { name: 'created', type: 'autodate' }, { name: 'updated', type: 'autodate' },
  ],
};
const authors = { id: 'pbc_authors', name: 'authors', type: 'base', fields: [{ name: 'id', type: 'text' }, { name: 'name', type: 'text' }, { name: 'owner', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 }] };
const posts = {
  id: 'pbc_posts', name: 'posts', type: 'base',
  fields: [
    { name: 'id', type: 'text' }, { name: 'title', type: 'text' }, { name: 'status', type: 'select', maxSelect: 1 }, { name: 'tags', type: 'select', maxSelect: 3 },
    { name: 'author', type: 'relation', collectionId: 'pbc_authors', maxSelect: 1 }, { name: 'views', type: 'number' },
    { name: 'created', type: 'autodate' }, { name: 'updated', type: 'autodate' },
  ],
};
const collections = [authors, posts, users];

test('completion: the fields first, in their order; @ entries once "@" is typed', () => {
  const suggest = ruleCompleter(posts, collections);
  assert.deepEqual(labels(suggest('')).slice(0, 8), ['id', 'title', 'status', 'tags', 'author', 'views', 'created', 'updated']);
  assert.deepEqual(labels(suggest('st')), ['status', 'author.posts_via_author.status'], 'a prefix first, then a path segment');
  assert.deepEqual(labels(suggest('t')).slice(0, 2), ['title', 'tags']);
  assert.ok(!labels(suggest('t')).some((l) => l.startsWith('@')));
  assert.deepEqual(labels(suggest('@')).slice(0, 3), ['@request.', '@collection.', '@now']);
  assert.deepEqual(labels(suggest('@n')), ['@now']);
  for (const m of DATE_MACROS) assert.ok(labels(suggest('@')).includes(m) || labels(suggest(m)).includes(m), m);
  const container = suggest('@r')[0];
  assert.deepEqual([container.label, container.container], ['@request.', true]);
});

test('completion: the system fields of a draft that does not list them, auth ones included', () => {
  const draft = { name: 'members', type: 'auth', fields: [{ name: 'nick', type: 'text' }, { name: 'password', type: 'password' }, { name: 'tokenKey', type: 'text' }] };
  const got = labels(ruleCompleter(draft, collections)(''));
  for (const f of ['nick', 'id', 'email', 'emailVisibility', 'verified']) assert.ok(got.includes(f), f);
  assert.ok(!got.includes('password') && !got.includes('tokenKey'));
  // created and updated are autodate fields a collection may remove: offered when it has them.
  assert.ok(!got.includes('created'));
  assert.ok(labels(ruleCompleter(posts, collections)('')).includes('created'));
});

test('completion: relation paths one and two levels deep, and back-relations', () => {
  const suggest = ruleCompleter(posts, collections);
  const a = labels(suggest('author.'));
  for (const p of ['author.id', 'author.name', 'author.owner', 'author.posts_via_author', 'author.owner.email', 'author.owner.name']) assert.ok(a.includes(p), p);
  assert.deepEqual(labels(suggest('author.na'))[0], 'author.name');
  assert.ok(labels(suggest('au')).includes('author.owner'), 'one level below, from the top');
  assert.ok(labels(suggest('name')).includes('author.name'), 'a segment matches');
  assert.ok(labels(suggest('author.owner.')).includes('author.owner.authors_via_owner'));
  assert.ok(!labels(suggest('author.owner.')).includes('author.owner.password'));
  assert.deepEqual(suggest('nosuch.'), []);
  assert.deepEqual(suggest('title.'), [], 'not a relation');
});

test('completion: @request.auth, body, query, headers, method, context', () => {
  const suggest = ruleCompleter(posts, collections);
  assert.deepEqual(labels(suggest('@request.')).slice(0, 6), ['@request.auth.', '@request.body.', '@request.query.', '@request.headers.', '@request.method', '@request.context']);
  const auth = labels(suggest('@request.auth.'));
  for (const p of ['@request.auth.id', '@request.auth.collectionId', '@request.auth.collectionName', '@request.auth.email', '@request.auth.verified', '@request.auth.name', '@request.auth.authors_via_owner']) assert.ok(auth.includes(p), p);
  assert.ok(!auth.includes('@request.auth.tokenKey') && !auth.includes('@request.auth.password'));
  const body = labels(suggest('@request.body.'));
  for (const p of ['@request.body.title', '@request.body.author', '@request.body.author.name']) assert.ok(body.includes(p), p);
  assert.ok(!body.includes('@request.body.created'), 'autodates are not sent');
  assert.deepEqual(suggest('@request.query.'), []);
  assert.deepEqual(labels(suggest('@request.query.page:')), ['@request.query.page:isset']);
  assert.deepEqual(labels(suggest('@request.m')), ['@request.method']);
});

test('completion: @collection.<name>.* for every collection, the draft as edited', () => {
  const draft = { ...posts, fields: [...posts.fields, { name: 'unsaved', type: 'text' }] };
  const suggest = ruleCompleter(draft, collections);
  const names = labels(suggest('@collection.')).filter((l) => /^@collection\.\w+\.$/.test(l));
  assert.deepEqual(names.sort(), ['@collection.authors.', '@collection.posts.', '@collection.users.']);
  assert.ok(labels(suggest('@collection.posts.')).includes('@collection.posts.unsaved'));
  assert.ok(labels(suggest('@collection.authors.ow')).includes('@collection.authors.owner'));
});

test('completion: the modifiers a field takes', () => {
  const suggest = ruleCompleter(posts, collections);
  assert.deepEqual(labels(suggest('title:')), ['title:lower']);
  assert.deepEqual(labels(suggest('tags:')), ['tags:length', 'tags:each']);
  assert.deepEqual(labels(suggest('tags:e')), ['tags:each']);
  assert.deepEqual(labels(suggest('views:')), []);
  assert.deepEqual(labels(suggest('@request.body.title:')), ['@request.body.title:isset', '@request.body.title:changed', '@request.body.title:lower']);
  assert.deepEqual(labels(suggest('@request.body.views:is')), ['@request.body.views:isset']);
  assert.deepEqual(labels(suggest('author.name:')), ['author.name:lower']);
});

test('completion: self relations do not loop; at most 50 suggestions', () => {
  const tree = { id: 'pbc_tree', name: 'tree', type: 'base', fields: [{ name: 'parent', type: 'relation', collectionId: 'pbc_tree', maxSelect: 1 }] };
  const suggest = ruleCompleter(tree, [tree]);
  assert.ok(labels(suggest('parent.parent.parent.')).includes('parent.parent.parent.parent'));
  const wide = { name: 'wide', type: 'base', fields: Array.from({ length: 80 }, (_, i) => ({ name: `f${i}`, type: 'text' })) };
  assert.equal(ruleCompleter(wide, [])('f').length, 50);
});
