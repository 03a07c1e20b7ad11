// varve's public entry point. The engine (open, put, get, ...) arrives with
// the engine issue; until then the package exposes its kernels and errors.
export * from './errors.js';
export { WriteBatch, BATCH_HEADER_SIZE } from './batch.js';
export * as wasm from './wasm/index.js';
export * from './keys.js';
