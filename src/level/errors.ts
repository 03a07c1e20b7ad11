// The Level ecosystem branches on `err.code` values of its own
// (LEVEL_CORRUPTION, LEVEL_LOCKED, ...). Engine errors crossing into the
// abstract-level face are re-coded here; the engine's error stays as `cause`.
import { VarveError } from '../errors.js';

/** An error as the Level ecosystem names it; `cause` is the engine's VarveError, if one was behind it. */
export class LevelError extends Error {
  readonly code: string;

  constructor(code: string, message: string, cause?: VarveError) {
    super(message, { cause });
    this.name = 'LevelError';
    this.code = code;
  }
}

/** An iterator call was aborted by its `signal` while in progress; named AbortError as the web platform's is. */
export class LevelAbortError extends LevelError {
  constructor() {
    super('LEVEL_ABORTED', 'Operation has been aborted');
    this.name = 'AbortError';
  }
}

const LEVEL_CODES: Record<string, string> = {
  ERR_CORRUPTION: 'LEVEL_CORRUPTION',
  ERR_IO: 'LEVEL_IO_ERROR',
  ERR_LOCKED: 'LEVEL_LOCKED',
  ERR_READ_ONLY: 'LEVEL_READONLY',
};

/** `err` re-coded for abstract-level when the engine threw it and Level has a name for it; otherwise `err` itself. */
export function levelError(err: unknown): unknown {
  if (!(err instanceof VarveError)) return err;
  const code = LEVEL_CODES[err.code];
  return code === undefined ? err : new LevelError(code, err.message, err);
}

/** Runs `fn`, re-coding what it throws or rejects with. */
export async function recoded<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw levelError(err);
  }
}
