// Scale-out (issue #7): three oxbase processes on one PostgreSQL database behind nginx. An SDK
// client subscribed through one instance receives writes made through the others; one
// instance killed with SIGKILL in the middle of a write load loses no acknowledged write, and
// the others keep serving. Needs PostgreSQL (SDK_DATABASE_URL) and Debian's nginx; the test
// command runs it in its PostgreSQL pass.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import PocketBase from 'pocketbase';
import { SU_EMAIL, SU_PASSWORD, IS_POCKETBASE, freePort, waitHealthy, createDatabase, serverBin, spawnOxbase } from './harness.mjs';

globalThis.EventSource = EventSource;

const NGINX = process.env.NGINX_BIN || '/usr/sbin/nginx';
const ENABLED = !IS_POCKETBASE && !!process.env.SDK_DATABASE_URL;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The nginx configuration of docs/deploy.md, on local ports. */
function nginxConf(root, port, upstreams) {
  const servers = upstreams.map((u) => `    server 127.0.0.1:${u} max_fails=1 fail_timeout=10s;`).join('\n');
  return `
pid ${root}/nginx.pid;
error_log ${root}/nginx-error.log warn;
daemon off;
worker_processes 1;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${root}/body;
  proxy_temp_path ${root}/proxy;
  fastcgi_temp_path ${root}/fastcgi;
  uwsgi_temp_path ${root}/uwsgi;
  scgi_temp_path ${root}/scgi;
  upstream oxbase {
${servers}
    keepalive 16;
  }
  # A realtime client's SSE stream and its subscription POSTs must reach the same instance.
  upstream oxbase_realtime {
    hash $remote_addr consistent;
${servers}
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 64m;
    location /api/realtime {
      proxy_pass http://oxbase_realtime;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 1h;
    }
    location / {
      proxy_pass http://oxbase;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_next_upstream error timeout http_502;
    }
  }
}
`;
}

let root, database, instances = [], nginx, lb;

async function startInstance(i) {
  const dataDir = join(root, `data${i}`);
  const { child, url, logs } = await spawnOxbase(['serve', '--dir', dataDir, '--db', database.url], 15_000);
  return { port: Number(new URL(url).port), child, url, logs };
}

describe('three instances behind nginx', { skip: ENABLED ? false : 'needs SDK_DATABASE_URL (PostgreSQL) and oxbase' }, () => {
  before(async () => {
    assert.ok(existsSync(NGINX), `nginx not found at ${NGINX} (apt-get install nginx-light)`);
    root = mkdtempSync(join(tmpdir(), 'sdk-scaleout-'));
    database = await createDatabase();
    execFileSync(serverBin(), ['superuser', 'upsert', SU_EMAIL, SU_PASSWORD, '--dir', join(root, 'data0'), '--db', database.url], { stdio: 'ignore', timeout: 20_000 });
    // Started together: migrations run once, under the startup lock.
    instances = await Promise.all([0, 1, 2].map(startInstance));
    for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(root, d));
    // nginx exits when its port was taken meanwhile: it is started again on another.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      writeFileSync(join(root, 'nginx.conf'), nginxConf(root, port, instances.map((x) => x.port)));
      nginx = spawn(NGINX, ['-p', root, '-c', join(root, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
      lb = `http://127.0.0.1:${port}`;
      try {
        await waitHealthy(lb, nginx, 10_000);
        break;
      } catch (e) {
        try { nginx.kill('SIGKILL'); } catch { /* gone */ }
        if (attempt >= 3) throw e;
      }
    }
  });

  after(async () => {
    for (const x of instances) { try { x.child.kill('SIGKILL'); } catch { /* gone */ } }
    try { nginx?.kill('SIGTERM'); } catch { /* gone */ }
    await sleep(200);
    await database?.drop();
    if (root && !process.env.SDK_KEEP_DATA) rmSync(root, { recursive: true, force: true });
  });

  it('a subscriber on one instance receives writes made through the others', async () => {
    const admin = new PocketBase(lb);
    admin.autoCancellation(false);
    await admin.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD);
    await admin.collections.create({ name: 'chat', listRule: '', viewRule: '', createRule: '', fields: [{ name: 'text', type: 'text' }] });

    const listener = new PocketBase(instances[0].url);
    const seen = new Map();
    await listener.collection('chat').subscribe('*', (e) => seen.set(e.record.text, e.action));
    for (const [i, x] of instances.entries()) {
      const pb = new PocketBase(x.url);
      // The collection made through nginx is known everywhere (at once or within moments).
      for (let tries = 0; ; tries++) {
        try { await pb.collection('chat').create({ text: `via instance ${i}` }); break; } catch (e) {
          if (tries > 50) throw e;
          await sleep(20);
        }
      }
    }
    const deadline = Date.now() + 5000;
    while (seen.size < 3 && Date.now() < deadline) await sleep(20);
    assert.deepEqual([...seen.keys()].sort(), ['via instance 0', 'via instance 1', 'via instance 2']);
    listener.realtime.unsubscribe();
  });

  it('a SIGKILLed instance loses no acknowledged write and the others keep serving', async () => {
    const pb = new PocketBase(lb);
    pb.autoCancellation(false);
    const acknowledged = [];
    let failed = 0;
    let killed = false;
    const started = Date.now();
    // Bounded: 600 writes or 30 s, 8 at a time, the kill after 150 acknowledged writes.
    for (let n = 0; n < 600 && Date.now() - started < 30_000; n += 8) {
      const batch = Array.from({ length: 8 }, (_, k) => pb.collection('chat').create({ text: `load ${n + k}` })
        .then((r) => acknowledged.push(r.id), () => { failed++; }));
      await Promise.all(batch);
      if (!killed && acknowledged.length >= 150) {
        instances[2].child.kill('SIGKILL');
        killed = true;
      }
    }
    assert.ok(killed, 'the instance was killed mid-load');
    assert.ok(acknowledged.length >= 500, `most writes succeed (${acknowledged.length} acknowledged, ${failed} failed)`);
    // Every acknowledged write is there, read through the survivors.
    const all = await pb.collection('chat').getFullList({ fields: 'id', batch: 500 });
    const stored = new Set(all.map((r) => r.id));
    const lost = acknowledged.filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], `acknowledged but lost: ${lost.length}`);
    // The others keep serving, through nginx and directly.
    for (let i = 0; i < 10; i++) await pb.collection('chat').create({ text: `after ${i}` });
    for (const x of instances.slice(0, 2)) {
      const r = await fetch(`${x.url}/api/health`);
      assert.equal(r.status, 200);
    }
  });
});
