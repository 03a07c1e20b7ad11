// From the children's reports to the figures a comparison shows: each
// store's summary over runs, and the table of them with varve's ratio to the
// best peer. Apart from run.mjs, so that the test can check these figures
// without running a benchmark.
import { SUBJECT, bestPeer, ratio } from './best-peer.mjs';
import { median, workloadNamed } from './workloads.mjs';

/**
 * Per store, from its reports (one per run, as child.mjs writes them): the
 * median over runs of each workload's rates, the median disk size, the
 * largest peak RSS. A workload that failed in every run is in `failed`; one
 * that failed in some runs is the median of the others. A store with no
 * completed run is `unavailable`, with the first run's reason.
 */
export function summarize(store, reports) {
  const ok = reports.filter((r) => r.results !== undefined);
  if (ok.length === 0) return { store, unavailable: reports[0].skipped ?? reports[0].failed };
  const rows = {};
  const failed = {};
  for (const name of Object.keys(ok[0].results)) {
    const runs = ok.map((r) => r.results[name]).filter((r) => r.failed === undefined);
    if (runs.length === 0) failed[name] = ok[0].results[name].failed;
    else rows[name] = { opsPerSec: median(runs.map((r) => r.opsPerSec)), wholePhaseOpsPerSec: median(runs.map((r) => r.wholePhaseOpsPerSec)) };
  }
  const diskBytes = {};
  for (const name of Object.keys(ok[0].diskBytes)) diskBytes[name] = median(ok.map((r) => r.diskBytes[name]));
  return {
    store,
    durability: ok[0].durability,
    ceiling: ok[0].ceiling === true,
    rows,
    failed,
    diskBytes,
    peakRssBytes: Math.max(...ok.map((r) => r.peakRssBytes)),
    peakRssSource: ok[0].peakRssSource,
    runsCompleted: ok.length,
  };
}

function rate(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e4) return `${Math.round(x / 1e3)}k`;
  return `${(x / 1e3).toFixed(1)}k`;
}

function mib(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/**
 * The table's text: a row per workload in `workloads`, per disk figure and
 * for peak RSS; a column per measured store, then varve's ratio to the best
 * peer of the row (above 1 is varve ahead) and that peer's name.
 */
export function table(summaries, workloads) {
  const stores = summaries.filter((s) => s.rows !== undefined);
  const subject = stores.find((s) => s.store === SUBJECT);
  const header = ['workload', ...stores.map((s) => s.store), ...(subject ? [`${SUBJECT} / best peer`] : [])];
  const line = (label, pick, show, lowerIsBetter, workload) => {
    const cells = [label, ...stores.map((s) => (pick(s) === undefined ? (s.failed[workload] ? 'failed' : '-') : show(s)))];
    if (subject) {
      const best = bestPeer(stores, pick, lowerIsBetter);
      const mine = pick(subject);
      cells.push(best === undefined || mine === undefined ? '-' : `${ratio(mine, best.value, lowerIsBetter).toFixed(2)}x ${best.store}`);
    }
    return cells;
  };
  const body = [];
  for (const name of workloads) {
    const pick = (s) => s.rows[name]?.opsPerSec;
    body.push(line(workloadNamed(name).label, pick, (s) => `${rate(s.rows[name].opsPerSec)}/s (${rate(s.rows[name].wholePhaseOpsPerSec)})`, false, name));
  }
  const diskRows = [...new Set(stores.flatMap((s) => Object.keys(s.diskBytes)))];
  for (const name of diskRows) {
    const pick = (s) => s.diskBytes[name];
    body.push(line(`disk after ${name}`, pick, (s) => mib(s.diskBytes[name]), true));
  }
  body.push(line('peak RSS', (s) => s.peakRssBytes, (s) => mib(s.peakRssBytes), true));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const format = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...body.map(format)].join('\n');
}

/** How each measured store's peak RSS was taken (child.mjs's peakRssSource), naming the stores when they differ. */
export function peakRssNote(summaries) {
  const bySource = new Map();
  for (const s of summaries.filter((x) => x.rows !== undefined)) {
    const source = s.peakRssSource ?? 'unknown';
    bySource.set(source, [...(bySource.get(source) ?? []), s.store]);
  }
  if (bySource.size <= 1) return `peak RSS: ${[...bySource.keys()][0] ?? 'none measured'}`;
  return `peak RSS: ${[...bySource].map(([source, stores]) => `${source} (${stores.join(', ')})`).join('; ')}`;
}
