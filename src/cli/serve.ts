// `varve serve [dir]`: the Redis-protocol server until SIGINT or SIGTERM,
// then a clean close of the store.
import process from 'node:process';
import { startServer } from '../server/server.js';
import type { ServerOptions } from '../server/options.js';
import { EXIT } from './exit-codes.js';

/** The directory `npm start` serves when none is given. */
export const DEFAULT_DATA_DIR = '.varve-data';

export async function serve(options: Partial<ServerOptions> & { dir: string }): Promise<number> {
  // Listening before the server starts: a signal during startup closes it as soon as it is up.
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const server = await startServer(options);
  const signal = await signalled;
  server.log.info({ signal }, 'signal received');
  await server.close();
  return EXIT.OK;
}
