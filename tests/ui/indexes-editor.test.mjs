// Unit tests of the index statement functions of ui/js/components/indexes-editor.js (parse,
// format, the proposed name, following a renamed collection). Plain node, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIndex, formatIndex, newIndexName, retargetIndex } from '../../ui/js/components/indexes-editor.js';

const col = (name, collate = '', desc = false) => ({ name, collate, desc });

test('parseIndex: the statements PocketBase writes', () => {
  assert.deepEqual(parseIndex('CREATE UNIQUE INDEX `idx_abc` ON `posts` (`title`, `status`)'), {
    name: 'idx_abc', unique: true, table: 'posts', columns: [col('title'), col('status')], where: '',
  });
  assert.deepEqual(parseIndex("CREATE UNIQUE INDEX `idx_email__pb_users_auth_` ON `users` (`email`) WHERE `email` != ''"), {
    name: 'idx_email__pb_users_auth_', unique: true, table: 'users', columns: [col('email')], where: "`email` != ''",
  });
  // PocketBase's dashboard puts several columns on their own lines.
  assert.deepEqual(parseIndex('CREATE INDEX `idx_x` ON `posts` (\n  `title`,\n  `status`\n)').columns, [col('title'), col('status')]);
});

test('parseIndex: other quoting, IF NOT EXISTS, COLLATE, ASC/DESC, a semicolon', () => {
  assert.deepEqual(parseIndex('create index if not exists "a" on [t] (x collate nocase desc, y asc) where a = 1;'), {
    name: 'a', unique: false, table: 't', columns: [col('x', 'nocase', true), col('y')], where: 'a = 1',
  });
  assert.equal(parseIndex('CREATE INDEX idx_plain ON posts (title)').name, 'idx_plain');
});

test('parseIndex: null for what the form cannot express', () => {
  for (const sql of [
    'CREATE INDEX idx_x ON posts (lower(title))',
    'CREATE INDEX idx_x ON posts (lower(title)) WHERE status = "x"',
    'CREATE INDEX bad ON',
    'CREATE INDEX `i` ON `t` ()',
    'CREATE INDEX `i` ON `t` (`a`) WHERE',
    'CREATE INDEX `i` ON `t` (`a` + 1)',
    'DROP INDEX `i`',
    '',
    null,
  ]) assert.equal(parseIndex(sql), null, String(sql));
});

test('formatIndex: backticks as PocketBase writes them, and a parse round trip', () => {
  const def = { name: 'idx_q', unique: true, table: 'posts', columns: [col('status'), col('title')], where: '' };
  assert.equal(formatIndex(def), 'CREATE UNIQUE INDEX `idx_q` ON `posts` (`status`, `title`)');
  assert.equal(formatIndex({ ...def, unique: false, where: "  status != 'draft' " }), "CREATE INDEX `idx_q` ON `posts` (`status`, `title`) WHERE status != 'draft'");
  assert.equal(formatIndex({ ...def, columns: [col('email', 'NOCASE', true)] }), 'CREATE UNIQUE INDEX `idx_q` ON `posts` (`email` COLLATE NOCASE DESC)');
  for (const sql of ['CREATE UNIQUE INDEX `idx_abc` ON `posts` (`title`, `status`)', "CREATE INDEX `i` ON `t` (`a` COLLATE NOCASE) WHERE `a` != ''"]) {
    assert.equal(formatIndex(parseIndex(sql)), sql);
  }
});

test('newIndexName: idx_ and ten random lowercase letters or digits, as PocketBase proposes', () => {
  assert.match(newIndexName(), /^idx_[a-z0-9]{10}$/);
  assert.equal(newIndexName(() => 0), 'idx_aaaaaaaaaa');
  assert.equal(newIndexName(() => 0.999), 'idx_9999999999');
  assert.notEqual(newIndexName(), newIndexName());
});

test('retargetIndex: an index follows the collection it belongs to', () => {
  assert.equal(retargetIndex('CREATE INDEX idx_a ON old_name (x)', 'posts'), 'CREATE INDEX `idx_a` ON `posts` (`x`)');
  assert.equal(retargetIndex('CREATE INDEX `idx_a` ON `` (`x`)', 'posts'), 'CREATE INDEX `idx_a` ON `posts` (`x`)');
  const same = 'CREATE INDEX idx_a ON posts (x)';
  assert.equal(retargetIndex(same, 'posts'), same, 'unchanged text when the table is right');
  assert.equal(retargetIndex('CREATE INDEX i ON t (lower(x))', 'posts'), 'CREATE INDEX i ON t (lower(x))', 'left alone when it does not parse');
  assert.equal(retargetIndex(same, ''), same, 'a collection without a name yet');
});
