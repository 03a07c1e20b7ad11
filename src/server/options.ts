// varve serve's options, their defaults (Redis's where Redis has one) and
// their validation.
import { InvalidArgumentError } from '../errors.js';
import { MAX_MEMORY_BUDGET, MIN_MEMORY_BUDGET } from '../options.js';

export interface ServerOptions {
  /** The database directory. */
  dir: string;
  /** Address to listen on. Default 127.0.0.1 (loopback only). */
  host: string;
  /** Default 6379. 0 picks a free port. */
  port: number;
  /** Clients must AUTH with this password. Default none. */
  requirepass: string | undefined;
  /**
   * With no password, refuse to listen beyond loopback (Redis's protected
   * mode, made a refusal to start). Default true.
   */
  protectedMode: boolean;
  /** 'always': a write is acknowledged after fdatasync; 'no': after the OS has it (survives a crash of the server). Default 'no'. */
  appendfsync: 'always' | 'no';
  /** Connections beyond this are refused with an error. Default 10000. */
  maxClients: number;
  /** Close a client idle this many seconds; 0 never. Default 0. */
  idleTimeoutSeconds: number;
  /** Largest bulk string in a request. Default 512 MiB. */
  maxBulkLength: number;
  /** Longest inline request or header line. Default 64 KiB. */
  maxInlineLength: number;
  /** Requests of one connection parsed and not yet answered before reading from it pauses. Default 1024. */
  maxPipeline: number;
  /** A client whose unsent replies exceed this many bytes is disconnected. Default 512 MiB. */
  maxOutputBuffer: number;
  /** Port of the Prometheus /metrics endpoint (on `host`); -1 none. Default 9121. */
  metricsPort: number;
  /** pino's level: fatal, error, warn, info, debug, trace or silent. Default info. */
  logLevel: string;
  /**
   * The store's memoryBudget (memtables and block cache). Default 512 MiB:
   * a server is long-lived and usually has the machine to itself, where the
   * library's default (32 MiB) suits a store embedded in another program.
   * It gives 64 MiB memtables (RocksDB's default write buffer) and a
   * 128 MiB block cache. A get the memtable answers costs less than one a
   * table answers, and fewer flushes leave fewer level-0 tables for the
   * first reads after a burst of writes to look past and then compact.
   */
  memoryBudget: number;
}

export const SERVER_DEFAULTS: Omit<ServerOptions, 'dir'> = {
  host: '127.0.0.1',
  port: 6379,
  requirepass: undefined,
  protectedMode: true,
  appendfsync: 'no',
  maxClients: 10_000,
  idleTimeoutSeconds: 0,
  maxBulkLength: 512 * 1024 * 1024,
  maxInlineLength: 64 * 1024,
  maxPipeline: 1024,
  maxOutputBuffer: 512 * 1024 * 1024,
  metricsPort: 9121,
  logLevel: 'info',
  memoryBudget: 512 * 1024 * 1024,
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integerIn(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function resolveServerOptions(given: Partial<ServerOptions> & { dir: string }): ServerOptions {
  const o: ServerOptions = { ...SERVER_DEFAULTS, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)), dir: given.dir } as ServerOptions;
  if (typeof o.dir !== 'string' || o.dir === '') throw new InvalidArgumentError('a data directory is required');
  integerIn('port', o.port, 0, 65535);
  integerIn('maxclients', o.maxClients, 1, 1_000_000);
  integerIn('timeout', o.idleTimeoutSeconds, 0, 365 * 86400);
  integerIn('proto-max-bulk-len', o.maxBulkLength, 1024 * 1024, 2 ** 31 - 1);
  integerIn('max inline length', o.maxInlineLength, 1024, 64 * 1024 * 1024);
  integerIn('max pipeline', o.maxPipeline, 1, 1_000_000);
  integerIn('max output buffer', o.maxOutputBuffer, 1024 * 1024, 2 ** 40);
  integerIn('metrics port', o.metricsPort, -1, 65535);
  integerIn('memory budget', o.memoryBudget, MIN_MEMORY_BUDGET, MAX_MEMORY_BUDGET);
  if (o.appendfsync !== 'always' && o.appendfsync !== 'no') throw new InvalidArgumentError(`appendfsync must be always or no, got ${String(o.appendfsync)}`);
  if (!LOG_LEVELS.includes(o.logLevel)) throw new InvalidArgumentError(`log level must be one of ${LOG_LEVELS.join(', ')}, got ${o.logLevel}`);
  if (o.requirepass === '') throw new InvalidArgumentError('requirepass must not be empty');
  if (o.protectedMode && o.requirepass === undefined && !isLoopback(o.host)) {
    throw new InvalidArgumentError(
      `refusing to listen on ${o.host} without a password: anyone who can reach it could read and write the store. Set --requirepass, or bind to 127.0.0.1, or pass --protected-mode no if the network is trusted.`,
    );
  }
  return o;
}
