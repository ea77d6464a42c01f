/**
 * The lag-over-time plot (bench/results/lag.svg), hand-written SVG: one polyline per rate for
 * Clavitor (solid) and Redis (dashed), the maximum lag of each 250 ms window of acknowledgements
 * on a logarithmic millisecond axis against seconds since the rate started.
 */
import type { LagRun } from '../replication/lag-run.js';

const W = 860;
const H = 420;
const M = { left: 64, right: 180, top: 36, bottom: 48 };
const COLORS = ['#1f77b4', '#ff7f0e', '#d62728', '#2ca02c', '#9467bd'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Renders the plot; `clavitor` and `redis` are the per-rate runs (either may be empty). */
export function lagSvg(clavitor: readonly LagRun[], redis: readonly LagRun[], title: string): string {
  const all = [...clavitor, ...redis];
  const maxT = Math.max(1, ...all.flatMap((r) => r.series.map((p) => p[0] + 0.25)));
  const maxLag = Math.max(1, ...all.flatMap((r) => r.series.map((p) => p[2])));
  const yMin = 0.1;
  const yMax = 10 ** Math.ceil(Math.log10(maxLag * 1.2));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (t: number) => M.left + (t / maxT) * pw;
  const y = (ms: number) => M.top + ph - ((Math.log10(Math.max(yMin, ms)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${M.left}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (let e = Math.log10(yMin); e <= Math.log10(yMax) + 1e-9; e++) {
    const v = 10 ** e;
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v >= 1 ? v.toFixed(0) : v.toFixed(1)}</text>`);
  }
  const step = maxT > 40 ? 10 : maxT > 10 ? 5 : 1;
  for (let t = 0; t <= maxT + 1e-9; t += step) {
    out.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${M.top}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${x(t).toFixed(1)}" y="${M.top + ph + 16}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 10}" text-anchor="middle">seconds since the paced writes started</text>`);
  out.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">lag, ms (max per 250 ms, log scale)</text>`);
  const line = (r: LagRun, color: string, dashed: boolean) =>
    `<polyline fill="none" stroke="${color}" stroke-width="1.6"${dashed ? ' stroke-dasharray="5 3"' : ''} points="${r.series.map((p) => `${x(p[0]).toFixed(1)},${y(p[2]).toFixed(1)}`).join(' ')}"/>`;
  const rates = [...new Set(all.map((r) => r.rate))].sort((a, b) => a - b);
  let ly = M.top + 8;
  rates.forEach((rate, i) => {
    const color = COLORS[i % COLORS.length]!;
    const c = clavitor.find((r) => r.rate === rate);
    const rd = redis.find((r) => r.rate === rate);
    if (c) {
      out.push(line(c, color, false));
      out.push(`<line x1="${W - M.right + 12}" x2="${W - M.right + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/><text x="${W - M.right + 46}" y="${ly + 4}">Clavitor ${rate}/s</text>`);
      ly += 18;
    }
    if (rd) {
      out.push(line(rd, color, true));
      out.push(`<line x1="${W - M.right + 12}" x2="${W - M.right + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2" stroke-dasharray="5 3"/><text x="${W - M.right + 46}" y="${ly + 4}">Redis ${rate}/s</text>`);
      ly += 18;
    }
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
