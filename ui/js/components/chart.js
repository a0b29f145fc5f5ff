// A time-series chart drawn by uPlot (vendored; imported, with its stylesheet, only by the
// screens that chart, so it is not part of the first load).
import { html, useEffect, useRef } from '../lib.js';

let loading = null;
function loadUPlot() {
  if (!loading) {
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = new URL('../../vendor/uplot.css', import.meta.url).href;
    document.head.append(css);
    loading = import('../../vendor/uplot.mjs').then((m) => m.default);
  }
  return loading;
}

const COLORS = ['#1a56db', '#168a4a', '#d1262e', '#9a6200', '#6b32c8'];

/**
 * `xs`: unix seconds, in order; `series`: [{label, values}] (one value per x, null for none);
 * `bars`: bars (counts per interval) rather than lines; `unit` follows the y values; `span`:
 * the seconds shown at least, ending at the last x (so a few points do not fill the width);
 * `onSelect(min, max)`: a range dragged across the chart (unix seconds).
 */
export function TimeChart({ xs, series, bars = false, height = 180, id, unit = '', span = 0, onSelect = null }) {
  const box = useRef();
  const chart = useRef(null);
  const selected = useRef(onSelect);
  selected.current = onSelect;
  const total = series.reduce((s, ser) => s + ser.values.reduce((a, v) => a + (v || 0), 0), 0);
  const key = JSON.stringify([xs, series]);
  useEffect(() => {
    let alive = true;
    let observer;
    loadUPlot().then((uPlot) => {
      if (!alive || !box.current) return;
      const opts = {
        width: box.current.clientWidth || 600,
        height,
        legend: { show: true },
        cursor: { drag: { x: !!onSelect, y: false } },
        hooks: {
          setSelect: [
            (u) => {
              if (u.select.width < 4 || !selected.current) return;
              selected.current(u.posToVal(u.select.left, 'x'), u.posToVal(u.select.left + u.select.width, 'x'));
              u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            },
          ],
        },
        scales: {
          x: { time: true, range: (u, min, max) => (span && xs.length ? [Math.min(min, xs[xs.length - 1] - span), xs[xs.length - 1]] : [min, max]) },
          y: { range: (u, min, max) => [0, Math.max(1, max)] },
        },
        axes: [{}, { size: 60, values: (u, vals) => vals.map((v) => `${+v.toFixed(3)}${unit}`) }],
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: COLORS[i % COLORS.length],
            fill: bars ? COLORS[i % COLORS.length] + '33' : undefined,
            width: 2,
            points: { show: !bars && xs.length < 40 },
            ...(bars ? { paths: uPlot.paths.bars({ size: [0.8, 40] }) } : {}),
          })),
        ],
      };
      chart.current?.destroy();
      chart.current = new uPlot(opts, [xs, ...series.map((s) => s.values)], box.current);
      observer = new ResizeObserver(() => box.current && chart.current?.setSize({ width: box.current.clientWidth, height }));
      observer.observe(box.current);
    });
    return () => {
      alive = false;
      observer?.disconnect();
    };
  }, [key]);
  useEffect(() => () => chart.current?.destroy(), []);
  const names = series.map((s) => s.label).join(', ');
  return html`<div class="chart" id=${id} ref=${box} data-points=${xs.length} data-total=${total} role="img" aria-label=${`${names}: ${xs.length} points`}></div>`;
}
