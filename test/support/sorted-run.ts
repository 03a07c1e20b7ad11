// A memtable's sorted run, as a flush hands it to the table worker, built
// without a memtable: keys key00000000.., each with sequence i + 1.
import { Kind, makeInternalKey } from '../../src/keys.js';

/** Key i of makeRun's runs. */
export function runKey(i: number): string {
  return `key${String(i).padStart(8, '0')}`;
}

/** Value i of makeRun's runs. */
export function runValue(i: number): string {
  return `value-${i}-`.repeat(8);
}

/**
 * `count` entries in the run format (docs/FORMAT.md): [u32 key length][u32
 * value length][internal key][value]; entry j is key `order(j)`, so the
 * run is sorted unless `order` says otherwise.
 */
export function makeRun(count: number, order: (j: number) => number = (j) => j): Uint8Array {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (let j = 0; j < count; j++) {
    const i = order(j);
    const key = makeInternalKey(enc.encode(runKey(i)), i + 1, Kind.Value);
    const value = enc.encode(runValue(i));
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, key.length, true);
    new DataView(header.buffer).setUint32(4, value.length, true);
    parts.push(header, key, value);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
