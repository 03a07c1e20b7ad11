// An SVG chart of a comparison's JSON (what run.mjs saves), with no
// dependencies: per workload, one bar per store, its length the store's
// rate divided by the best durable peer's on that row (so the best peer's
// bar ends at the 1x line and varve's shows how far ahead or behind it is).
//
// Usage: node bench/compare/chart.mjs results.json [out.svg]
// (out defaults to the JSON's path with .svg). run.mjs calls writeChart itself.
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { SUBJECT, bestPeer, ratio } from './best-peer.mjs';
import { runtimeLabel } from './runtimes.mjs';
import { workloadNamed } from './workloads.mjs';

const WIDTH = 900;
const LABEL_WIDTH = 230;
const BAR_HEIGHT = 14;
const GROUP_GAP = 14;
const TOP = 64;
/** Bars longer than this many times the best peer's are cut, and say so. */
const MAX_RATIO = 4;
const COLORS = ['#d9480f', '#1971c2', '#2f9e44', '#7048e8', '#e8590c', '#868e96', '#0c8599', '#c2255c'];

function escape(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function rate(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M/s`;
  if (x >= 1e4) return `${Math.round(x / 1e3)}k/s`;
  return `${(x / 1e3).toFixed(1)}k/s`;
}

/** The SVG text of the chart of `record` (run.mjs's saved JSON). */
export function chartSvg(record) {
  const stores = record.summaries.filter((s) => s.rows !== undefined);
  // varve first, so its bar leads every group.
  stores.sort((a, b) => (a.store === SUBJECT ? -1 : b.store === SUBJECT ? 1 : 0));
  const color = new Map(stores.map((s, i) => [s.store, COLORS[i % COLORS.length]]));
  const plotWidth = WIDTH - LABEL_WIDTH - 110;
  const x = (ratio) => LABEL_WIDTH + (Math.min(ratio, MAX_RATIO) / MAX_RATIO) * plotWidth;
  const parts = [];
  let y = TOP;
  for (const name of record.options.workloads) {
    const pick = (s) => s.rows[name]?.opsPerSec;
    const best = bestPeer(stores, pick, false);
    if (best === undefined) continue;
    parts.push(`<text x="8" y="${y + BAR_HEIGHT - 2}" font-weight="bold">${escape(workloadNamed(name).label)}</text>`);
    parts.push(`<text x="8" y="${y + 2 * BAR_HEIGHT}" fill="#495057">best peer: ${escape(best.store)}, ${rate(best.value)}</text>`);
    const groupTop = y;
    for (const s of stores) {
      const value = pick(s);
      if (value === undefined) continue;
      const r = ratio(value, best.value, false);
      const end = x(r);
      const cut = r > MAX_RATIO ? ' (cut)' : '';
      parts.push(`<rect x="${LABEL_WIDTH}" y="${y}" width="${(end - LABEL_WIDTH).toFixed(1)}" height="${BAR_HEIGHT - 2}" fill="${color.get(s.store)}"${s.store === SUBJECT ? '' : ' fill-opacity="0.75"'}/>`);
      parts.push(`<text x="${(end + 4).toFixed(1)}" y="${y + BAR_HEIGHT - 3}">${escape(s.store)} ${r.toFixed(2)}x${cut}</text>`);
      y += BAR_HEIGHT;
    }
    y = Math.max(y, groupTop + 2 * BAR_HEIGHT + 4) + GROUP_GAP;
  }
  const height = y + 24;
  const grid = [];
  for (let r = 0; r <= MAX_RATIO; r++) {
    const gx = x(r).toFixed(1);
    grid.push(`<line x1="${gx}" y1="${TOP - 8}" x2="${gx}" y2="${y - GROUP_GAP}" stroke="${r === 1 ? '#212529' : '#dee2e6'}"${r === 1 ? ' stroke-dasharray="4 3"' : ''}/>`);
    grid.push(`<text x="${gx}" y="${TOP - 12}" text-anchor="middle" fill="#495057">${r}x</text>`);
  }
  const n = record.options.n.toLocaleString('en-US');
  // Records saved before --runtime ran every child under run.mjs's Node.
  const runtime = runtimeLabel(record.runtime ?? { name: 'node', version: record.machine.node.replace(/^v/, '') });
  // Two lines of about 110 characters, so that each fits the width.
  const title = `varve vs peers under ${runtime}, N = ${n}: ops/s (median slice) as a multiple of the best durable peer's`;
  const subtitle = `memory-level is the in-memory ceiling, never the best peer; ${record.date}, commit ${record.commit ?? '?'}, ${record.machine.platform}, ${record.machine.cpus} CPUs`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="8" y="18" font-size="12" font-weight="bold">${escape(title)}</text>`,
    `<text x="8" y="34" fill="#495057">${escape(subtitle)}</text>`,
    ...grid,
    ...parts,
    `</svg>`,
    '',
  ].join('\n');
}

export function writeChart(record, path) {
  writeFileSync(path, chartSvg(record));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [input, output] = process.argv.slice(2);
  if (input === undefined) throw new Error('usage: node chart.mjs results.json [out.svg]');
  const out = output ?? input.replace(/\.json$/, '') + '.svg';
  writeChart(JSON.parse(readFileSync(input, 'utf8')), out);
  console.log(`wrote ${out}`);
}
