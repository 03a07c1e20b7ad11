// An explicit abstract-level snapshot is an engine snapshot: taken
// synchronously, held until close() (abstract-level waits for reads using it).
import { AbstractSnapshot } from 'abstract-level';
import type { Snapshot } from '../snapshot.js';

export class VarveSnapshot extends AbstractSnapshot {
  readonly engine: Snapshot;

  constructor(options: { owner: unknown }, engine: Snapshot) {
    // @ts-expect-error abstract-level 3.1's typings leave out the constructor's { owner } argument its code requires.
    super(options);
    this.engine = engine;
  }

  async _close(): Promise<void> {
    this.engine.release();
  }
}

/** The engine snapshot a private-API read runs at, if the caller gave one. */
export function engineSnapshot(options: { snapshot?: unknown } | undefined): Snapshot | undefined {
  const snapshot = options?.snapshot;
  return snapshot instanceof VarveSnapshot ? snapshot.engine : undefined;
}
