// A tiny in-memory S3 for the browser tests (path-style PUT, GET, HEAD, DELETE and multi-object
// delete;
// no signature checks; the bucket `denied` answers 403), on a free 127.0.0.1 port: enough for the server's S3 connection test.
import http from 'node:http';

export async function startS3() {
  const objects = new Map();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const key = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      const found = objects.get(key);
      const headers = (o) => ({ etag: `"${o.etag}"`, 'last-modified': o.modified, 'content-length': o.body.length, 'content-type': 'application/octet-stream' });
      if (key.startsWith('/denied/')) {
        res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
      } else if (req.method === 'POST' && req.url.includes('?delete')) {
        // Multi-object delete: <Delete><Object><Key>k</Key></Object>...</Delete>.
        const keys = [...Buffer.concat(chunks).toString().matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
        for (const k of keys) objects.delete(`${key}/${k}`);
        const deleted = keys.map((k) => `<Deleted><Key>${k}</Key></Deleted>`).join('');
        res.writeHead(200, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?><DeleteResult>${deleted}</DeleteResult>`);
      } else if (req.method === 'PUT') {
        const o = { body: Buffer.concat(chunks), etag: `e${objects.size + 1}`, modified: new Date().toUTCString() };
        objects.set(key, o);
        res.writeHead(200, { etag: `"${o.etag}"` }).end();
      } else if ((req.method === 'GET' || req.method === 'HEAD') && found) {
        res.writeHead(200, headers(found)).end(req.method === 'GET' ? found.body : undefined);
      } else if (req.method === 'DELETE') {
        objects.delete(key);
        res.writeHead(204).end();
      } else {
        res.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code><Message>not found</Message></Error>');
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, objects, stop: () => new Promise((r) => server.close(r)) };
}
