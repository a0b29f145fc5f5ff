#!/usr/bin/env bash
# Vendors the dashboard's libraries from npm into ui/vendor/ (committed; the dashboard has
# no other build step: crates/admin-ui embeds ui/ as it is):
#   - pocketbase (the official JS SDK, the version tests/sdk uses): pocketbase.es.mjs
#   - preact + preact/hooks (the view library): preact.mjs, hooks.mjs
#   - htm (JSX-like tagged templates for Preact, no compiler): htm.mjs
#   - uplot (charts; loaded only by the screens that chart): uplot.mjs, uplot.css. npm ships
#     its ES module unminified (145 KB); the minified IIFE (51 KB) declares one `var uPlot`,
#     so an `export default uPlot;` appended makes it a module.
#   - simple-icons (CC0; loaded with the auth options tab): provider-logos.mjs, the icon (brand
#     colour and 24x24 path) of each OAuth2 provider oxbase lists, generated from the package's
#     SVGs and data (see PROVIDER_ICONS).
#   - world-atlas (ISC; Natural Earth's public-domain 110m land; loaded with the geoPoint map):
#     world-land.mjs, the land as two SVG paths, made once here with topojson-client (not
#     shipped): equirectangular, in tenths of a degree, y = -latitude.
# The ESM files are copied as npm ships them; only hooks.mjs's bare `from "preact"` import is
# pointed at the copy beside it (browsers resolve no bare names without an import map).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREACT_VERSION=11.2.0
HTM_VERSION=3.1.1
UPLOT_VERSION=1.6.32
SIMPLE_ICONS_VERSION=16.37.0
WORLD_ATLAS_VERSION=2.0.2
TOPOJSON_CLIENT_VERSION=3.1.0
# OAuth2 provider (crates/core/src/auth/oauth2/providers/table.rs) = simple-icons slug. NO_ICON:
# those simple-icons lacks, which the dashboard shows as a letter badge.
PROVIDER_ICONS="apple=apple bitbucket=bitbucket box=box discord=discord facebook=facebook
  gitea=gitea gitee=gitee github=github gitlab=gitlab google=google instagram2=instagram
  kakao=kakaotalk linear=linear livechat=livechat notion=notion oidc=openid oidc2=openid
  oidc3=openid patreon=patreon spotify=spotify strava=strava trakt=trakt twitch=twitch
  twitter=x vk=vk wakatime=wakatime"
NO_ICON="lark mailcow microsoft monday planningcenter yandex"
PB_VERSION="$(node -p "require('$HERE/../tests/sdk/package-lock.json').packages['node_modules/pocketbase'].version")"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm pack --silent "preact@$PREACT_VERSION" "htm@$HTM_VERSION" "pocketbase@$PB_VERSION" "uplot@$UPLOT_VERSION" \
  "simple-icons@$SIMPLE_ICONS_VERSION" "world-atlas@$WORLD_ATLAS_VERSION" "topojson-client@$TOPOJSON_CLIENT_VERSION" >/dev/null
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
cp "simple-icons-$SIMPLE_ICONS_VERSION/LICENSE.md" "$OUT/licenses/simple-icons.txt"
{ cat "world-atlas-$WORLD_ATLAS_VERSION/LICENSE"; printf '\nThe land shapes are Natural Earth data (naturalearthdata.com), in the public domain.\n'; } >"$OUT/licenses/world-atlas.txt"

# Every provider the server lists has an icon or is known to have none (a new provider shows here).
PROVIDERS="$(grep -oP '^ {8}name: "\K[a-z0-9]+(?=",)' "$HERE/../crates/core/src/auth/oauth2/providers/table.rs")"
for p in $PROVIDERS; do
  case " $(echo $PROVIDER_ICONS) $NO_ICON " in *" $p="*|*" $p "*) ;; *) echo "provider $p: add it to PROVIDER_ICONS or NO_ICON" >&2; exit 1 ;; esac
done

# provider-logos.mjs: {provider: [hex colour, path]}, providers sharing an icon share its entry.
node - "simple-icons-$SIMPLE_ICONS_VERSION" "$SIMPLE_ICONS_VERSION" $PROVIDER_ICONS >"$OUT/provider-logos.mjs" <<'JS'
const fs = require('fs');
const [dir, version, ...pairs] = process.argv.slice(2);
const data = JSON.parse(fs.readFileSync(`${dir}/data/simple-icons.json`, 'utf8'));
const hex = Object.fromEntries(data.map((i) => [i.slug, i.hex]));
const icons = {};
const names = pairs.map((pair) => {
  const [name, slug] = pair.split('=');
  const svg = fs.readFileSync(`${dir}/icons/${slug}.svg`, 'utf8');
  const paths = [...svg.matchAll(/<path d="([^"]+)"/g)];
  if (paths.length !== 1 || !/viewBox="0 0 24 24"/.test(svg)) throw new Error(`${slug}.svg: not one 24x24 path`);
  icons[slug] = [hex[slug], paths[0][1]];
  return [name, slug];
});
const q = JSON.stringify;
console.log(`// The OAuth2 providers' icons: simple-icons ${version} (CC0-1.0; the brands are their owners'
// trademarks), generated by ui/vendor.sh. Each is [brand colour, path of a 24x24 viewBox].
const icon = {
${Object.entries(icons).map(([slug, v]) => `  ${q(slug)}: ${q(v)},`).join('\n')}
};
export default {
${names.map(([name, slug]) => `  ${q(name)}: icon[${q(slug)}],`).join('\n')}
};`);
JS

# world-land.mjs: the 110m land in tenths of a degree, as relative path commands. A ring that
# crosses the antimeridian is made continuous (it spills past ±180; the map draws `wrap` at
# -360, 0 and +360 and clips), and one around a pole (Antarctica) is closed through the pole.
node - "topojson-client-$TOPOJSON_CLIENT_VERSION" "world-atlas-$WORLD_ATLAS_VERSION" "$WORLD_ATLAS_VERSION" >"$OUT/world-land.mjs" <<'JS'
const [client, atlas, version] = process.argv.slice(2);
const topojson = require(`${process.cwd()}/${client}/dist/topojson-client.js`);
const topo = require(`${process.cwd()}/${atlas}/land-110m.json`);
const geo = topojson.feature(topo, topo.objects.land);
const polygons = geo.features.flatMap((f) => (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates));
function unwrap(ring) {
  const out = [];
  for (const [lon, lat] of ring) {
    let x = lon;
    const prev = out.length ? out[out.length - 1][0] : x;
    while (x - prev > 180) x -= 360;
    while (prev - x > 180) x += 360;
    out.push([x, lat]);
  }
  if (Math.abs(out[out.length - 1][0] - out[0][0]) > 180) {
    const pole = out.reduce((s, p) => s + p[1], 0) < 0 ? -90 : 90;
    out.push([out[out.length - 1][0], pole], [out[0][0], pole]);
  }
  return out;
}
// "M x y l dx dy dx dy … z" with the separators a minus sign makes needless; '' for a ring
// that rounds to a point.
function path(ring) {
  const [[x0, y0], ...rest] = ring.map(([lon, lat]) => [Math.round(lon * 10), Math.round(-lat * 10)]);
  let d = '';
  let [px, py] = [x0, y0];
  for (const [x, y] of rest) {
    if (x === px && y === py) continue;
    d += `${x - px < 0 || !d ? '' : ' '}${x - px}${y - py < 0 ? '' : ' '}${y - py}`;
    [px, py] = [x, y];
  }
  return d ? `M${x0} ${y0}l${d}z` : '';
}
let land = '';
let wrap = '';
for (const polygon of polygons) {
  for (const ring of polygon) {
    const r = unwrap(ring);
    if (r.some(([x]) => x < -180 || x > 180)) wrap += path(r);
    else land += path(r);
  }
}
console.log(`// world-atlas ${version} land-110m (ISC; Natural Earth, public domain), generated by ui/vendor.sh:
// equirectangular SVG paths in tenths of a degree (x = 10 * longitude, y = -10 * latitude).
// \`wrap\` holds the rings that cross the antimeridian, continued past ±180.
export const land = ${JSON.stringify(land)};
export const wrap = ${JSON.stringify(wrap)};`);
JS

grep -q 'from"preact"' "$OUT/hooks.mjs" && { echo "hooks.mjs still imports bare 'preact'" >&2; exit 1; }
echo "ui/vendor: preact $PREACT_VERSION, htm $HTM_VERSION, pocketbase $PB_VERSION, uplot $UPLOT_VERSION, simple-icons $SIMPLE_ICONS_VERSION, world-atlas $WORLD_ATLAS_VERSION"
