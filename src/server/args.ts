// Argument parsing with Redis's rules and Redis's error words.
import { CommandError } from './command.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export const NOT_INTEGER = 'ERR value is not an integer or out of range';
export const NOT_FLOAT = 'ERR value is not a valid float';
export const SYNTAX = 'ERR syntax error';

/** A signed 64-bit integer written as Redis writes one: optional '-', digits, no '+', no leading zeros, no spaces. */
export function parseInt64(arg: Uint8Array, message = NOT_INTEGER): bigint {
  const text = latin1(arg);
  if (!/^(0|-?[1-9]\d{0,19})$/.test(text)) throw new CommandError(message);
  const n = BigInt(text);
  if (n < INT64_MIN || n > INT64_MAX) throw new CommandError(message);
  return n;
}

/** parseInt64 as a JS number; values beyond 2^53 are refused with the same error. */
export function parseInteger(arg: Uint8Array, message = NOT_INTEGER): number {
  const n = parseInt64(arg, message);
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw new CommandError(message);
  return Number(n);
}

/** A finite double as Redis's strtold accepts one (no spaces; inf and nan refused). */
export function parseDouble(arg: Uint8Array): number {
  const text = latin1(arg);
  if (text.length === 0 || /\s/.test(text)) throw new CommandError(NOT_FLOAT);
  const n = Number(text);
  if (!Number.isFinite(n)) throw new CommandError(NOT_FLOAT);
  return n;
}

/** Whether `arg` spells `word` (lower case), in any case. */
export function is(arg: Uint8Array, word: string): boolean {
  if (arg.length !== word.length) return false;
  for (let i = 0; i < word.length; i++) if ((arg[i]! | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

/** The argument as UTF-8 text (for messages and names). */
export function text(arg: Uint8Array): string {
  return Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength).toString('utf8');
}

/** Arguments up to this many bytes are turned into strings by String.fromCharCode. */
const SHORT_ARGUMENT = 1024;

/**
 * The argument one char per byte: distinct arguments give distinct strings.
 * For a short one (a key, a number) fromCharCode takes about half the time
 * of making a Buffer view and decoding it.
 */
export function latin1(arg: Uint8Array): string {
  if (arg.length <= SHORT_ARGUMENT) return String.fromCharCode.apply(null, arg as unknown as number[]);
  return Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength).toString('latin1');
}

/**
 * A double as INCRBYFLOAT replies with it: the shortest decimal that reads
 * back as the same double, never in exponent form, no trailing zeros.
 * (Redis computes in long double, so its last digits can differ.)
 */
export function formatDouble(n: number): string {
  const shortest = String(n);
  if (!shortest.includes('e')) return shortest;
  if (Math.abs(n) >= 1) return BigInt(n).toString();
  return n.toFixed(20).replace(/0+$/, '');
}
