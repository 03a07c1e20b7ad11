// Names of the files in a database directory (docs/FORMAT.md, "File names").
// A file number is written in decimal, zero-padded to at least six digits.
// Parsing accepts only the exact form formatting produces, so every file
// has one name and stray files are never mistaken for the engine's.
import { InvalidArgumentError } from '../errors.js';

export type FileKind = 'wal' | 'table' | 'manifest' | 'current' | 'lock' | 'temp';

export interface ParsedFileName {
  kind: FileKind;
  /** The file number; 0 for CURRENT and LOCK, which have none. */
  number: number;
}

export const CURRENT_FILE = 'CURRENT';
export const LOCK_FILE = 'LOCK';

const MANIFEST_PREFIX = 'MANIFEST-';
const CURRENT_TEMP_PREFIX = 'CURRENT.';
const WAL_SUFFIX = '.log';
const TABLE_SUFFIX = '.vt';
const TEMP_SUFFIX = '.tmp';

function formatNumber(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`file number must be a non-negative safe integer, got ${n}`);
  return String(n).padStart(6, '0');
}

/** The number `digits` spell, if they are exactly what formatNumber writes. */
function parseNumber(digits: string): number | undefined {
  if (!/^[0-9]{6,16}$/.test(digits)) return undefined;
  const n = Number(digits);
  return Number.isSafeInteger(n) && formatNumber(n) === digits ? n : undefined;
}

/** `NNNNNN.log`: a write-ahead log. */
export function walFileName(n: number): string {
  return formatNumber(n) + WAL_SUFFIX;
}

/** `NNNNNN.vt`: a table. */
export function tableFileName(n: number): string {
  return formatNumber(n) + TABLE_SUFFIX;
}

/** `MANIFEST-NNNNNN`. */
export function manifestFileName(n: number): string {
  return MANIFEST_PREFIX + formatNumber(n);
}

/** `NNNNNN.tmp`: a file being written under file number n, renamed when complete. */
export function tempFileName(n: number): string {
  return formatNumber(n) + TEMP_SUFFIX;
}

/** `CURRENT.NNNNNN.tmp`: the next CURRENT, naming manifest n, before its rename. */
export function currentTempFileName(n: number): string {
  return CURRENT_TEMP_PREFIX + formatNumber(n) + TEMP_SUFFIX;
}

function parsed(kind: FileKind, n: number | undefined): ParsedFileName | undefined {
  return n === undefined ? undefined : { kind, number: n };
}

/** Kind and number of an engine file name, or undefined for any other name. */
export function parseFileName(name: string): ParsedFileName | undefined {
  if (name === CURRENT_FILE) return { kind: 'current', number: 0 };
  if (name === LOCK_FILE) return { kind: 'lock', number: 0 };
  if (name.startsWith(MANIFEST_PREFIX)) return parsed('manifest', parseNumber(name.slice(MANIFEST_PREFIX.length)));
  if (name.endsWith(WAL_SUFFIX)) return parsed('wal', parseNumber(name.slice(0, -WAL_SUFFIX.length)));
  if (name.endsWith(TABLE_SUFFIX)) return parsed('table', parseNumber(name.slice(0, -TABLE_SUFFIX.length)));
  if (name.endsWith(TEMP_SUFFIX)) {
    const stem = name.slice(0, -TEMP_SUFFIX.length);
    const digits = stem.startsWith(CURRENT_TEMP_PREFIX) ? stem.slice(CURRENT_TEMP_PREFIX.length) : stem;
    return parsed('temp', parseNumber(digits));
  }
  return undefined;
}
