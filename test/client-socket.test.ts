// readClientSocket, on both of its paths: a connection moved to a socket
// that reads into the shared buffer (Node, Deno), and the accepted socket
// read through 'data' events (a runtime whose handles lack user-buffer
// reads, as Bun's; made here by hiding the handle's useUserBuffer).
import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { readClientSocket } from '../src/server/client-socket.js';
import { until } from './support/server.js';

interface Accepted {
  socket: Socket;
  /** Whether the connection was moved off the accepted socket. */
  moved: boolean;
  chunks: Uint8Array[];
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((r) => server.close(r));
});

/** A server whose one client is read by readClientSocket, answering each chunk with its length; and that client. */
async function pair(hideUserBuffer: boolean): Promise<{ accepted: Promise<Accepted>; client: Socket }> {
  let resolve!: (a: Accepted) => void;
  const accepted = new Promise<Accepted>((r) => (resolve = r));
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    if (hideUserBuffer) Object.defineProperty((socket as unknown as { _handle: object })._handle, 'useUserBuffer', { value: undefined });
    const chunks: Uint8Array[] = [];
    const reading = readClientSocket(socket, (chunk) => {
      chunks.push(chunk);
      reading.write(`${chunk.length}\n`);
    });
    resolve({ socket: reading, moved: reading !== socket, chunks });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  client.on('error', () => {});
  await once(client, 'connect');
  return { accepted, client };
}

for (const [path, hide] of [['moved to a socket reading into the shared buffer', false], ["read through the accepted socket's data events", true]] as const) {
  describe(`readClientSocket: ${path}`, () => {
    it('hands over every byte in order, each chunk kept as it arrived while later reads come in', async () => {
      const { accepted, client } = await pair(hide);
      const { chunks, moved } = await accepted;
      let answers = '';
      client.on('data', (c: Buffer) => (answers += c.toString()));
      const received = () => chunks.reduce((n, c) => n + c.length, 0);
      const sent: Buffer[] = [];
      // Messages of different sizes and contents, each sent once the previous one was read, so each is its own read.
      for (let i = 0; i < 40; i++) {
        const message = Buffer.alloc(1 + ((i * 997) % 3000), i + 1);
        sent.push(message);
        client.write(message);
        const expected = sent.reduce((n, m) => n + m.length, 0);
        await until(() => received() === expected);
      }
      // A large write arrives in many reads, each its own chunk.
      const large = Buffer.alloc(1024 * 1024, 0xab);
      sent.push(large);
      client.write(large);
      const total = sent.reduce((n, m) => n + m.length, 0);
      await until(() => received() === total);
      expect(moved).toBe(!hide);
      expect(Buffer.concat(chunks).equals(Buffer.concat(sent))).toBe(true);
      expect(chunks.length).toBeGreaterThan(40);
      // The socket returned is the one that writes to the client.
      await until(() => answers.split('\n').length > chunks.length);
      expect(answers).toBe(chunks.map((c) => `${c.length}\n`).join(''));
      client.destroy();
    });

    it('reads nothing while paused, and all of it once resumed; the client closing ends and closes the socket', async () => {
      const { accepted, client } = await pair(hide);
      const { socket, chunks } = await accepted;
      socket.pause();
      client.write('while paused');
      await new Promise((r) => setTimeout(r, 100));
      expect(chunks).toEqual([]);
      socket.resume();
      await until(() => Buffer.concat(chunks).toString() === 'while paused');
      const closed = once(socket, 'close');
      client.end();
      await closed;
    });
  });
}
