// `varve serve [dir]`: the Redis-protocol server until SIGINT or SIGTERM,
// then a clean close of the store.
import process from 'node:process';
import { setFlagsFromString } from 'node:v8';
import { startServer } from '../server/server.js';
import type { ServerOptions } from '../server/options.js';
import { EXIT } from './exit-codes.js';

/** The directory `npm start` serves when none is given. */
export const DEFAULT_DATA_DIR = '.varve-data';

/**
 * V8's budget for the bytecode inlined into one optimized function, below
 * its default of 920. A server's first seconds under load are spent as much
 * compiling as serving: in the first GET run after a SET run (redis-benchmark
 * -P 16, 2 cores), TurboFan took 0.9 s of CPU beside the main thread; at 200
 * it takes 0.5-0.6 s, and in runs side by side that GET run served 10-20%
 * more requests a second, with no loss once warm. The process is the
 * server's own, so the flag harms no embedder; a runtime without V8's flags
 * (Bun) ignores it.
 */
const INLINED_BYTECODE_BUDGET = 200;

export async function serve(options: Partial<ServerOptions> & { dir: string }): Promise<number> {
  try {
    setFlagsFromString(`--max-inlined-bytecode-size-cumulative=${INLINED_BYTECODE_BUDGET}`);
  } catch {
    // Not a V8 runtime: nothing to tune.
  }
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
