// What commands may ask of the server as a whole: its options, its clients
// (CLIENT LIST, INFO clients), its counters (INFO stats).
import type { ServerOptions } from './options.js';
import type { Session } from './session.js';

export interface ServerState {
  readonly options: ServerOptions;
  readonly startedAt: number;
  /** Every open connection's session. */
  readonly sessions: ReadonlySet<Session>;
  readonly counters: { connectionsReceived: number; commandsProcessed: number; rejectedConnections: number };
}
