import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ClosedError } from '../src/errors.js';
import { LevelIndex } from '../src/version/level-index.js';
import { LevelIterator } from '../src/iterator/level-iterator.js';
import { Kind, makeInternalKey } from '../src/keys.js';
import type { FileMetadata } from '../src/version/edit.js';
import { ArrayIterator, EMPTY, compareBytes, compareRecs, ikeyOf, pointKindArb, show, userKeyArb, type Rec } from './support/internal-model.js';
import { walk, walkOpArb } from './support/iterator-walk.js';

/** Records with unique internal keys, sorted. */
const recsArb = fc
  .array(fc.record({ key: userKeyArb, kind: pointKindArb, value: fc.uint8Array({ maxLength: 6 }) }), { minLength: 1, maxLength: 60 })
  .map((rs) => rs.map((r, i) => ({ ...r, seq: i + 1, value: r.kind === Kind.Deletion ? EMPTY : r.value })).sort(compareRecs));

/**
 * Splits sorted records into files of a level: cuts only between user keys
 * (one user key lies in one file), where `cuts` says so. Files flagged
 * empty keep their key range but yield nothing (a table holding only range
 * deletions); their records leave the model.
 */
function makeLevel(recs: Rec[], cuts: boolean[], empties: boolean[]): { files: FileMetadata[]; contents: Map<number, Rec[]>; model: Rec[] } {
  const groups: Rec[][] = [[]];
  recs.forEach((r, i) => {
    if (i > 0 && compareBytes(recs[i - 1]!.key, r.key) !== 0 && cuts[i % cuts.length]) groups.push([]);
    groups.at(-1)!.push(r);
  });
  const files: FileMetadata[] = [];
  const contents = new Map<number, Rec[]>();
  const model: Rec[] = [];
  groups.forEach((group, n) => {
    const empty = empties[n % empties.length]!;
    files.push({ number: n + 1, size: 1, smallest: ikeyOf(group[0]!), largest: ikeyOf(group.at(-1)!), smallestSeq: 0, largestSeq: 0 });
    contents.set(n + 1, empty ? [] : group);
    if (!empty) model.push(...group);
  });
  return { files, contents, model };
}

describe('level iterator against the concatenation of its files', () => {
  it('random walks agree with the model at every step, with at most one file open', () => {
    fc.assert(
      fc.property(recsArb, fc.array(fc.boolean(), { minLength: 1 }), fc.array(fc.boolean(), { minLength: 1 }), fc.array(walkOpArb, { maxLength: 60 }), (recs, cuts, empties, ops) => {
        const { files, contents, model } = makeLevel(recs, cuts, empties.map((e, i) => e && i % 3 === 0));
        const children: ArrayIterator[] = [];
        const stillOpen = () => children.filter((c) => c.closed === 0).length;
        const level = new LevelIterator(files, new LevelIndex(files), (meta) => {
          const child = new ArrayIterator(contents.get(meta.number)!);
          children.push(child);
          return child;
        });
        walk(level, ops, model, (n) => ikeyOf(recs[n % recs.length]!), () => expect(stillOpen()).toBeLessThanOrEqual(1));
        level.close();
        expect(children.every((c) => c.closed === 1)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a seek opens only the file that may hold the target', () => {
    const recs = Array.from({ length: 40 }, (_, k): Rec => ({ key: Uint8Array.of(k), seq: 1, kind: Kind.Value, value: Uint8Array.of(k) }));
    const { files, contents } = makeLevel(recs, [true], [false]);
    expect(files).toHaveLength(40);
    const opened: number[] = [];
    const level = new LevelIterator(files, new LevelIndex(files), (meta) => {
      opened.push(meta.number);
      return new ArrayIterator(contents.get(meta.number)!);
    });
    level.seek(makeInternalKey(Uint8Array.of(17), 5, Kind.Value));
    expect(show(level.key(), level.value())).toBe(show(ikeyOf(recs[17]!), recs[17]!.value));
    level.seekForPrev(makeInternalKey(Uint8Array.of(30), 5, Kind.Value));
    expect(show(level.key(), level.value())).toBe(show(ikeyOf(recs[29]!), recs[29]!.value));
    expect(opened).toEqual([18, 30]);
    level.close();
    expect(() => level.seekToFirst()).toThrow(ClosedError);
  });
});
