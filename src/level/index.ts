// varve/level: varve as an abstract-level database, for the Level ecosystem.
export { VarveLevel, type VarveLevelOptions } from './varve-level.js';
export { LevelError, LevelAbortError } from './errors.js';
export { VarveSnapshot } from './snapshot.js';
