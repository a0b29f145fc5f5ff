// Test harness: starts a fresh server (oxbase or the reference PocketBase) per test file,
// on a free 127.0.0.1 port, with a fresh temp data dir and a superuser created via the CLI.
//
// Env:
//   SDK_SERVER = oxbase (default) | pocketbase
//   OXBASE_BIN = path to the oxbase binary (default: <repo>/target/debug/oxbase)
//   PB_BIN     = path to the PocketBase binary (default: output of shared/tools/pocketbase-ref --path)
//   SDK_KEEP_DATA=1 keeps the temp data dir (for debugging)
//   SDK_DATABASE_URL = postgres://user@host:port/db: oxbase runs on PostgreSQL, each server on a
//                      fresh database created from this connection and dropped on stop()
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import PocketBase from 'pocketbase';
import pg from 'pg';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '..', '..');

export const SU_EMAIL = 'admin@example.com';
export const SU_PASSWORD = '1234567890abc';

export const SERVER_KIND = (process.env.SDK_SERVER || 'oxbase').toLowerCase();
export const IS_POCKETBASE = SERVER_KIND === 'pocketbase';

const STARTUP_TIMEOUT_MS = 10_000;
const CLI_TIMEOUT_MS = 20_000;

function pocketbaseBin() {
  if (process.env.PB_BIN) return process.env.PB_BIN;
  const candidates = [
    resolve(REPO, '..', 'shared', 'tools', 'pocketbase-ref'),
    '/work/shared/tools/pocketbase-ref',
  ];
  for (const script of candidates) {
    if (existsSync(script)) {
      return execFileSync(script, ['--path'], { encoding: 'utf8', timeout: 120_000 }).trim();
    }
  }
  throw new Error('cannot find the reference PocketBase: set PB_BIN');
}

export function serverBin(kind = SERVER_KIND) {
  if (kind === 'pocketbase') return pocketbaseBin();
  if (kind !== 'oxbase') throw new Error(`unknown SDK_SERVER=${kind} (use oxbase or pocketbase)`);
  const bin = process.env.OXBASE_BIN || join(REPO, 'target', 'debug', 'oxbase');
  if (!existsSync(bin)) throw new Error(`oxbase binary not found at ${bin} (build it or set OXBASE_BIN)`);
  return bin;
}

/**
 * A port for a server that cannot listen on port 0 and say which it got (PocketBase, nginx):
 * free now, and below the kernel's ephemeral range (32768 and up), so no socket bound to port 0
 * (oxbase's servers, every outgoing connection) can take it before the server binds it. A
 * server that still finds it taken exits, and its caller starts it again on another.
 */
export async function freePort() {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise((res) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', () => res(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
    });
    if (free) return port;
  }
}

/**
 * Waits for a server's banner ("Server started at http://HOST:PORT", which oxbase and
 * PocketBase print once they listen) in `logs` (the chunks of its stdout and stderr) and returns
 * the URL it names; throws when the child exits first or after `deadlineMs`.
 */
export async function waitBanner(child, logs, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const m = /Server started at (http:\/\/[0-9.]+:\d+)/.exec(logs.join(''));
    if (m) return m[1];
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited early (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    await sleep(20);
  }
  throw new Error(`no banner after ${deadlineMs} ms`);
}

/**
 * Starts oxbase with `args` (which must not name --http) listening on port 0: the banner tells
 * the port it got, so no port is ever guessed. Returns {child, url, logs}.
 */
export async function spawnOxbase(args, deadlineMs = STARTUP_TIMEOUT_MS) {
  const child = spawn(serverBin('oxbase'), [...args, '--http', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  const onData = (d) => { if (logs.length < 2000) logs.push(d.toString()); };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  try {
    const url = await waitBanner(child, logs, deadlineMs);
    await waitHealthy(url, child, deadlineMs);
    return { child, url, logs };
  } catch (e) {
    try { child.kill('SIGKILL'); } catch { /* ignore */ }
    throw new Error(`${e.message}\n--- server output ---\n${logs.join('').slice(-4000)}`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitHealthy(url, child, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  let lastErr;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited early (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    try {
      const ctl = AbortSignal.timeout(1000);
      const r = await fetch(`${url}/api/health`, { signal: ctl });
      if (r.ok) return;
      lastErr = new Error(`health status ${r.status}`);
    } catch (e) {
      lastErr = e;
    }
    await sleep(50);
  }
  throw new Error(`server not healthy after ${deadlineMs} ms: ${lastErr?.message}`);
}

const running = new Set();
function killAll() {
  for (const c of running) {
    try { c.kill('SIGKILL'); } catch { /* ignore */ }
  }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { killAll(); process.exit(130); });
}

/**
 * Starts a fresh server. Returns {url, pb, stop, newClient, superuserClient, dataDir, logs}.
 * Always call stop() (e.g. in an `after` hook); it is idempotent. `kind` (oxbase | pocketbase)
 * defaults to SDK_SERVER; the differential test starts one of each.
 */
export async function startServer({ kind = SERVER_KIND, hooks = null } = {}) {
  const isPocketbase = kind === 'pocketbase';
  const bin = serverBin(kind);
  const root = mkdtempSync(join(tmpdir(), `sdk-${kind}-`));
  const dataDir = join(root, 'data');
  const publicDir = join(root, 'public');
  const hooksDir = join(root, 'hooks');
  mkdirSync(publicDir, { recursive: true });
  // `hooks`: file name -> source of the JS hook files both servers load (`*.pb.js`).
  mkdirSync(hooksDir, { recursive: true });
  for (const [name, source] of Object.entries(hooks || {})) writeFileSync(join(hooksDir, name), source);
  const database = isPocketbase ? null : await createDatabase();
  const dbArgs = database ? ['--db', database.url] : [];

  execFileSync(bin, ['superuser', 'upsert', SU_EMAIL, SU_PASSWORD, '--dir', dataDir, ...dbArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: CLI_TIMEOUT_MS,
  });

  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    // oxbase listens on port 0 and names its port in its banner; PocketBase (whose banner
    // names the address it was given) gets a free port, and is started again on another when
    // that one was taken meanwhile (it then exits without a banner).
    const port = isPocketbase ? await freePort() : 0;
    let url = `http://127.0.0.1:${port}`;
    const args = ['serve', '--http', `127.0.0.1:${port}`, '--dir', dataDir, '--publicDir', publicDir, ...dbArgs];
    if (isPocketbase) {
      args.push('--automigrate=false', '--migrationsDir', join(root, 'migrations'), '--hooksDir', hooksDir);
    } else {
      args.push('--hooksDir', hooksDir);
    }
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    const logs = [];
    const onData = (d) => { if (logs.length < 2000) logs.push(d.toString()); };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => running.delete(child));

    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* ignore */ } }, 3000);
        await Promise.race([exited, sleep(5000)]);
        clearTimeout(t);
      }
      running.delete(child);
      if (!process.env.SDK_KEEP_DATA) rmSync(root, { recursive: true, force: true });
      await database?.drop();
    };

    try {
      const announced = await waitBanner(child, logs, STARTUP_TIMEOUT_MS);
      if (!isPocketbase) url = announced;
      await waitHealthy(url, child, STARTUP_TIMEOUT_MS);
    } catch (e) {
      lastError = new Error(`${e.message}\n--- server output ---\n${logs.join('').slice(-4000)}`);
      stopped = false;
      try { child.kill('SIGKILL'); } catch { /* ignore */ }
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)]);
      running.delete(child);
      continue;
    }

    const newClient = () => {
      const c = new PocketBase(url);
      c.autoCancellation(false);
      return c;
    };
    const pb = newClient();
    const superuserClient = async () => {
      const c = newClient();
      await c.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD);
      return c;
    };
    return { url, pb, stop, newClient, superuserClient, dataDir, logs };
  }
  rmSync(root, { recursive: true, force: true });
  await database?.drop();
  throw lastError;
}

/** A fresh PostgreSQL database when SDK_DATABASE_URL is set (never skipped when it is set). */
export async function createDatabase() {
  const admin = process.env.SDK_DATABASE_URL;
  if (!admin) return null;
  const name = `sdk_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const run = async (sql) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try { await client.query(sql); } finally { await client.end(); }
  };
  await run(`CREATE DATABASE "${name}"`);
  const url = admin.replace(/\/[^/]*$/, `/${name}`);
  let dropped = false;
  return {
    url,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await run(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/** Raw fetch helper (for things the SDK can't express, e.g. malformed JSON). Bounded by a timeout. */
export async function rawFetch(url, path, init = {}) {
  const r = await fetch(url + path, { ...init, signal: AbortSignal.timeout(5000) });
  const text = await r.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: r.status, headers: r.headers, body };
}

/** Asserts a promise rejects with a ClientResponseError of the given status and returns the error. */
export async function expectError(promise, status) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  if (!err) throw new Error(`expected an error with status ${status}, but the request succeeded`);
  if (err.status !== status) {
    const detail = JSON.stringify(err.response ?? err.message);
    throw new Error(`expected status ${status}, got ${err.status}: ${detail}`);
  }
  return err;
}

export const ID_RE = /^[a-z0-9]{15}$/;
export const DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;
