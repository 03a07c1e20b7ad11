// Reading a client's bytes. node:net's 'data' events cost a fresh buffer
// per read (a 64 KiB allocation, shrunk to fit) and a trip through the
// readable stream machinery; at one request per read that was about a
// fifth of a request's CPU (the floor at SET -P 1 with 50 clients: 12.6 ->
// 9.3 us a request, 80k -> 100-105k requests/s). A socket made with the `onread` option (node:net's Socket
// constructor) reads into one buffer of ours and calls us directly; where
// the runtime's accepted sockets expose their stream handle with user-buffer
// reads (Node, Deno), the connection's handle is moved to such a socket.
// Elsewhere (Bun) the accepted socket is read through 'data' events.
//
// Every socket reads into the same buffer: reads run one at a time on this
// thread, and each chunk is copied out before the next read, since the
// parser hands out views of the chunks it is given and keeps them. Chunks
// are copied into a slab, one after another, each a plain Uint8Array view
// of it: Buffer.from costs two Buffers and a trip through its pool, about
// 0.5 us of a SET's 19 at -P 1. A slab lives while any of its chunks does.
import { Socket } from 'node:net';

/** Bytes one read may take; a larger pending input arrives in several chunks. */
const READ_BUFFER_BYTES = 64 * 1024;
/** Bytes of a slab; a chunk over a quarter of it gets an array of its own. */
const SLAB_BYTES = 64 * 1024;

let readBuffer: Buffer | undefined;
// The memories of the read buffer and the slab, kept beside them: reading
// `.buffer` is a call into the runtime, each time.
let readData: ArrayBufferLike | undefined;
let readOffset = 0;
let slab = new Uint8Array(0);
let slabData: ArrayBufferLike = slab.buffer;
let slabUsed = 0;

/** A copy of the first n bytes read, the caller's to keep. Precondition: readData is set. */
function copyRead(n: number): Uint8Array {
  const read = new Uint8Array(readData!, readOffset, n);
  if (n > SLAB_BYTES / 4) return read.slice();
  if (n > slab.length - slabUsed) {
    slab = new Uint8Array(SLAB_BYTES);
    slabData = slab.buffer;
    slabUsed = 0;
  }
  const at = slabUsed;
  slab.set(read, at);
  slabUsed += n;
  return new Uint8Array(slabData, at, n);
}

interface StreamHandle {
  readStart(): number;
  useUserBuffer(buffer: Uint8Array): void;
}

function streamHandle(socket: Socket): StreamHandle | undefined {
  const handle = (socket as unknown as { _handle?: Partial<StreamHandle> | null })._handle;
  if (handle == null || typeof handle.readStart !== 'function' || typeof handle.useUserBuffer !== 'function') return undefined;
  return handle as StreamHandle;
}

/**
 * Starts reading a socket accepted with `pauseOnConnect`, handing each
 * chunk received to `receive`; the chunk is the caller's to keep. Returns
 * the socket to use from then on, for writing, pausing and events: the
 * accepted one, or the one its connection moved to (the accepted one is
 * then destroyed without its connection, which it no longer holds).
 */
export function readClientSocket(accepted: Socket, receive: (chunk: Uint8Array) => void): Socket {
  const handle = streamHandle(accepted);
  if (handle === undefined) {
    accepted.on('data', receive);
    accepted.resume();
    return accepted;
  }
  (accepted as unknown as { _handle: null })._handle = null;
  accepted.destroy();
  if (readBuffer === undefined) {
    readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    readData = readBuffer.buffer;
    readOffset = readBuffer.byteOffset;
  }
  const onread = { buffer: readBuffer, callback: (n: number) => receive(copyRead(n)) };
  return new Socket({ handle, onread, readable: true, writable: true } as ConstructorParameters<typeof Socket>[0]);
}
