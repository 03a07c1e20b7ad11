// What `varve` exits with, by what went wrong, so scripts can branch on it.
// The message printed with each names the cause in plain words.
import { CorruptionError, IOError, LockedError, NotFoundError, VarveError } from '../errors.js';

export const EXIT = {
  OK: 0,
  /** get found no such key. */
  NOT_FOUND: 1,
  /** Bad arguments: an unknown command or option, a missing argument. */
  USAGE: 2,
  /** No database in the directory given. */
  NO_DATABASE: 3,
  /** Another process (or this one) has the database open. */
  LOCKED: 4,
  /** Bytes on disk failed a checksum (verify found damage, or a read met it). */
  CORRUPTION: 5,
  /** The filesystem failed an operation. */
  IO: 6,
  /** Anything else: a bug, or an error without a better code. */
  FAILURE: 70,
} as const;

/** The command line could not be understood. */
export class UsageError extends VarveError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

/** The exit code and one-line message for an error a command threw. */
export function describeError(err: unknown): { code: number; message: string } {
  const text = err instanceof Error ? err.message : String(err);
  if (err instanceof UsageError) return { code: EXIT.USAGE, message: `${text}\nRun 'varve help' for usage.` };
  if (err instanceof NotFoundError) return { code: EXIT.NO_DATABASE, message: `no database: ${text}` };
  if (err instanceof LockedError) return { code: EXIT.LOCKED, message: `the database is locked (is another process using it?): ${text}` };
  if (err instanceof CorruptionError) return { code: EXIT.CORRUPTION, message: `corruption: ${text}\nRun 'varve verify <dir>' to list every damaged file.` };
  if (err instanceof IOError) return { code: EXIT.IO, message: `I/O error${err.errno === undefined ? '' : ` (${err.errno})`}: ${text}` };
  if (err instanceof VarveError && err.code === 'ERR_INVALID_ARGUMENT') return { code: EXIT.USAGE, message: text };
  // A system error on a file the user named (an export target that exists, an import file that does not).
  if (err instanceof Error && typeof (err as { syscall?: unknown }).syscall === 'string') return { code: EXIT.IO, message: text };
  return { code: EXIT.FAILURE, message: err instanceof Error && err.stack !== undefined ? err.stack : text };
}
