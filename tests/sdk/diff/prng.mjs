// A seeded PRNG (mulberry32) so every run of the differential corpus is the same corpus.

export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (xs) => xs[int(xs.length)];
  /** k distinct elements of xs (all of them when k >= xs.length), in xs's order. */
  const sample = (xs, k) => {
    if (k >= xs.length) return [...xs];
    const idx = xs.map((_, i) => i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    return idx.slice(0, k).sort((x, y) => x - y).map((i) => xs[i]);
  };
  return { next, int, pick, sample };
}

/** The seed: DIFF_SEED when set, else a fixed one (a run is reproducible either way). */
export const SEED = Number.parseInt(process.env.DIFF_SEED || '17017', 10);
