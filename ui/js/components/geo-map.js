// The geoPoint editor's map (loaded with the first geoPoint editor): the vendored land outline
// (ui/vendor/world-land.mjs, equirectangular) drawn as SVG with graticule lines and a marker at
// the value. A click sets the point, arrow keys move it (Shift: ten times further), + and −
// zoom around it. No tiles and no library: nothing is fetched, and the data weighs 23 KB.
// Units are degrees, with y = -latitude (SVG's y grows downwards).
import { html, useState, useEffect, nextId } from '../lib.js';
import { land, wrap } from '../../vendor/world-land.mjs';

const ZOOMS = [1, 2, 4, 8, 16, 32, 64];
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const round = (v, decimals) => Number(v.toFixed(decimals));

/** The visible box {x, y, w, h} at `zoom`, centred on (lon, lat) as far as the world allows. */
export function viewOf(zoom, lon, lat) {
  const w = 360 / zoom;
  const h = 180 / zoom;
  return { x: clamp(lon - w / 2, -180, 180 - w), y: clamp(-lat - h / 2, -90, 90 - h), w, h };
}

const contains = (v, lon, lat) => lon >= v.x && lon <= v.x + v.w && -lat >= v.y && -lat <= v.y + v.h;

/** Decimals that keep a picked point within a screen pixel (at least one, at most six). */
export const pickDecimals = (degreesPerPixel) => clamp(Math.ceil(-Math.log10(degreesPerPixel)), 1, 6);

/** An arrow key's step in degrees: 1 on the whole world, finer as the map zooms in. */
export const keyStep = (zoom) => 10 ** Math.floor(Math.log10(2 / zoom));

/** Meridians and parallels over the view, some 6 to 12 across; the equator and meridian 0 apart. */
function graticule(v) {
  const step = [30, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05].find((s) => v.w / s >= 6) ?? 0.05;
  let lines = '';
  for (let x = Math.ceil(v.x / step) * step; x <= v.x + v.w; x += step) if (Math.abs(x) > 1e-9) lines += `M${round(x, 4)} -90V90`;
  for (let y = Math.ceil(v.y / step) * step; y <= v.y + v.h; y += step) if (Math.abs(y) > 1e-9) lines += `M-180 ${round(y, 4)}H180`;
  return lines;
}

/** The moved point for an arrow key ({lon, lat}), or null for another key. */
function arrowMove(key, lon, lat, step) {
  const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] }[key];
  if (!d) return null;
  return { lon: round(clamp(lon + d[0], -180, 180), 6), lat: round(clamp(lat + d[1], -90, 90), 6) };
}

/**
 * `lon`, `lat`: the value (NaN when the inputs hold none: no marker); `onPick(lon, lat)` sets
 * it. The number inputs beside it stay the readout and the other way to type a value.
 */
export function GeoMap({ label, lon, lat, onPick, readOnly }) {
  const [hint] = useState(() => nextId('geo-hint'));
  const has = Number.isFinite(lon) && Number.isFinite(lat);
  const [zoom, setZoom] = useState(1);
  const [center, setCenter] = useState(() => (has ? { lon, lat } : { lon: 0, lat: 0 }));
  const [said, setSaid] = useState('');
  const view = viewOf(zoom, center.lon, center.lat);
  // A value typed or moved out of sight: the view follows it.
  useEffect(() => {
    if (has && !contains(view, lon, lat)) setCenter({ lon, lat });
  }, [lon, lat]);

  function pick(nlon, nlat) {
    onPick(nlon, nlat);
    setSaid(`Longitude ${nlon}, latitude ${nlat}`);
  }
  function onClick(e) {
    if (readOnly) return;
    const svg = e.currentTarget;
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(svg.getScreenCTM().inverse());
    const decimals = pickDecimals(view.w / svg.getBoundingClientRect().width);
    pick(round(clamp(p.x, -180, 180), decimals), round(clamp(-p.y, -90, 90), decimals));
  }
  function zoomBy(dir) {
    const next = ZOOMS[clamp(ZOOMS.indexOf(zoom) + dir, 0, ZOOMS.length - 1)];
    if (has) setCenter({ lon, lat });
    setZoom(next);
  }
  function onKeyDown(e) {
    if (e.key === '+' || e.key === '=') zoomBy(1);
    else if (e.key === '-' || e.key === '_') zoomBy(-1);
    else {
      const moved = readOnly ? null : arrowMove(e.key, has ? lon : 0, has ? lat : 0, keyStep(zoom) * (e.shiftKey ? 10 : 1));
      if (!moved) return;
      pick(moved.lon, moved.lat);
    }
    e.preventDefault();
  }
  const r = view.w * 0.014; // the marker keeps its size on screen at every zoom
  const shifted = (dx) => html`<path d=${wrap} transform=${`translate(${dx} 0)`} />`;
  return html`<div class="geo-map">
    <svg viewBox=${`${view.x} ${view.y} ${view.w} ${view.h}`} role="application" aria-roledescription="map" aria-label=${label}
      aria-describedby=${hint} tabindex="0" data-zoom=${zoom} onClick=${onClick} onKeyDown=${onKeyDown}>
      <rect class="geo-sea" x="-180" y="-90" width="360" height="180" />
      <path class="geo-grid" d=${graticule(view)} />
      <path class="geo-grid geo-grid-main" d="M0 -90V90M-180 0H180" />
      <g class="geo-land" transform="scale(0.1)"><path d=${land} />${shifted(-3600)}${shifted(0)}${shifted(3600)}</g>
      ${has ? html`<g class="geo-marker" transform=${`translate(${lon} ${-lat})`}><circle class="geo-marker-halo" r=${r * 1.9} /><circle r=${r} /></g>` : null}
    </svg>
    <div class="geo-map-foot">
      <span class="geo-zoom">
        <button type="button" class="btn btn-secondary btn-small" aria-label="Zoom in" title="Zoom in" disabled=${zoom === ZOOMS[ZOOMS.length - 1]} onClick=${() => zoomBy(1)}>+</button>
        <button type="button" class="btn btn-secondary btn-small" aria-label="Zoom out" title="Zoom out" disabled=${zoom === ZOOMS[0]} onClick=${() => zoomBy(-1)}>−</button>
      </span>
      <p class="help" id=${hint}>${readOnly ? 'The point on a world map.' : 'Click the map to set the point, or use the arrow keys (Shift: further); + and − zoom.'}</p>
    </div>
    <div class="sr-only" aria-live="polite">${said}</div>
  </div>`;
}
