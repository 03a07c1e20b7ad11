// Range tombstones cut into sorted, non-overlapping fragments: every point
// where some tombstone starts or ends is a cut, so each fragment is covered
// by the same set of tombstones throughout, and it carries their sequences
// (descending). "Which tombstones cover key k" becomes one binary search.
import { compareBytes } from '../keys.js';
import { type RangeTombstone, beforeEnd, compareEnds } from './tombstone.js';

export interface Fragment {
  readonly start: Uint8Array;
  /** Exclusive; undefined: no upper bound. */
  readonly end: Uint8Array | undefined;
  /** Sequences of the tombstones covering it, descending, distinct. */
  readonly seqs: readonly number[];
}

/** Chooses which of a fragment's sequences (descending) to keep; an empty result drops the fragment. */
export type SeqFilter = (seqsDescending: number[]) => number[];

/** Keeps the newest sequence at or below `snapshot`: what a reader at that snapshot needs. */
export function visibleAt(snapshot: number): SeqFilter {
  return (seqs) => {
    for (const s of seqs) if (s <= snapshot) return [s];
    return [];
  };
}

export class TombstoneFragments {
  readonly fragments: readonly Fragment[];

  private constructor(fragments: Fragment[]) {
    this.fragments = fragments;
  }

  /** Fragments `tombstones` (any order, may overlap); undefined when no fragment remains. */
  static build(tombstones: readonly RangeTombstone[], filter?: SeqFilter): TombstoneFragments | undefined {
    if (tombstones.length === 0) return undefined;
    const sorted = [...tombstones].sort((a, b) => compareBytes(a.start, b.start));
    const cuts: Uint8Array[] = [];
    for (const t of sorted) {
      cuts.push(t.start);
      if (t.end !== undefined) cuts.push(t.end);
    }
    cuts.sort(compareBytes);
    const out: Fragment[] = [];
    let active: RangeTombstone[] = [];
    let next = 0;
    for (let i = 0; i < cuts.length; i++) {
      const cut = cuts[i]!;
      if (i > 0 && compareBytes(cut, cuts[i - 1]!) === 0) continue;
      while (next < sorted.length && compareBytes(sorted[next]!.start, cut) <= 0) active.push(sorted[next++]!);
      active = active.filter((t) => beforeEnd(cut, t.end));
      if (active.length === 0) continue;
      let j = i + 1;
      while (j < cuts.length && compareBytes(cuts[j]!, cut) === 0) j++;
      const end = j < cuts.length ? cuts[j] : undefined;
      let seqs = [...new Set(active.map((t) => t.seq))].sort((a, b) => b - a);
      if (filter !== undefined) seqs = filter(seqs);
      if (seqs.length > 0) out.push({ start: cut, end, seqs });
    }
    return out.length === 0 ? undefined : new TombstoneFragments(out);
  }

  /** Index of the fragment holding `userKey`, or -1. */
  find(userKey: Uint8Array): number {
    const i = this.#startingAtOrBefore(userKey) - 1;
    return i >= 0 && beforeEnd(userKey, this.fragments[i]!.end) ? i : -1;
  }

  /** The largest sequence <= snapshot of a tombstone covering `userKey`, or -1. */
  coveringSeq(userKey: Uint8Array, snapshot: number): number {
    const i = this.find(userKey);
    if (i < 0) return -1;
    for (const s of this.fragments[i]!.seqs) if (s <= snapshot) return s;
    return -1;
  }

  /**
   * The first fragment bound (a start or an end) above `userKey`: the keys
   * from `userKey` up to it share one covering set. Undefined when none.
   */
  nextBound(userKey: Uint8Array): Uint8Array | undefined {
    const n = this.#startingAtOrBefore(userKey);
    const f = this.fragments;
    if (n > 0 && beforeEnd(userKey, f[n - 1]!.end)) return f[n - 1]!.end;
    return n < f.length ? f[n]!.start : undefined;
  }

  /** How many fragments start at or before `userKey` (a binary search). */
  #startingAtOrBefore(userKey: Uint8Array): number {
    const f = this.fragments;
    let lo = 0;
    let hi = f.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(f[mid]!.start, userKey) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The fragments as tombstones (one per sequence), e.g. to fragment again with others. */
  tombstones(): RangeTombstone[] {
    const out: RangeTombstone[] = [];
    for (const f of this.fragments) for (const seq of f.seqs) out.push({ start: f.start, end: f.end, seq });
    return out;
  }

  /** Smallest start and largest end over all fragments. */
  get span(): { start: Uint8Array; end: Uint8Array | undefined } {
    return { start: this.fragments[0]!.start, end: this.fragments[this.fragments.length - 1]!.end };
  }
}

/** Whether end a reaches at least as far as end b. */
export function endsAtOrAfter(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return compareEnds(a, b) >= 0;
}
