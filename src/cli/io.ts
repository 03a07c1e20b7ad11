// The streams a command talks through, so tests can run commands in-process
// and the shell can share them; and how keys and values are written on a
// command line (--encoding utf8, hex or base64).
import { Buffer } from 'node:buffer';
import { UsageError } from './exit-codes.js';

export interface CliIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export type Encoding = 'utf8' | 'hex' | 'base64';

export function encodingOf(name: string | undefined): Encoding {
  if (name === undefined) return 'utf8';
  if (name === 'utf8' || name === 'hex' || name === 'base64') return name;
  throw new UsageError(`--encoding must be utf8, hex or base64, got ${name}`);
}

/** Bytes of a key or value given on the command line (or in a JSON line) in `encoding`. */
export function parseBytes(text: string, encoding: Encoding): Uint8Array {
  if (encoding === 'utf8') return new TextEncoder().encode(text);
  if (encoding === 'hex' && !/^([0-9a-fA-F]{2})*$/.test(text)) throw new UsageError(`not hex: ${text}`);
  if (encoding === 'base64' && !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new UsageError(`not base64: ${text}`);
  return new Uint8Array(Buffer.from(text, encoding));
}

/** Bytes as text in `encoding` (utf8 replaces invalid sequences with U+FFFD: use hex or base64 for binary data). */
export function formatBytes(bytes: Uint8Array, encoding: Encoding): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding);
}

/** Writes `text` and resolves once the stream has taken it (respecting backpressure). */
export function write(stream: NodeJS.WritableStream, text: string): Promise<void> | void {
  if (stream.write(text)) return;
  return new Promise((resolve) => stream.once('drain', resolve));
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `bytes` in the largest binary unit that keeps it >= 1. */
export function humanBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}
