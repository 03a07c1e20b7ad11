// The figure varve is compared with on each row: the best durable peer's.

export const SUBJECT = 'varve';

/**
 * The best peer's figure for one row of summaries (summary.mjs's summarize):
 * the highest rate, or the smallest size when `lowerIsBetter`. varve itself,
 * stores that were not measured, and the in-memory ceiling (memory-level)
 * are never the best peer. Undefined when no peer has the figure.
 */
export function bestPeer(summaries, pick, lowerIsBetter) {
  let best;
  for (const s of summaries) {
    if (s.store === SUBJECT || s.ceiling || s.rows === undefined) continue;
    const x = pick(s);
    if (x === undefined) continue;
    if (best === undefined || (lowerIsBetter ? x < best.value : x > best.value)) best = { store: s.store, value: x };
  }
  return best;
}

/**
 * varve's figure over the best peer's, oriented so that above 1 is varve
 * ahead: a rate over the best rate, but for sizes (`lowerIsBetter`) the best
 * size over varve's.
 */
export function ratio(mine, best, lowerIsBetter) {
  return lowerIsBetter ? best / mine : mine / best;
}
