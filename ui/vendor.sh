#!/usr/bin/env bash
# Refreshes the vendored PocketBase SDK (ui/vendor/pocketbase.es.mjs) from the copy npm
# installed for the SDK tests (`cd tests/sdk && npm ci`). The dashboard has no other build
# step: crates/admin-ui embeds ui/ as it is.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SDK="$HERE/../tests/sdk/node_modules/pocketbase/dist/pocketbase.es.mjs"
[ -f "$SDK" ] || { echo "run 'cd tests/sdk && npm ci' first" >&2; exit 1; }
cp "$SDK" "$HERE/vendor/pocketbase.es.mjs"
echo "ui/vendor/pocketbase.es.mjs refreshed"
