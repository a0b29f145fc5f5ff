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

/**
 * `points`: [{x: unix seconds, y: number}] in time order; `label`: the series' name;
 * `bars`: draw bars (counts per interval) rather than a line.
 */
export function TimeChart({ points, label, bars = false, height = 180, id }) {
  const box = useRef();
  const chart = useRef(null);
  const total = points.reduce((s, p) => s + p.y, 0);
  useEffect(() => {
    let alive = true;
    let observer;
    loadUPlot().then((uPlot) => {
      if (!alive || !box.current) return;
      const data = [points.map((p) => p.x), points.map((p) => p.y)];
      const stroke = getComputedStyle(document.documentElement).getPropertyValue('--primary').trim() || '#1a56db';
      const opts = {
        width: box.current.clientWidth || 600,
        height,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { size: 50 }],
        series: [
          {},
          {
            label,
            stroke,
            fill: stroke + '33',
            width: 2,
            points: { show: false },
            ...(bars ? { paths: uPlot.paths.bars({ size: [0.8, 40] }) } : {}),
          },
        ],
      };
      chart.current?.destroy();
      chart.current = new uPlot(opts, data, box.current);
      observer = new ResizeObserver(() => box.current && chart.current?.setSize({ width: box.current.clientWidth, height }));
      observer.observe(box.current);
    });
    return () => {
      alive = false;
      observer?.disconnect();
    };
  }, [JSON.stringify(points), label]);
  useEffect(() => () => chart.current?.destroy(), []);
  return html`<div class="chart" id=${id} ref=${box} data-points=${points.length} data-total=${total} role="img" aria-label=${`${label}: ${total} in ${points.length} intervals`}></div>`;
}
