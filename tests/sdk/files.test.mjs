// Files through the SDK: uploads with File/Blob values, modifiers, pb.files.getURL with thumbs
// and downloads, protected files with pb.files.getToken(). Runs against PocketBase too
// (SDK_SERVER=pocketbase) to pin the behaviour.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { startServer, expectError } from './harness.mjs';

/** A solid-red PNG of w x h, built by hand (no image library needed). */
function png(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2;
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3, Buffer.from([255, 0, 0]))]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Width and height from a PNG's IHDR. */
const pngSize = (buf) => [buf.readUInt32BE(16), buf.readUInt32BE(20)];

let srv, su, coll;
before(async () => {
  srv = await startServer();
  su = await srv.superuserClient();
  coll = await su.collections.create({
    name: 'albums', listRule: '', viewRule: '@request.auth.id != ""', createRule: '', updateRule: '', deleteRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'cover', type: 'file', maxSelect: 1, thumbs: ['40x20', '0x10'] },
      { name: 'photos', type: 'file', maxSelect: 5, mimeTypes: ['image/png', 'text/plain'] },
      { name: 'contract', type: 'file', protected: true },
    ],
  });
});
after(async () => { await srv?.stop(); });

describe('files through the SDK', () => {
  it('creates with File values, names them as PocketBase does and serves them back', async () => {
    const rec = await su.collection('albums').create({
      title: 'Trip',
      cover: new File([png(100, 50)], 'Cover Photo.png', { type: 'image/png' }),
      photos: [new File(['one'], 'a.txt'), new File([png(4, 4)], 'b.png')],
    });
    assert.match(rec.cover, /^cover_photo_[a-z0-9]{10}\.png$/);
    assert.equal(rec.photos.length, 2);
    const url = su.files.getURL(rec, rec.cover);
    assert.ok(url.includes(`/api/files/${coll.id}/${rec.id}/${rec.cover}`), url);
    const r = await fetch(url);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/png');
    assert.deepEqual(pngSize(Buffer.from(await r.arrayBuffer())), [100, 50]);
    const text = await fetch(su.files.getURL(rec, rec.photos[0], { download: true }));
    assert.match(text.headers.get('content-disposition'), /^attachment/);
    assert.equal(await text.text(), 'one');
  });

  it('serves declared thumbnails and the original for other sizes', async () => {
    const rec = await su.collection('albums').create({ cover: new File([png(100, 50)], 'c.png') });
    const size = async (thumb) => pngSize(Buffer.from(await (await fetch(su.files.getURL(rec, rec.cover, { thumb }))).arrayBuffer()));
    assert.deepEqual(await size('40x20'), [40, 20]);
    assert.deepEqual(await size('0x10'), [20, 10]);
    assert.deepEqual(await size('100x100'), [100, 100]);
    assert.deepEqual(await size('33x33'), [100, 50]);
  });

  it('appends, removes and validates files with the modifiers', async () => {
    let rec = await su.collection('albums').create({ photos: [new File(['x'], 'x.txt')] });
    rec = await su.collection('albums').update(rec.id, { 'photos+': new File(['y'], 'y.txt') });
    assert.equal(rec.photos.length, 2);
    const [first, second] = rec.photos;
    rec = await su.collection('albums').update(rec.id, { 'photos-': [first] });
    assert.deepEqual(rec.photos, [second]);
    assert.equal((await fetch(su.files.getURL(rec, first))).status, 404, 'a removed file is gone');
    const err = await expectError(su.collection('albums').update(rec.id, { 'photos+': new File([Buffer.from([0, 1, 2, 255])], 'blob.bin') }), 400);
    assert.equal(err.response.data.photos.code, 'validation_invalid_mime_type');
    await su.collection('albums').delete(rec.id);
    assert.equal((await fetch(su.files.getURL(rec, second))).status, 404, 'deleted with the record');
  });

  it('protected files need a file token from pb.files.getToken()', async () => {
    const rec = await su.collection('albums').create({ contract: new File(['signed'], 'contract.txt') });
    assert.equal((await fetch(su.files.getURL(rec, rec.contract))).status, 404);
    const token = await su.files.getToken();
    const r = await fetch(su.files.getURL(rec, rec.contract, { token }));
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'signed');
    await expectError(srv.newClient().files.getToken(), 401);
  });
});
