// Servers for the server tests: one per test file, on a free port, with
// metrics on another, logging nothing, on a fresh directory.
import { connect, type Socket } from 'node:net';
import { startServer, type RunningServer } from '../../src/server/server.js';
import type { ServerOptions } from '../../src/server/options.js';

export function startTestServer(dir: string, options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  return startServer({ dir, port: 0, metricsPort: 0, logLevel: 'silent', ...options });
}

/** A raw TCP connection and everything it has received so far. */
export async function rawClient(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => text, closed };
}

/** Resolves once `predicate` holds, polling; rejects after `ms`. */
export async function until(predicate: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
