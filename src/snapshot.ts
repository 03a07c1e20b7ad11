// Snapshots: a reader's promise that the database as of one sequence stays
// readable. The engine keeps the live snapshots' sequences so compaction
// never drops a version one of them can see; release() gives that back.
import { ClosedError, InvalidArgumentError } from './errors.js';

export class Snapshot {
  readonly sequence: number;
  readonly #release: (snapshot: Snapshot) => void;
  #released = false;

  constructor(sequence: number, release: (snapshot: Snapshot) => void) {
    this.sequence = sequence;
    this.#release = release;
  }

  get released(): boolean {
    return this.#released;
  }

  /** Lets compaction drop what only this snapshot needed. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#release(this);
  }
}

/** The live snapshots of one database, counted by sequence. */
export class SnapshotList {
  readonly #counts = new Map<number, number>();
  #held = 0;

  take(sequence: number): Snapshot {
    this.#held++;
    this.#counts.set(sequence, (this.#counts.get(sequence) ?? 0) + 1);
    return new Snapshot(sequence, (s) => this.#drop(s.sequence));
  }

  #drop(sequence: number): void {
    this.#held--;
    const n = this.#counts.get(sequence)!;
    if (n === 1) this.#counts.delete(sequence);
    else this.#counts.set(sequence, n - 1);
  }

  /** The oldest live snapshot's sequence, or `otherwise` when none is live. */
  oldest(otherwise: number): number {
    let min = otherwise;
    for (const seq of this.#counts.keys()) if (seq < min) min = seq;
    return min;
  }

  get size(): number {
    return this.#counts.size;
  }

  /** Snapshots taken and not released (several may share a sequence). */
  get held(): number {
    return this.#held;
  }
}

/** The sequence a read runs at: its snapshot's, or `latest`. */
export function readSequence(options: { snapshot?: Snapshot } | undefined, latest: number): number {
  if (options === undefined || options.snapshot === undefined) return latest;
  const snapshot = options.snapshot;
  if (!(snapshot instanceof Snapshot)) throw new InvalidArgumentError('option snapshot must come from db.snapshot()');
  if (snapshot.released) throw new ClosedError('the snapshot has been released');
  return snapshot.sequence;
}
