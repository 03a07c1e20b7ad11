// The one door between the engine and the disk. Every file the engine
// touches goes through a FileSystem, so tests can substitute one that
// injects faults or simulates a machine crash (dropping unsynced data).
//
// Synchronous calls are used where the work is short and on the calling
// thread anyway (appends handed to the OS, positional reads that mostly hit
// the page cache); fsync has an asynchronous form so the event loop keeps
// running while the disk works, and group commit can gather writers.

/** An open file. Positions and lengths are byte counts below 2^53. */
export interface FileHandle {
  readonly path: string;
  /** Reads up to `length` bytes at `position` into `buffer[offset..]`; returns the count read (0 at EOF). */
  readSync(buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** As readSync, off the calling thread (for large reads: compaction inputs). */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Writes all `length` bytes of `buffer[offset..]` at `position`, or at the end when position is null. */
  writeSync(buffer: Uint8Array, offset: number, length: number, position: number | null): void;
  /** As writeSync, off the calling thread. */
  write(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<void>;
  /** fdatasync: data and the metadata needed to read it back are durable. */
  datasync(): Promise<void>;
  datasyncSync(): void;
  /** Current size in bytes. */
  size(): number;
  closeSync(): void;
}

export type OpenMode =
  /** read only; the file must exist */
  | 'read'
  /** create or truncate, then write */
  | 'write'
  /** create if missing, append at the end */
  | 'append';

/** A held LOCK file; released by `release` (and by the OS when the process dies). */
export interface FileLock {
  release(): void;
}

export interface FileSystem {
  open(path: string, mode: OpenMode): FileHandle;
  /** The whole file, for small files (CURRENT, WALs under replay). */
  readFile(path: string): Uint8Array;
  exists(path: string): boolean;
  /** Names (not paths) of the entries of `dir`. */
  readdir(dir: string): string[];
  mkdir(dir: string): void;
  /** Removes an empty directory, off the calling thread. */
  rmdir(dir: string): Promise<void>;
  rename(from: string, to: string): void;
  /** Removes a file, off the calling thread (freeing a large file's blocks takes milliseconds). */
  unlink(path: string): Promise<void>;
  /** Hard link; throws an IOError (errno EXDEV, EPERM, ...) where the filesystem cannot. */
  link(existing: string, newPath: string): void;
  /** fsync a directory, making entries created, renamed or removed in it durable; off the calling thread. */
  syncDir(dir: string): Promise<void>;
  /** Takes an exclusive lock on `path`, creating it; throws LockedError when held elsewhere. */
  lock(path: string): FileLock;
}
