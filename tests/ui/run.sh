#!/usr/bin/env bash
# Runs the admin dashboard browser test: installs Debian's Chromium if missing,
# installs playwright-core (npm ci) and runs tests/ui/*.test.mjs with node --test, one file at a time.
#
# Env: OXBASE_BIN (default <repo>/target/debug/oxbase; build it first with
# `cargo build --bin oxbase`), CHROMIUM_BIN (default /usr/bin/chromium), SCREENSHOT_DIR,
# UI_DATABASE_URL (postgres://...: each server on a fresh PostgreSQL database).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CHROMIUM="${CHROMIUM_BIN:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM" ]; then
  echo "tests/ui: installing chromium (apt)"
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

BIN="${OXBASE_BIN:-$REPO/target/debug/oxbase}"
if [ ! -x "$BIN" ]; then
  echo "tests/ui: oxbase binary not found at $BIN (run 'cargo build --bin oxbase' or set OXBASE_BIN)" >&2
  exit 1
fi

cd "$HERE"
npm ci --no-audit --no-fund --loglevel=error
exec node --test --test-concurrency=1 dashboard.test.mjs settings.test.mjs a11y.test.mjs api-preview.test.mjs collection-editor.test.mjs rule-language.test.mjs indexes-editor.test.mjs geo-logos.test.mjs
