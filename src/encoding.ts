// Keys and values arrive as Uint8Array (a Buffer is one) or string (UTF-8).
import { InvalidArgumentError } from './errors.js';
import { MAX_KEY_SIZE, MAX_VALUE_SIZE } from './options.js';

const encoder = new TextEncoder();

function toBytes(what: string, input: unknown, max: number): Uint8Array {
  let bytes: Uint8Array;
  if (input instanceof Uint8Array) bytes = input;
  else if (typeof input === 'string') bytes = encoder.encode(input);
  else throw new InvalidArgumentError(`${what} must be a Uint8Array or a string, got ${input === null ? 'null' : typeof input}`);
  if (bytes.length > max) throw new InvalidArgumentError(`${what} of ${bytes.length} bytes exceeds the limit of ${max}`);
  return bytes;
}

export function keyBytes(key: unknown): Uint8Array {
  return toBytes('key', key, MAX_KEY_SIZE);
}

export function valueBytes(value: unknown): Uint8Array {
  return toBytes('value', value, MAX_VALUE_SIZE);
}
