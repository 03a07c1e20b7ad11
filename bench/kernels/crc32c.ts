import { createRequire } from 'node:module';
import { wasm } from 'varve';
import type { Case } from '../harness.js';
import { randomBytes } from '../data.js';

const require = createRequire(import.meta.url);
const CRC32C = require('crc-32/crc32c') as { buf(data: Uint8Array, seed?: number): number };

export function cases(): Case[] {
  const size = 64 * 1024;
  const data = randomBytes(size, 42);
  // The engine checksums blocks that already sit in linear memory.
  const region = new wasm.Region(size);
  wasm.heap.write(region.ptr, data);
  if (wasm.crc32cAt(region.ptr, size) !== CRC32C.buf(data) >>> 0) throw new Error('crc32c disagrees with crc-32');
  return [
    {
      kernel: 'crc32c',
      op: 'checksum 64 KiB in linear memory',
      unit: 'MB/s',
      perCall: size,
      varve: () => wasm.crc32cAt(region.ptr, size),
      rival: { name: 'crc-32 crc32c', fn: () => CRC32C.buf(data) },
      bar: 1.2,
    },
  ];
}
