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
// parser hands out views of the chunks it is given and keeps them.
import { Socket } from 'node:net';

/** Bytes one read may take; a larger pending input arrives in several chunks. */
const READ_BUFFER_BYTES = 64 * 1024;

let readBuffer: Buffer | undefined;

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
export function readClientSocket(accepted: Socket, receive: (chunk: Buffer) => void): Socket {
  const handle = streamHandle(accepted);
  if (handle === undefined) {
    accepted.on('data', receive);
    accepted.resume();
    return accepted;
  }
  (accepted as unknown as { _handle: null })._handle = null;
  accepted.destroy();
  readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const onread = { buffer: readBuffer, callback: (n: number, buffer: Buffer) => receive(Buffer.from(buffer.subarray(0, n))) };
  return new Socket({ handle, onread, readable: true, writable: true } as ConstructorParameters<typeof Socket>[0]);
}
