// abstract-level asks the private API for keys and values in one of three
// formats; the engine hands out fresh Uint8Array copies, so 'buffer' wraps
// the same bytes without copying again.
import { Buffer } from 'node:buffer';

/** The formats varve's private API takes and gives (the manifest's encodings). */
export type Format = 'buffer' | 'view' | 'utf8';
export type Encoded = Buffer | Uint8Array | string;

const decoder = new TextDecoder();

/** Engine bytes in `format`. Precondition: `bytes` is not shared with the engine. */
export function toFormat(bytes: Uint8Array, format: string): Encoded {
  if (format === 'utf8') return decoder.decode(bytes);
  if (format === 'buffer') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return bytes;
}
