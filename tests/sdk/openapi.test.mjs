// The API describing itself (oxbase only: PocketBase has none of it): /api/openapi.json passes
// a real OpenAPI 3.1 validator and holds the collections' schemas; the TypeScript types of
// /api/typegen.ts compile with the `pocketbase` SDK and `TypedPocketBase`, and misuse fails.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startServer, IS_POCKETBASE } from './harness.mjs';

/** This file's folder: the SDK resolves from its node_modules, whatever the working directory. */
const HERE = path.dirname(fileURLToPath(import.meta.url));

const skip = IS_POCKETBASE && 'PocketBase has no /api/openapi.json';

let srv, su;
before(async () => {
  if (skip) return;
  srv = await startServer();
  su = await srv.superuserClient();
  const users = await su.collections.getOne('users');
  await su.collections.create({
    name: 'posts',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'title', type: 'text', required: true, min: 3, max: 100 },
      { name: 'status', type: 'select', values: ['draft', 'published'] },
      { name: 'tags', type: 'select', values: ['a', 'b'], maxSelect: 2 },
      { name: 'views', type: 'number', onlyInt: true },
      { name: 'secret', type: 'text', hidden: true },
      { name: 'author', type: 'relation', collectionId: users.id, maxSelect: 1 },
      { name: 'meta', type: 'json' },
      { name: 'cover', type: 'file', maxSelect: 1 },
    ],
  });
  await su.collections.create({ name: 'drafts', type: 'base', fields: [{ name: 'body', type: 'text' }] });
});
after(async () => { await srv?.stop(); });

async function fetchDoc(token) {
  const res = await fetch(`${srv.url}/api/openapi.json`, { headers: token ? { Authorization: token } : {} });
  assert.equal(res.status, 200);
  return res.json();
}

describe('openapi', { skip }, () => {
  it('the document is valid OpenAPI 3.1, for superusers and guests', async () => {
    for (const token of [su.authStore.token, '']) {
      const doc = await fetchDoc(token);
      const validator = new Validator();
      const result = await validator.validate(doc);
      assert.equal(validator.version, '3.1');
      assert.ok(result.valid, JSON.stringify(result.errors, null, 1)?.slice(0, 3000));
    }
  });

  it('it holds the collections as the caller may see them', async () => {
    const full = await fetchDoc(su.authStore.token);
    const post = full.components.schemas.postsRecord;
    assert.deepEqual(post.properties.status.enum, ['draft', 'published', '']);
    assert.deepEqual(post.properties.tags.items.enum, ['a', 'b']);
    assert.equal(post.properties.secret.type, 'string');
    assert.deepEqual(full.components.schemas.postsCreate.required, ['title']);
    assert.ok(full.paths['/api/collections/drafts/records']);
    const guest = await fetchDoc('');
    assert.equal(guest.components.schemas.postsRecord.properties.secret, undefined);
    assert.equal(guest.paths['/api/collections/drafts/records'], undefined);
    assert.ok(guest.paths['/api/collections/posts/records'].get);
  });

  it('the API answers what the document says, to guests and superusers', async () => {
    const user = await su.collection('users').create({
      email: 'reader@example.com', password: 'password123', passwordConfirm: 'password123', emailVisibility: true,
    });
    const form = new FormData();
    for (const [k, v] of Object.entries({ title: 'Hello', status: 'published', views: 3, secret: 's', author: user.id })) form.append(k, String(v));
    form.append('tags', 'a');
    form.append('tags', 'b');
    form.append('meta', JSON.stringify({ rating: 5 }));
    form.append('cover', new Blob(['x'], { type: 'text/plain' }), 'cover.txt');
    await su.collection('posts').create(form);
    await su.collection('posts').create({ title: 'Bare' });
    for (const [client, token] of [[su, su.authStore.token], [srv.newClient(), '']]) {
      const doc = await fetchDoc(token);
      const ajv = new Ajv2020({ strict: false, allErrors: true });
      addFormats(ajv);
      ajv.addFormat('binary', true);
      ajv.addSchema(doc, 'openapi.json');
      const check = (name, value) => {
        const validate = ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` });
        assert.ok(validate(value), `${name}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(value)}`);
        // Without `fields`, every property the document names is there (it lists none as
        // required, since `fields` may leave any out).
        const named = Object.keys(doc.components.schemas[name].properties).filter((k) => k !== 'expand');
        assert.deepEqual(named.filter((k) => !(k in value)), [], name);
      };
      const page = await client.collection('posts').getList(1, 10, { expand: 'author' });
      assert.equal(page.items.length, 2);
      for (const post of page.items) check('postsRecord', post);
      if (token) assert.ok(page.items.some((p) => p.expand?.author), 'expanded');
      const bare = page.items.find((p) => p.title === 'Bare');
      check('postsRecord', await client.collection('posts').getOne(bare.id));
    }
    const auth = await srv.newClient().collection('users').authWithPassword('reader@example.com', 'password123');
    const doc = await fetchDoc(auth.token);
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    ajv.addSchema(doc, 'openapi.json');
    const validate = ajv.compile({ $ref: 'openapi.json#/paths/~1api~1collections~1users~1auth-with-password/post/responses/200/content/application~1json/schema' });
    assert.ok(validate(auth), JSON.stringify(validate.errors));
  });

  it('the viewer is served from the server itself', async () => {
    const res = await fetch(`${srv.url}/api/docs`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /swagger-ui/);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
  });
});

// A program using the generated types with the SDK, compiled strictly; `extra` is appended.
function compile(types, extra) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'typegen-'));
  const typesFile = path.join(dir, 'pocketbase-types.ts');
  const main = path.join(dir, 'main.ts');
  fs.writeFileSync(typesFile, types);
  fs.writeFileSync(main, `
import PocketBase from 'pocketbase'
import { Collections, PostsStatusOptions, type PostsRecord, type PostsResponse, type UsersResponse, type TypedPocketBase } from './pocketbase-types'

export async function demo(url: string): Promise<string> {
  const pb = new PocketBase(url) as TypedPocketBase
  const post: PostsResponse<{ rating: number }, { author: UsersResponse }> = await pb
    .collection('posts')
    .getOne<PostsResponse<{ rating: number }, { author: UsersResponse }>>('id', { expand: 'author' })
  const title: string = post.title
  const status: PostsStatusOptions = post.status
  const tags: string[] = post.tags
  const author: string = post.author
  const email: string = post.expand.author.email
  const rating: number | undefined = post.meta?.rating
  const list = await pb.collection(Collections.Posts).getList(1, 20)
  const first: PostsResponse | undefined = list.items[0]
  const input: PostsRecord = { title: 'hello', status: PostsStatusOptions.draft, tags: [] }
  await pb.collection('posts').create(input)
  const users = await pb.collection('users').getFullList()
  const verified: boolean[] = users.map((u) => u.verified)
  return [title, status, tags, author, email, rating, first?.id, verified].join()
}
${extra}
`);
  const options = {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler, skipLibCheck: true, types: [],
    lib: ['lib.es2020.d.ts', 'lib.dom.d.ts'],
    // The SDK resolves from tests/sdk/node_modules.
    baseUrl: dir, paths: { pocketbase: [path.join(HERE, 'node_modules/pocketbase')] },
  };
  const program = ts.createProgram([main], options);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  fs.rmSync(dir, { recursive: true, force: true });
  return diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('typegen', { skip }, () => {
  let types;
  before(async () => {
    if (skip) return;
    const res = await fetch(`${srv.url}/api/typegen.ts`, { headers: { Authorization: su.authStore.token } });
    assert.equal(res.status, 200);
    types = await res.text();
  });

  it('the types compile with the SDK under --strict', () => {
    assert.deepEqual(compile(types, ''), []);
  });

  it('a wrong field type is a type error', () => {
    const errors = compile(types, `
export async function misuse(pb: TypedPocketBase) {
  const post = await pb.collection('posts').getOne('id')
  const n: number = post.title
  const bad: PostsRecord = { title: 1 }
  return [n, bad]
}
`);
    assert.equal(errors.length, 2, errors.join('\n'));
    assert.ok(errors.every((e) => /not assignable to type 'number'|not assignable to type 'string'/.test(e)), errors.join('\n'));
  });

  it('guests cannot fetch the types', async () => {
    const res = await fetch(`${srv.url}/api/typegen.ts`);
    assert.equal(res.status, 401);
  });
});

