// The logic of bench/compare that decides the figures a comparison shows:
// which peer varve is compared with, which way the ratio points, how runs
// are summarized, and the chart drawn from the summaries. No benchmark runs:
// the children's reports are made up here.
import { describe, expect, it } from 'vitest';
import { bestPeer, ratio } from '../bench/compare/best-peer.mjs';
import { chartSvg } from '../bench/compare/chart.mjs';
import { peakRssNote, summarize, table } from '../bench/compare/summary.mjs';

const MAXRSS = 'process.resourceUsage().maxRSS (the high-water mark)';
const MiB = 1048576;

interface Phase {
  opsPerSec?: number;
  failed?: string;
}

/** One child's report, as child.mjs writes it: `rates` per workload (a string is a failure's message). */
function report(store: string, rates: Record<string, number | string>, diskBytes: Record<string, number>, peakRssBytes: number, extra: object = {}) {
  const results: Record<string, Phase & { wholePhaseOpsPerSec?: number }> = {};
  for (const [name, r] of Object.entries(rates)) {
    // The whole-phase average is set apart from the median slice so that a mix-up of the two shows.
    results[name] = typeof r === 'string' ? { failed: r } : { opsPerSec: r, wholePhaseOpsPerSec: r / 2 };
  }
  return { store, durability: `${store}'s default`, ceiling: false, results, diskBytes, peakRssBytes, peakRssSource: MAXRSS, ...extra };
}

/** A store measured once with these rates, disk and RSS. */
function measured(store: string, rates: Record<string, number | string>, disk: number, rss: number, extra: object = {}) {
  return summarize(store, [report(store, rates, { fillseq: disk }, rss, extra)]);
}

const rateOf = (name: string) => (s: any) => s.rows[name]?.opsPerSec;
const diskOf = (s: any) => s.diskBytes.fillseq;
const rssOf = (s: any) => s.peakRssBytes;

/**
 * varve fastest and smallest, memory-level (the ceiling) faster and smaller
 * still, rocksdb the best durable peer on rates, lmdb on disk; lmdb failed
 * readrandom and better-sqlite3 was not measured at all.
 */
function summaries() {
  return [
    measured('varve', { fillseq: 900_000, readrandom: 400_000 }, 10 * MiB, 100 * MiB),
    measured('memory-level', { fillseq: 2_000_000, readrandom: 900_000 }, 0, 50 * MiB, { ceiling: true }),
    measured('classic-level', { fillseq: 300_000, readrandom: 150_000 }, 30 * MiB, 200 * MiB),
    measured('rocksdb', { fillseq: 450_000, readrandom: 200_000 }, 25 * MiB, 150 * MiB),
    measured('lmdb', { fillseq: 100_000, readrandom: 'lmdb: readrandom found 3 of 2000 keys missing or short' }, 20 * MiB, 400 * MiB),
    summarize('better-sqlite3', [{ store: 'better-sqlite3', skipped: 'could not be loaded: no binary' }]),
  ];
}

describe('bestPeer', () => {
  it('takes the highest rate among durable measured peers, never varve or the ceiling', () => {
    const s = summaries();
    expect(bestPeer(s, rateOf('fillseq'), false)).toEqual({ store: 'rocksdb', value: 450_000 });
    // lmdb failed readrandom: it has no figure there, and rocksdb is still the best.
    expect(bestPeer(s, rateOf('readrandom'), false)).toEqual({ store: 'rocksdb', value: 200_000 });
  });

  it('takes the smallest size when lower is better, never varve or the ceiling', () => {
    expect(bestPeer(summaries(), diskOf, true)).toEqual({ store: 'lmdb', value: 20 * MiB });
    expect(bestPeer(summaries(), rssOf, true)).toEqual({ store: 'rocksdb', value: 150 * MiB });
  });

  it('skips a store that was not measured, whose summary has no rows', () => {
    // The unmeasured store comes first: reading its rows would throw.
    const s = summaries();
    expect(bestPeer([s[5], s[3]], rateOf('fillseq'), false)).toEqual({ store: 'rocksdb', value: 450_000 });
  });

  it('is undefined when only varve and the ceiling have the figure', () => {
    const s = summaries();
    expect(bestPeer([s[0], s[1]], rateOf('fillseq'), false)).toBeUndefined();
    expect(bestPeer([s[0], s[1], s[4]], rateOf('readrandom'), false)).toBeUndefined();
  });
});

describe('ratio', () => {
  it('is above 1 when varve is ahead: a rate over the best rate, the best size over varve\'s', () => {
    expect(ratio(900, 450, false)).toBe(2);
    expect(ratio(450, 900, false)).toBe(0.5);
    expect(ratio(10, 20, true)).toBe(2);
    expect(ratio(40, 20, true)).toBe(0.5);
  });

  it('points the same way in the table for rates, disk and RSS', () => {
    const rows = table(summaries(), ['fillseq', 'readrandom']).split('\n');
    const row = (label: string) => rows.find((r) => r.startsWith(label)) ?? '';
    expect(rows[0]).toMatch(/^workload +varve +memory-level +classic-level +rocksdb +lmdb +varve \/ best peer$/);
    // 900k / 450k; 400k / 200k; disk 20 MiB / 10 MiB; RSS 150 MiB / 100 MiB.
    expect(row('fillseq')).toMatch(/ 2\.00x rocksdb$/);
    expect(row('readrandom')).toMatch(/ 2\.00x rocksdb$/);
    expect(row('disk after fillseq')).toMatch(/ 2\.00x lmdb$/);
    expect(row('peak RSS')).toMatch(/ 1\.50x rocksdb$/);
    // The failed row says so in lmdb's column; better-sqlite3, unmeasured, has no column.
    expect(row('readrandom')).toMatch(/ failed +2\.00x rocksdb$/);
    expect(rows.join('\n')).not.toContain('better-sqlite3');
  });
});

describe('summarize', () => {
  it('takes the median over runs of each rate and disk size, and the largest peak RSS', () => {
    const s = summarize('varve', [
      report('varve', { fillseq: 100 }, { fillseq: 10 }, 5 * MiB),
      report('varve', { fillseq: 300 }, { fillseq: 30 }, 7 * MiB),
      report('varve', { fillseq: 200 }, { fillseq: 40 }, 6 * MiB),
      report('varve', { fillseq: 1000 }, { fillseq: 20 }, 6 * MiB),
      report('varve', { fillseq: 250 }, { fillseq: 90 }, 6 * MiB),
    ]);
    // Rates 100, 200, 250, 300, 1000 (mean 370); disk 10, 20, 30, 40, 90 (mean 38).
    expect(s.rows).toEqual({ fillseq: { opsPerSec: 250, wholePhaseOpsPerSec: 125 } });
    expect(s.diskBytes).toEqual({ fillseq: 30 });
    expect(s.peakRssBytes).toBe(7 * MiB);
    expect(s.peakRssSource).toBe(MAXRSS);
    expect(s.runsCompleted).toBe(5);
    expect(s.failed).toEqual({});
  });

  it('takes the median of the runs where a workload did not fail, and marks one that failed in every run', () => {
    const s = summarize('varve', [
      report('varve', { fillseq: 100, readseq: 'wrong count' }, { fillseq: 10 }, MiB),
      report('varve', { fillseq: 'checked a wrong value', readseq: 'wrong count again' }, { fillseq: 20 }, MiB),
      report('varve', { fillseq: 400, readseq: 'wrong count, third' }, { fillseq: 30 }, MiB),
    ]);
    expect(s.rows).toEqual({ fillseq: { opsPerSec: 250, wholePhaseOpsPerSec: 125 } });
    expect(s.failed).toEqual({ readseq: 'wrong count' });
  });

  it('leaves out runs whose child failed, and says why a store has no run at all', () => {
    const s = summarize('rocksdb', [
      { store: 'rocksdb', failed: 'the child exited with SIGKILL' },
      report('rocksdb', { fillseq: 100 }, { fillseq: 10 }, MiB),
      report('rocksdb', { fillseq: 500 }, { fillseq: 50 }, 2 * MiB),
    ]);
    expect(s.runsCompleted).toBe(2);
    expect(s.rows).toEqual({ fillseq: { opsPerSec: 300, wholePhaseOpsPerSec: 150 } });
    expect(s.diskBytes).toEqual({ fillseq: 30 });
    expect(summarize('lmdb', [{ store: 'lmdb', failed: 'the child exited with code 1' }])).toEqual({ store: 'lmdb', unavailable: 'the child exited with code 1' });
    expect(summarize('lmdb', [{ store: 'lmdb', skipped: 'could not be loaded' }, { store: 'lmdb', skipped: 'again' }])).toEqual({ store: 'lmdb', unavailable: 'could not be loaded' });
  });
});

describe('peakRssNote', () => {
  it('names the one source, or each source with its stores', () => {
    expect(peakRssNote(summaries())).toBe(`peak RSS: ${MAXRSS}`);
    const sampled = 'process.memoryUsage().rss sampled';
    const mixed = [...summaries(), measured('deno-store', { fillseq: 1 }, 1, 1, { peakRssSource: sampled })];
    expect(peakRssNote(mixed)).toBe(`peak RSS: ${MAXRSS} (varve, memory-level, classic-level, rocksdb, lmdb); ${sampled} (deno-store)`);
  });
});

interface Element {
  name: string;
  attrs: Record<string, string>;
  text: string;
}

/**
 * The elements of an SVG in document order, checking that it is well formed
 * as far as the chart's plain markup goes: one root, every tag closed in
 * order, attributes quoted, no stray '<' or '&' in text.
 */
function parseSvg(svg: string): Element[] {
  const elements: Element[] = [];
  const open: Element[] = [];
  let roots = 0;
  const tag = /<(\/?)([a-z]+)((?:\s+[a-zA-Z][a-zA-Z0-9-]*="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = tag.exec(svg)) !== null) {
    end = tag.lastIndex;
    const [, closing, name, attrText, selfClosing, text] = m;
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt);)/.test(text)) throw new Error(`unescaped & in ${JSON.stringify(text)}`);
      if (open.length > 0) open[open.length - 1]!.text += text;
      else if (text.trim() !== '') throw new Error(`text outside the root: ${JSON.stringify(text)}`);
      continue;
    }
    if (closing) {
      if (open.pop()?.name !== name) throw new Error(`</${name}> closes nothing open`);
      continue;
    }
    const attrs = Object.fromEntries([...attrText!.matchAll(/([a-zA-Z][a-zA-Z0-9-]*)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!]));
    const element = { name: name!, attrs, text: '' };
    if (open.length === 0) roots++;
    elements.push(element);
    if (!selfClosing) open.push(element);
  }
  if (end !== svg.length) throw new Error(`unparsed markup at ${end}: ${svg.slice(end, end + 40)}`);
  if (open.length > 0) throw new Error(`unclosed <${open.map((e) => e.name).join('>, <')}>`);
  if (roots !== 1 || elements[0]?.name !== 'svg') throw new Error(`${roots} roots, the first <${elements[0]?.name}>`);
  return elements;
}

describe('chartSvg', () => {
  const record = (extra: object = {}) => ({
    date: '2026-11-21T00:00:00.000Z',
    commit: 'abc<&>',
    runtime: { name: 'bun', version: '1.4.5' },
    machine: { node: 'v20.20.2', platform: 'linux x64', cpus: 2 },
    // seekrandom was measured for varve alone: with no peer it gets no group.
    options: { n: 20_000, workloads: ['fillseq', 'readrandom', 'seekrandom'] },
    // idle-peer was measured on none of these rows.
    summaries: [
      measured('varve', { fillseq: 900_000, readrandom: 400_000, seekrandom: 50_000 }, MiB, MiB),
      ...summaries().slice(1),
      measured('idle-peer', {}, MiB, MiB),
    ],
    ...extra,
  });

  it('is well-formed SVG with one bar group per row that has a best peer, varve first in each', () => {
    const elements = parseSvg(chartSvg(record()));
    const texts = elements.filter((e) => e.name === 'text').map((e) => e.text);
    expect(texts).toContain('fillseq, batches of 1000');
    expect(texts).toContain('readrandom, awaited get');
    expect(texts.some((t) => t.startsWith('seekrandom'))).toBe(false);
    expect(texts).toContain('best peer: rocksdb, 450k/s');
    expect(texts).toContain('best peer: rocksdb, 200k/s');

    // Each bar is a rect followed by its label; the first rect is the background.
    const bars: { store: string; ratio: string; width: number }[] = [];
    elements.forEach((e, i) => {
      if (e.name !== 'rect' || i === 1) return;
      const [store, ratioText] = elements[i + 1]!.text.split(' ');
      bars.push({ store: store!, ratio: ratioText!, width: Number(e.attrs['width']) });
    });
    // fillseq: every measured store; readrandom: all but lmdb, which failed it; better-sqlite3 (unmeasured) and idle-peer never.
    expect(bars.map((b) => `${b.store} ${b.ratio}`)).toEqual([
      'varve 2.00x', 'memory-level 4.44x', 'classic-level 0.67x', 'rocksdb 1.00x', 'lmdb 0.22x',
      'varve 2.00x', 'memory-level 4.50x', 'classic-level 0.75x', 'rocksdb 1.00x',
    ]);
    // The best peer's bar ends at the 1x line in every group; bars are as long as their ratio, up to the 4x cut.
    const [varve, memory, classic, rocksdb] = bars;
    expect(bars[8]!.width).toBeCloseTo(rocksdb!.width, 5);
    expect(varve!.width).toBeCloseTo(2 * rocksdb!.width, 0);
    expect(classic!.width).toBeCloseTo((2 / 3) * rocksdb!.width, 0);
    expect(memory!.width).toBeCloseTo(4 * rocksdb!.width, 0);
    expect(texts).toContain('memory-level 4.44x (cut)');
  });

  it('names the runtime, N and the commit in its title lines, escaped', () => {
    const texts = parseSvg(chartSvg(record())).filter((e) => e.name === 'text').map((e) => e.text);
    expect(texts[0]).toMatch(/^varve vs peers under Bun 1\.4\.5, N = 20,000: /);
    expect(texts[1]).toContain('commit abc&lt;&amp;&gt;, linux x64, 2 CPUs');
    // A record saved before --runtime ran its children under run.mjs's Node.
    const old = parseSvg(chartSvg(record({ runtime: undefined }))).filter((e) => e.name === 'text');
    expect(old[0]!.text).toMatch(/^varve vs peers under Node 20\.20\.2, N = 20,000: /);
  });
});
