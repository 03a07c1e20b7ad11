// Blocking calls from a worker to the main thread, for the file access a
// job needs while it runs (a compaction reads its inputs and writes its
// outputs piece by piece; all file access stays on the main thread, behind
// the engine's FileSystem). The worker posts a request on a MessagePort and
// sleeps in Atomics.wait on a shared flag; the main thread serves the request
// asynchronously (its event loop keeps running), posts the reply, then
// raises the flag; the worker takes the reply with receiveMessageOnPort.
// Bulk bytes never travel in messages: they sit in shared buffers both
// threads reuse, so a job allocates nothing per piece.
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';

/** A reply: a result, or the error the main thread met (its name, code and message). */
export type SyncReply<R> = { ok: R } | { error: { name: string; code: string; message: string; errno?: string | undefined } };

const IDLE = 0;
const REPLIED = 1;
/** How long a reply may trail its flag before the call fails. */
const REPLY_WAIT_MS = 10_000;

/** The worker's end: call() blocks until the main thread replies. */
export class SyncCaller<Q, R> {
  readonly #port: MessagePort;
  readonly #flag: Int32Array;

  constructor(port: MessagePort, flag: SharedArrayBuffer) {
    this.#port = port;
    this.#flag = new Int32Array(flag);
  }

  /** Sends `request` and waits for its reply; the main thread's error comes back as a thrown Error with its code. */
  call(request: Q): R {
    Atomics.store(this.#flag, 0, IDLE);
    this.#port.postMessage(request);
    Atomics.wait(this.#flag, 0, IDLE);
    // The reply is posted before the flag is raised, but crossing threads it
    // can reach this port a moment after the flag: wait for it in 1 ms naps.
    let received = receiveMessageOnPort(this.#port);
    for (let naps = 0; received === undefined && naps < REPLY_WAIT_MS; naps++) {
      Atomics.wait(this.#flag, 0, REPLIED, 1);
      received = receiveMessageOnPort(this.#port);
    }
    if (received === undefined) throw new Error('sync call: the flag was raised without a reply');
    const reply = received.message as SyncReply<R>;
    if ('error' in reply) throw Object.assign(new Error(reply.error.message), { name: reply.error.name, code: reply.error.code, errno: reply.error.errno });
    return reply.ok;
  }
}

/** A shared flag for one channel. */
export function newSyncFlag(): SharedArrayBuffer {
  return new SharedArrayBuffer(4);
}

/**
 * The main thread's end: serves each request with `serve`, one at a time
 * (the caller blocks on each). Returns a function that stops serving.
 */
export function serveSyncCalls<Q, R>(port: MessagePort, flag: SharedArrayBuffer, serve: (request: Q) => Promise<R>): () => void {
  const signal = new Int32Array(flag);
  const onMessage = (request: Q): void => {
    serve(request).then(
      (ok) => reply({ ok }),
      (err: unknown) => {
        const e = err as { name?: string; code?: string; message?: string; errno?: string };
        reply({ error: { name: e.name ?? 'Error', code: e.code ?? 'ERR_IO', message: e.message ?? String(err), errno: e.errno } });
      },
    );
  };
  const reply = (r: SyncReply<R>): void => {
    port.postMessage(r);
    Atomics.store(signal, 0, REPLIED);
    Atomics.notify(signal, 0);
  };
  port.on('message', onMessage);
  return () => {
    port.off('message', onMessage);
    port.close();
  };
}
