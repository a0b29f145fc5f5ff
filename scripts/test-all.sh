#!/usr/bin/env bash
# Runs every test of oxbase: Rust unit, snapshot and integration tests (the real server on
# free ports), the end-to-end suite through the official `pocketbase` npm SDK against the
# freshly built binary, and the dashboard's browser test. Installs what it needs itself (npm
# packages; moto, a local S3 server, and schemathesis from PyPI; Debian's nginx and chromium when missing). Storage
# tests run twice: on SQLite and on the PostgreSQL at 127.0.0.1:5432 (OXBASE_TEST_PG).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

echo "== Test tools: a local S3 server (moto, from PyPI) for the S3 storage tests"
TOOLS="$PWD/target/test-tools"
if [ ! -x "$TOOLS/venv/bin/moto_server" ]; then
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
fi
export OXBASE_TEST_MOTO="$TOOLS/venv/bin/moto_server"
# The metrics test parses /metrics with Prometheus's own Python parser.
if ! "$TOOLS/venv/bin/python" -c 'import prometheus_client' 2>/dev/null; then
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check 'prometheus_client==0.21.1'
fi
export OXBASE_TEST_PYTHON="$TOOLS/venv/bin/python"
# schemathesis fuzzes the live OpenAPI document (scripts/schemathesis.sh).
if [ ! -x "$TOOLS/venv/bin/schemathesis" ]; then
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi

# PostgreSQL (issue #7): every storage test runs on it too, each app on a fresh database.
PG_URL="${OXBASE_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi

# Redis carries the relay between instances when `--pubsub redis://` is set (one scale-out test).
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && command -v redis-server >/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no || true
fi

# NATS carries it with `--pubsub nats://` (another scale-out test).
if ! (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null && command -v nats-server >/dev/null; then
  start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server)" -- -a 127.0.0.1 -p 4222 || true
  sleep 1
fi

echo "== Rust: unit, snapshot and integration tests (SQLite)"
cargo test --workspace --locked

echo "== Rust: integration tests on PostgreSQL"
OXBASE_TEST_DATABASE_URL="$PG_URL" cargo test --locked --test api

echo "== Binary for the SDK suite"
cargo build --locked --bin oxbase
export OXBASE_BIN="$PWD/target/debug/oxbase"

echo "== OpenAPI document fuzzed with schemathesis (a seeded server, 90 s at most)"
SCHEMATHESIS="$TOOLS/venv/bin/schemathesis" scripts/schemathesis.sh

echo "== SDK end-to-end tests (npm pocketbase)"
(cd tests/sdk && npm ci --no-audit --no-fund --loglevel=error)
node --test --test-concurrency=2 tests/sdk/

echo "== SDK end-to-end tests on PostgreSQL (with three instances behind nginx)"
if [ ! -x /usr/sbin/nginx ]; then
  SUDO=""; if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx-light >/dev/null
  # The package may start a default server; the tests run their own.
  $SUDO pkill -x nginx || true
fi
SDK_DATABASE_URL="$PG_URL" node --test --test-concurrency=2 tests/sdk/

echo "== Dashboard browser tests (Chromium via playwright-core)"
tests/ui/run.sh

echo "== Dashboard browser tests on PostgreSQL"
UI_DATABASE_URL="$PG_URL" tests/ui/run.sh
