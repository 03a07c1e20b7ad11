// The key range a scan, count or export covers: --gt/--gte/--lt/--lte and
// --prefix, in the command's --encoding.
import type { IteratorOptions } from '../iterator/value-iterator.js';
import { prefixEnd } from '../keys.js';
import { type Encoding, parseBytes } from './io.js';
import { UsageError } from './exit-codes.js';

export interface RangeFlags {
  prefix?: string | undefined;
  gt?: string | undefined;
  gte?: string | undefined;
  lt?: string | undefined;
  lte?: string | undefined;
}

export function rangeOf(flags: RangeFlags, encoding: Encoding): IteratorOptions {
  const bytes = (text: string | undefined) => (text === undefined ? undefined : parseBytes(text, encoding));
  const range: IteratorOptions = { gt: bytes(flags.gt), gte: bytes(flags.gte), lt: bytes(flags.lt), lte: bytes(flags.lte) };
  if (flags.prefix === undefined) return range;
  if (range.gt || range.gte || range.lt || range.lte) throw new UsageError('--prefix cannot be combined with --gt, --gte, --lt or --lte');
  const prefix = parseBytes(flags.prefix, encoding);
  return { gte: prefix, lt: prefixEnd(prefix) };
}
