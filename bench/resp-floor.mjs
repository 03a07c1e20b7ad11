// The floor under varve serve: a Node server with varve's RESP parser that
// answers every request +OK, with one socket write per chunk read, and no
// commands, store or metrics. It reads its clients as varve serve does
// (src/server/client-socket.ts). What redis-benchmark reaches against it is
// what node:net and the parser leave for any Node server on this machine.
//
// Usage (after npm run build): node bench/resp-floor.mjs <port>
import { createServer } from 'node:net';
import { readClientSocket } from '../dist/server/client-socket.js';
import { RespParser } from '../dist/server/resp/parser.js';

const port = Number(process.argv[2] ?? 7000);
const server = createServer({ pauseOnConnect: true }, (accepted) => {
  const parser = new RespParser({ maxBulkLength: 512 * 1024 * 1024, maxInlineLength: 64 * 1024, maxArguments: 1024 * 1024 });
  const socket = readClientSocket(accepted, (chunk) => {
    const requests = parser.push(chunk).length;
    if (requests > 0) socket.write('+OK\r\n'.repeat(requests));
  });
  socket.setNoDelay(true);
  socket.on('error', () => {});
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
