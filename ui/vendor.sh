#!/usr/bin/env bash
# Vendors the dashboard's libraries from npm into ui/vendor/ (committed; the dashboard has
# no other build step: crates/admin-ui embeds ui/ as it is):
#   - pocketbase (the official JS SDK, the version tests/sdk uses): pocketbase.es.mjs
#   - preact + preact/hooks (the view library): preact.mjs, hooks.mjs
#   - htm (JSX-like tagged templates for Preact, no compiler): htm.mjs
#   - uplot (charts; loaded only by the screens that chart): uplot.mjs, uplot.css. npm ships
#     its ES module unminified (145 KB); the minified IIFE (51 KB) declares one `var uPlot`,
#     so an `export default uPlot;` appended makes it a module.
# The ESM files are copied as npm ships them; only hooks.mjs's bare `from "preact"` import is
# pointed at the copy beside it (browsers resolve no bare names without an import map).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREACT_VERSION=11.2.0
HTM_VERSION=3.1.1
UPLOT_VERSION=1.6.32
PB_VERSION="$(node -p "require('$HERE/../tests/sdk/package-lock.json').packages['node_modules/pocketbase'].version")"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm pack --silent "preact@$PREACT_VERSION" "htm@$HTM_VERSION" "pocketbase@$PB_VERSION" "uplot@$UPLOT_VERSION" >/dev/null
for t in *.tgz; do mkdir "${t%.tgz}" && tar xzf "$t" -C "${t%.tgz}" --strip-components=1; done

OUT="$HERE/vendor"
mkdir -p "$OUT/licenses"
strip_map() { sed -e '/^\/\/# sourceMappingURL=/d' "$1"; }
strip_map "preact-$PREACT_VERSION/dist/preact.mjs" >"$OUT/preact.mjs"
strip_map "preact-$PREACT_VERSION/hooks/dist/hooks.mjs" | sed -e 's#from"preact"#from"./preact.mjs"#g' >"$OUT/hooks.mjs"
strip_map "htm-$HTM_VERSION/dist/htm.module.js" >"$OUT/htm.mjs"
strip_map "pocketbase-$PB_VERSION/dist/pocketbase.es.mjs" >"$OUT/pocketbase.es.mjs"
{ strip_map "uplot-$UPLOT_VERSION/dist/uPlot.iife.min.js"; printf '\nexport default uPlot;\n'; } >"$OUT/uplot.mjs"
cp "uplot-$UPLOT_VERSION/dist/uPlot.min.css" "$OUT/uplot.css"
cp "preact-$PREACT_VERSION/LICENSE" "$OUT/licenses/preact.txt"
cp "htm-$HTM_VERSION/LICENSE" "$OUT/licenses/htm.txt"
cp "pocketbase-$PB_VERSION/LICENSE.md" "$OUT/licenses/pocketbase.txt"
cp "uplot-$UPLOT_VERSION/LICENSE" "$OUT/licenses/uplot.txt"
grep -q 'from"preact"' "$OUT/hooks.mjs" && { echo "hooks.mjs still imports bare 'preact'" >&2; exit 1; }
echo "ui/vendor: preact $PREACT_VERSION, htm $HTM_VERSION, pocketbase $PB_VERSION, uplot $UPLOT_VERSION"
