/**
 * Every error varve throws is a VarveError with a stable `code`, so callers
 * can branch on `err.code` rather than on message text.
 */
export class VarveError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bytes failed a checksum or structural check; never returned as data. */
export class CorruptionError extends VarveError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CORRUPTION', message, options);
  }
}

/** A caller passed an argument or option varve cannot accept. */
export class InvalidArgumentError extends VarveError {
  constructor(message: string) {
    super('ERR_INVALID_ARGUMENT', message);
  }
}

/** WebAssembly linear memory could not grow to satisfy an allocation. */
export class WasmOutOfMemoryError extends VarveError {
  constructor(bytes?: number) {
    super('ERR_WASM_OUT_OF_MEMORY', `WebAssembly memory exhausted${bytes === undefined ? '' : ` allocating ${bytes} bytes`}`);
  }
}

/** A kernel aborted: a broken invariant inside the module, never bad input. */
export class WasmAbortError extends VarveError {
  constructor(message: string) {
    super('ERR_WASM_ABORT', message);
  }
}

/** A filesystem operation failed; `cause` holds the system error, `syscall`/`path` say which. */
export class IOError extends VarveError {
  readonly errno: string | undefined;
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_IO', message, options);
    const cause = options?.cause as { code?: unknown } | undefined;
    this.errno = typeof cause?.code === 'string' ? cause.code : undefined;
  }
}

/** The database (or an iterator, or a snapshot) was used after close. */
export class ClosedError extends VarveError {
  constructor(message = 'the database is closed') {
    super('ERR_CLOSED', message);
  }
}

/** Another open database, in this process or another, holds the directory's LOCK. */
export class LockedError extends VarveError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LOCKED', message, options);
  }
}

/** The database refuses writes after a WAL or MANIFEST write or sync failed. */
export class ReadOnlyError extends VarveError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_READ_ONLY', message, options);
  }
}

/** open() found no database and was told not to create one. */
export class NotFoundError extends VarveError {
  constructor(message: string) {
    super('ERR_NOT_FOUND', message);
  }
}

/** open() found a database and was told to fail if one exists. */
export class ExistsError extends VarveError {
  constructor(message: string) {
    super('ERR_EXISTS', message);
  }
}
