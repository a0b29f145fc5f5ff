// What the dashboard's browser tests share: a fresh oxbase server per suite, direct API calls
// (to check what the dashboard did), Chromium, screenshots and the login form.
//
// Env:
//   OXBASE_BIN      path to the oxbase binary (default: <repo>/target/debug/oxbase)
//   CHROMIUM_BIN    path to Chromium (default: /usr/bin/chromium)
//   SCREENSHOT_DIR  where screenshots go (default: tests/ui/screenshots)
//   UI_KEEP_DATA=1  keeps the temp data dirs
//   UI_DATABASE_URL postgres://user@host:port/db: oxbase runs on PostgreSQL, each server on a
//                   fresh database created from this connection (with psql) and dropped on stop
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '..', '..');
export const BIN = process.env.OXBASE_BIN || join(REPO, 'target', 'debug', 'oxbase');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const SHOTS = process.env.SCREENSHOT_DIR || join(HERE, 'screenshots');
export const EMAIL = 'admin@example.com';
export const PASSWORD = '1234567890abc';
const STARTUP_TIMEOUT_MS = 15_000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts oxbase on a fresh data dir; `superuser: false` leaves it without one (first start);
 * `args` go to `serve`.
 */
export async function startServer({ superuser = true, args = [] } = {}) {
  if (!existsSync(BIN)) throw new Error(`oxbase binary not found at ${BIN} (cargo build --bin oxbase, or set OXBASE_BIN)`);
  const root = mkdtempSync(join(tmpdir(), 'oxbase-ui-'));
  const dir = join(root, 'data');
  const database = createDatabase();
  const dbArgs = database ? ['--db', database.url] : [];
  if (superuser) execFileSync(BIN, ['superuser', 'upsert', EMAIL, PASSWORD, '--dir', dir, ...dbArgs], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    // Port 0: the banner names the port the server got, so no port is guessed.
    let url = null;
    const child = spawn(BIN, ['serve', '--http', '127.0.0.1:0', '--dir', dir, ...dbArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const logs = [];
    child.stdout.on('data', (d) => logs.push(String(d)));
    child.stderr.on('data', (d) => logs.push(String(d)));
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      url ??= /Server started at (http:\/\/[0-9.]+:\d+)/.exec(logs.join(''))?.[1] ?? null;
      if (!url) {
        await sleep(20);
        continue;
      }
      try {
        const r = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1000) });
        if (r.ok) return { child, url, root, logs, database };
        lastErr = new Error(`health status ${r.status}`);
      } catch (e) {
        lastErr = e;
      }
      await sleep(100);
    }
    child.kill('SIGKILL');
    lastErr = new Error(`server not healthy (attempt ${attempt + 1}): ${lastErr?.message}\n${logs.join('')}`);
  }
  database?.drop();
  throw lastErr;
}

/** A fresh PostgreSQL database when UI_DATABASE_URL is set. */
function createDatabase() {
  const admin = process.env.UI_DATABASE_URL;
  if (!admin) return null;
  const name = `ui_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const psql = (sql) => execFileSync('psql', [admin, '-q', '-c', sql], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  psql(`CREATE DATABASE "${name}"`);
  return { url: admin.replace(/\/[^/]*$/, `/${name}`), drop: () => psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/** Direct API calls as the superuser of `server` (to check what the dashboard did). */
export async function superuserApi(server) {
  const auth = await fetch(`${server.url}/api/collections/_superusers/auth-with-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity: EMAIL, password: PASSWORD }),
  });
  const token = (await auth.json()).token;
  const api = (path, opts) => apiCall(server, token, path, opts);
  return { token, api };
}

async function apiCall(server, token, path, { method = 'GET', body } = {}) {
  const r = await fetch(server.url + path, {
    method,
    headers: { Authorization: token, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

export async function stopServer(s) {
  if (!s) return;
  s.child.kill('SIGTERM');
  await sleep(200);
  s.child.kill('SIGKILL');
  if (!process.env.UI_KEEP_DATA) {
    rmSync(s.root, { recursive: true, force: true });
    s.database?.drop();
  }
}

export async function screenshot(p, name) {
  mkdirSync(SHOTS, { recursive: true });
  const file = join(SHOTS, `${name}.png`);
  // Toasts are transient; keep them out of the pictures.
  await p.evaluate(() => document.querySelector('.toasts')?.style.setProperty('visibility', 'hidden')).catch(() => {});
  await p.screenshot({ path: file, animations: 'disabled' });
  await p.evaluate(() => document.querySelector('.toasts')?.style.removeProperty('visibility')).catch(() => {});
  return file;
}


export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 30_000,
  });
}

/** Logs in through the form when the page shows it. */
export async function loginIfNeeded(p) {
  if (await p.locator('#login-email').isVisible().catch(() => false)) {
    await p.locator('#login-email').fill(EMAIL);
    await p.locator('#login-password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Log in' }).click();
  }
  await p.locator('nav.sidebar').waitFor({ state: 'attached' });
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** The serious and critical axe-core violations on page `p` as it is now. */
export async function axeViolations(p) {
  if (!(await p.evaluate(() => !!window.axe))) await p.addScriptTag({ path: AXE });
  return p.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  });
}
