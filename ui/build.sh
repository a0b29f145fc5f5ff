#!/usr/bin/env bash
# Builds the admin dashboard: copies ui/ (plain ES modules, HTML, CSS) into
# crates/admin-ui/dist/, which the binary embeds. No Node needed: the vendored
# PocketBase SDK is refreshed from tests/sdk/node_modules when that exists, and
# otherwise the committed ui/vendor/ copy is used.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
DIST="$REPO/crates/admin-ui/dist"
SDK="$REPO/tests/sdk/node_modules/pocketbase/dist/pocketbase.es.mjs"

mkdir -p "$HERE/vendor"
if [ -f "$SDK" ]; then
  cp "$SDK" "$HERE/vendor/pocketbase.es.mjs"
fi
if [ ! -f "$HERE/vendor/pocketbase.es.mjs" ]; then
  echo "missing ui/vendor/pocketbase.es.mjs: run 'cd tests/sdk && npm ci' first" >&2
  exit 1
fi

rm -rf "$DIST"
mkdir -p "$DIST/js" "$DIST/vendor"
cp "$HERE/index.html" "$HERE/app.css" "$HERE/favicon.svg" "$DIST/"
cp "$HERE"/js/*.js "$DIST/js/"
cp "$HERE/vendor/pocketbase.es.mjs" "$DIST/vendor/"

echo "built $(find "$DIST" -type f | wc -l) files into ${DIST#"$REPO"/}"
