// varve serve: the Redis-protocol server over one varve database. It owns
// the database, the TCP listener, the metrics endpoint and the log, and
// closes them in order: stop accepting, end the clients, let the writes
// already issued commit, close the store.
import { createServer, type Server, type Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import { open, type Database } from '../db.js';
import { commandTable } from './commands/index.js';
import { Connection } from './connection.js';
import { infoText } from './info.js';
import { Keyspace } from './keyspace.js';
import { Metrics } from './metrics.js';
import { type ServerOptions, resolveServerOptions } from './options.js';
import type { Session } from './session.js';
import type { ServerState } from './state.js';
import { TurnEnd } from './turn.js';

export interface RunningServer {
  /** The port clients connect to (the one asked for, or the one picked for port 0). */
  readonly port: number;
  /** The metrics port, or undefined when metrics are off. */
  readonly metricsPort: number | undefined;
  readonly db: Database;
  readonly log: Logger;
  /** Stops accepting, ends the clients, waits for issued writes, closes the store. Idempotent. */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/** Starts a server; `log` defaults to pino on stdout at the options' level. */
export async function startServer(given: Partial<ServerOptions> & { dir: string }, log?: Logger): Promise<RunningServer> {
  const options = resolveServerOptions(given);
  const logger = log ?? pino({ level: options.logLevel, base: { pid: process.pid } });
  const db = await open(options.dir, { memoryBudget: options.memoryBudget });
  db.on('error', (err) => logger.error({ err }, 'the store failed in the background and refuses writes'));
  const turn = new TurnEnd();
  const keyspace = new Keyspace(db, options.appendfsync === 'always', turn);
  const sessions = new Set<Session>();
  const sockets = new Set<Socket>();
  const state: ServerState = { options, startedAt: Date.now(), sessions, counters: { connectionsReceived: 0, commandsProcessed: 0, rejectedConnections: 0 } };
  const metrics = new Metrics(db, () => sessions.size);
  const table = commandTable(infoText);
  const hooks = {
    unexpected: (err: unknown) => logger.error({ err }, 'a command failed unexpectedly'),
    finished: (name: string, seconds: number) => metrics.finished(name, seconds),
  };
  const onDrop = (session: Session, reason: string) => logger.warn({ client: session.id, addr: session.address, reason }, 'client dropped');
  let nextId = 0;

  const onSocketError = (err: Error) => logger.debug({ err: err.message }, 'client socket error');

  // Accepted paused: a connection may move to another socket before it is read (client-socket.ts).
  const tcp = createServer({ pauseOnConnect: true }, (accepted) => {
    state.counters.connectionsReceived++;
    if (sessions.size >= options.maxClients) {
      state.counters.rejectedConnections++;
      accepted.on('error', onSocketError);
      // Reading (and dropping) what the client sends lets its end close the socket.
      accepted.resume();
      accepted.end('-ERR max number of clients reached\r\n');
      return;
    }
    const connection = new Connection(accepted, ++nextId, { table, keyspace, server: state, hooks, turn, onDrop });
    const socket = connection.socket;
    socket.on('error', onSocketError);
    sessions.add(connection.session);
    sockets.add(socket);
    socket.on('close', () => {
      sessions.delete(connection.session);
      sockets.delete(socket);
    });
  });
  // The listener's own count leaves out connections moved to other sockets: it bounds those it still holds.
  tcp.maxConnections = options.maxClients + 64;

  let port: number;
  let metricsPort: number | undefined;
  try {
    port = await listen(tcp, options.port, options.host);
    if (options.metricsPort >= 0) metricsPort = await metrics.listen(options.host, options.metricsPort);
  } catch (err) {
    tcp.close();
    await metrics.close();
    await db.close();
    throw err;
  }
  logger.info({ host: options.host, port, metricsPort, dir: options.dir, appendfsync: options.appendfsync, memoryBudget: options.memoryBudget }, 'varve serve ready');

  let closing: Promise<void> | undefined;
  const close = async () => {
    logger.info('shutting down');
    await new Promise<void>((resolve) => {
      // The listener's count misses the clients' sockets (client-socket.ts): they are waited for here.
      let listening = true;
      const settled = () => {
        if (!listening && sockets.size === 0) resolve();
      };
      tcp.close(() => {
        listening = false;
        settled();
      });
      for (const socket of sockets) {
        socket.once('close', settled);
        socket.end();
      }
      // Clients that do not close their side are not waited for.
      setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, 1000).unref();
    });
    await keyspace.settled();
    await metrics.close();
    await db.close();
    logger.info('store closed');
  };
  return {
    port,
    metricsPort,
    db,
    log: logger,
    close: () => (closing ??= close()),
  };
}
